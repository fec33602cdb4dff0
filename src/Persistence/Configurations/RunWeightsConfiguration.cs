using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TrainingService.Persistence.Runs;

namespace TrainingService.Persistence.Configurations;

public sealed class RunWeightsConfiguration : IEntityTypeConfiguration<RunWeights>
{
    public void Configure(EntityTypeBuilder<RunWeights> builder)
    {
        builder.ToTable("run_weights");
        builder.HasKey(w => new { w.RunId, w.Kind });
        builder.Property(w => w.Kind).HasConversion(k => k.ToString().ToLowerInvariant(), k => Enum.Parse<WeightsKind>(k, true)).HasMaxLength(16);
    }
}
