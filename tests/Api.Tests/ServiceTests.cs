namespace TrainingService.Api.Tests;

/// <summary>A test class whose every test gets a service of its own (<see cref="ServiceFactory"/>: a fresh storage root
/// and database, on SQLite, or on PostgreSQL when a subclass passes its <see cref="PostgresServer"/>), disposed after
/// the test.</summary>
public abstract class ServiceTests : IDisposable
{
    // Named as the field each test class had before, so the tests read unchanged.
    protected readonly ServiceFactory _factory;

    protected ServiceTests(PostgresServer? postgres, params (string Key, string Value)[] settings)
    {
        Postgres = postgres;
        _factory = new ServiceFactory(postgres, settings);
    }

    protected PostgresServer? Postgres { get; }

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }
}
