using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TrainingService.Persistence.Runs;

namespace TrainingService.Persistence.Configurations;

public sealed class EpochMetricConfiguration : IEntityTypeConfiguration<EpochMetric>
{
    public void Configure(EntityTypeBuilder<EpochMetric> builder)
    {
        builder.ToTable("epoch_metrics");
        // The key is the guarantee that an epoch is recorded at most once, whatever the executors do.
        builder.HasKey(m => new { m.RunId, m.Epoch });
    }
}
