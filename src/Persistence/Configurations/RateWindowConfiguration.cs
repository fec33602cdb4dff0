using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TrainingService.Persistence.Limits;

namespace TrainingService.Persistence.Configurations;

public sealed class RateWindowConfiguration : IEntityTypeConfiguration<RateWindow>
{
    /// <summary>The table the UPSERT names; its key is the conflict target, so its columns must match that statement.</summary>
    public const string Table = "rate_windows";

    public void Configure(EntityTypeBuilder<RateWindow> builder)
    {
        builder.ToTable(Table);
        builder.HasKey(w => new { w.Owner, w.Policy, w.WindowStart });
        builder.Property(w => w.Owner).HasMaxLength(64);
        builder.Property(w => w.Policy).HasMaxLength(32);
        // The clean-up deletes by age across all owners.
        builder.HasIndex(w => w.WindowStart);
    }
}
