using Microsoft.EntityFrameworkCore;
using TrainingService.Persistence.Datasets;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Security;

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
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<AuditEntry> Audit => Set<AuditEntry>();
    public DbSet<DatasetUpload> DatasetUploads => Set<DatasetUpload>();
    public DbSet<Limits.RateWindow> RateWindows => Set<Limits.RateWindow>();

    /// <summary>
    /// When set, runs, sweeps and uploads of other owners do not exist for this context: queries, updates and deletes all
    /// skip them, so an endpoint cannot forget the check and another team's id answers "not found". Null (jobs,
    /// admins) sees everything.
    /// </summary>
    public string? VisibleOwner { get; set; }

    /// <summary>The owner written on new runs and sweeps that do not name one (the caller of the request).</summary>
    public string? CurrentOwner { get; set; }

    /// <summary>Scopes this context to a caller: <paramref name="owner"/> owns what it creates and, unless
    /// <paramref name="seesAll"/>, sees only its own rows.</summary>
    public TrainingDbContext ActAs(string? owner, bool seesAll)
    {
        CurrentOwner = owner;
        VisibleOwner = seesAll ? null : owner ?? "";
        return this;
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(TrainingDbContext).Assembly);
        modelBuilder.Entity<Run>().HasQueryFilter(r => VisibleOwner == null || r.Owner == VisibleOwner);
        modelBuilder.Entity<Tuning.Sweep>().HasQueryFilter(s => VisibleOwner == null || s.Owner == VisibleOwner);
        modelBuilder.Entity<DatasetUpload>().HasQueryFilter(u => VisibleOwner == null || u.Owner == VisibleOwner || u.Owner == DatasetUpload.SharedOwner);
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        StampOwners();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        StampOwners();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    private void StampOwners()
    {
        if (CurrentOwner is null) return;
        foreach (var entry in ChangeTracker.Entries<IOwned>())
        {
            if (entry.State == EntityState.Added && entry.Entity.Owner is null) entry.Entity.Owner = CurrentOwner;
        }
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot order or compare DateTimeOffset natively; store UTC ticks so ORDER BY and < work in SQL.
        // PostgreSQL keeps the same ticks, so every query and stored value means the same on both providers.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetTicksConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetTicksConverter>();
    }
}
