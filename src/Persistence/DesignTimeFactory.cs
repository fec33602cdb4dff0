using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using TrainingService.Persistence.Postgres;

namespace TrainingService.Persistence;

/// <summary>Lets <c>dotnet ef migrations add X --context TrainingDbContext</c> build the SQLite context without
/// starting the web app.</summary>
public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<TrainingDbContext>
{
    public TrainingDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<TrainingDbContext>();
        DatabaseSetup.ConfigureSqlite(options, "Data Source=design-time.db");
        return new TrainingDbContext(options.Options);
    }
}

/// <summary>The same for <c>--context PostgresTrainingDbContext --output-dir MigrationsPostgres</c>; generating a
/// migration does not connect, so the connection string is only a placeholder.</summary>
public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresTrainingDbContext>
{
    public PostgresTrainingDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<PostgresTrainingDbContext>();
        DatabaseSetup.ConfigurePostgres(options, "Host=localhost;Database=design_time");
        return new PostgresTrainingDbContext(options.Options);
    }
}
