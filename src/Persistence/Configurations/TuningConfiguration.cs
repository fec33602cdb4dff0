using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;

namespace TrainingService.Persistence.Configurations;

/// <summary>How runs hang together for tuning: folds under their cross-validation run, trials under their sweep.
/// Deleting the parent takes the children with it (a running child then loses its lease and stops).</summary>
public sealed class RunFamilyConfiguration : IEntityTypeConfiguration<Run>
{
    public void Configure(EntityTypeBuilder<Run> builder)
    {
        builder.Property(r => r.Role).HasMaxLength(32);
        builder.HasOne<Run>().WithMany().HasForeignKey(r => r.ParentRunId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Sweep>().WithMany().HasForeignKey(r => r.SweepId).OnDelete(DeleteBehavior.Cascade);
        // One run per fold: a second coordinator expanding the same run cannot add folds twice.
        builder.HasIndex(r => new { r.ParentRunId, r.Role, r.FoldIndex }).IsUnique();
        builder.HasIndex(r => new { r.Role, r.Status });
    }
}

public sealed class SweepConfiguration : IEntityTypeConfiguration<Sweep>
{
    public void Configure(EntityTypeBuilder<Sweep> builder)
    {
        builder.ToTable("sweeps");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Name).HasMaxLength(64);
        builder.Property(s => s.Owner).HasMaxLength(64);
        builder.Property(s => s.Status).HasConversion(s => s.ToWire(), s => Enum.Parse<RunStatus>(s, true)).HasMaxLength(16);
        builder.Property(s => s.Method).HasMaxLength(16);
        builder.Property(s => s.ObjectiveMetric).HasMaxLength(128);
        builder.Property(s => s.ObjectiveMode).HasMaxLength(8);
        builder.Property(s => s.PromoteTo).HasMaxLength(64);
        builder.HasIndex(s => s.CreatedAt);
        builder.HasIndex(s => s.Status);
        builder.HasMany<SweepTrial>().WithOne().HasForeignKey(t => t.SweepId).OnDelete(DeleteBehavior.Cascade);
    }
}

public sealed class SweepTrialConfiguration : IEntityTypeConfiguration<SweepTrial>
{
    public void Configure(EntityTypeBuilder<SweepTrial> builder)
    {
        builder.ToTable("sweep_trials");
        builder.HasKey(t => new { t.SweepId, t.Number });
        builder.HasOne<Run>().WithMany().HasForeignKey(t => t.RunId).OnDelete(DeleteBehavior.SetNull);
        builder.HasIndex(t => t.RunId).IsUnique();
    }
}
