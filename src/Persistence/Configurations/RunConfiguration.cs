using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TrainingService.Persistence.Runs;

namespace TrainingService.Persistence.Configurations;

public sealed class RunConfiguration : IEntityTypeConfiguration<Run>
{
    public void Configure(EntityTypeBuilder<Run> builder)
    {
        builder.ToTable("runs");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Name).HasMaxLength(64);
        builder.Property(r => r.Status).HasConversion(s => s.ToWire(), s => Enum.Parse<RunStatus>(s, true)).HasMaxLength(16);
        builder.Property(r => r.IdempotencyKey).HasMaxLength(200);
        builder.Property(r => r.RequestHash).HasMaxLength(64);
        builder.Property(r => r.LeaseOwner).HasMaxLength(200);
        builder.Property(r => r.Owner).HasMaxLength(64);

        builder.HasIndex(r => r.IdempotencyKey).IsUnique();
        builder.HasIndex(r => r.CreatedAt);
        builder.HasIndex(r => new { r.Status, r.CreatedAt });
        builder.HasIndex(r => new { r.Name, r.Status, r.FinishedAt });
        builder.HasIndex(r => new { r.Owner, r.Status });

        builder.HasMany<EpochMetric>().WithOne().HasForeignKey(m => m.RunId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany<RunWeights>().WithOne().HasForeignKey(w => w.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}
