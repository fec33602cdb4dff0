using Microsoft.EntityFrameworkCore;
using TrainingService.Persistence.Runs;

namespace TrainingService.Persistence;

/// <summary>The runs database. This type carries the SQLite migrations (<c>Migrations/</c>);
/// <see cref="Postgres.PostgresTrainingDbContext"/> derives from it only to carry PostgreSQL's own
/// (<c>MigrationsPostgres/</c>), since EF picks a context's migrations by its exact type.</summary>
public class TrainingDbContext : DbContext
{
    public TrainingDbContext(DbContextOptions<TrainingDbContext> options) : base(options)
    {
    }

    protected TrainingDbContext(DbContextOptions options) : base(options)
    {
    }

    public DbSet<Run> Runs => Set<Run>();
    public DbSet<EpochMetric> EpochMetrics => Set<EpochMetric>();
    public DbSet<RunWeights> RunWeights => Set<RunWeights>();
    public DbSet<Tuning.Sweep> Sweeps => Set<Tuning.Sweep>();
    public DbSet<Tuning.SweepTrial> SweepTrials => Set<Tuning.SweepTrial>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(TrainingDbContext).Assembly);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot order or compare DateTimeOffset natively; store UTC ticks so ORDER BY and < work in SQL.
        // PostgreSQL keeps the same ticks, so every query and stored value means the same on both providers.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetTicksConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetTicksConverter>();
    }
}
