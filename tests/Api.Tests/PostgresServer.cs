using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace TrainingService.Api.Tests;

/// <summary>
/// A real PostgreSQL server for the tests: the one <c>TEST_POSTGRES</c> names (a connection string whose user may
/// create databases), or else a throwaway cluster this process creates with Debian's <c>initdb</c> in a temporary
/// folder, on a free port, and stops when disposed. Each test gets its own database (<see cref="NewDatabase"/>).
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private const string Binaries = "/usr/lib/postgresql/15/bin";
    private readonly string? _folder;

    public PostgresServer()
    {
        var given = Environment.GetEnvironmentVariable("TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(given))
        {
            AdminConnectionString = given;
            return;
        }
        if (!File.Exists(Path.Combine(Binaries, "initdb")))
            throw new InvalidOperationException("PostgreSQL 15 is not installed (apt-get install -y postgresql), and TEST_POSTGRES is not set.");

        _folder = Path.Combine(Path.GetTempPath(), "ts-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_folder);
        var port = FreePort();
        // initdb refuses to run as root: the cluster then belongs to the postgres user Debian's package creates.
        var asRoot = Environment.UserName == "root";
        if (asRoot) Run("chown", "postgres:postgres", _folder);
        var data = Path.Combine(_folder, "data");
        RunPostgres(asRoot, "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8");
        // Durability is not what these tests check; without fsync a test database costs a fraction of the time.
        RunPostgres(asRoot, "pg_ctl", "-D", data, "-l", Path.Combine(_folder, "server.log"), "-w", "-t", "60", "-o",
            $"-p {port} -k {_folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400",
            "start");
        AdminConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false";
    }

    /// <summary>Connects to the <c>postgres</c> database as a user that may create databases.</summary>
    public string AdminConnectionString { get; }

    /// <summary>A connection string to a database name no one used yet; the service creates it at start-up.</summary>
    public string NewDatabase() => new NpgsqlConnectionStringBuilder(AdminConnectionString)
    {
        Database = "ts_" + Guid.NewGuid().ToString("N")[..16],
        Pooling = true,
    }.ToString();

    /// <summary>Drops a database made by <see cref="NewDatabase"/>, closing what still uses it.</summary>
    public void Drop(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        using var connection = new NpgsqlConnection(AdminConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)";
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        if (_folder is null) return;
        NpgsqlConnection.ClearAllPools();
        try
        {
            RunPostgres(Environment.UserName == "root", "pg_ctl", "-D", Path.Combine(_folder, "data"), "-m", "immediate", "-w", "stop");
        }
        finally
        {
            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static void RunPostgres(bool asRoot, string program, params string[] args)
    {
        var path = Path.Combine(Binaries, program);
        if (asRoot) Run("runuser", ["-u", "postgres", "--", path, .. args]);
        else Run(path, args);
    }

    private static void Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000)) process.Kill();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited with {process.ExitCode}:\n{output.Result}\n{error.Result}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>All PostgreSQL test classes share one server (one cluster start per test run).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
