using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace TrainingService.Persistence;

/// <summary>Lets <c>dotnet ef migrations add</c> build the context without starting the web app.</summary>
public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<TrainingDbContext>
{
    public TrainingDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<TrainingDbContext>();
        DatabaseSetup.Configure(options, DatabaseSetup.SqliteProvider, "Data Source=design-time.db");
        return new TrainingDbContext(options.Options);
    }
}
