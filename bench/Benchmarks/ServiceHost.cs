using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace TrainingService.Bench;

/// <summary>The built service (<c>src/Api/bin/{cfg}/net10.0/TrainingService.Api.dll</c>) as its own process on a
/// loopback port, as in production and as tests/Api.Tests/ServiceProcess.cs runs it.</summary>
public sealed class ServiceHost : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ServiceHost(Process process, int port)
    {
        _process = process;
        Url = $"http://127.0.0.1:{port}";
        Client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromMinutes(5) };
        process.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Url { get; }
    public HttpClient Client { get; }
    public int Pid => _process.Id;

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    public static string Dll(BenchOptions o) => Path.Combine(o.RepoRoot, "src", "Api", "bin", o.Configuration, "net10.0", "TrainingService.Api.dll");

    public static async Task<ServiceHost> StartAsync(BenchOptions o, string storageRoot, IReadOnlyDictionary<string, string> settings)
    {
        var dll = Dll(o);
        if (!File.Exists(dll)) throw new FileNotFoundException($"build the service first (dotnet build -c {o.Configuration} src/Api)", dll);
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Storage__Root"] = storageRoot;
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Auth__Mode"] = "none"; // loopback only; the benchmark measures serving, not key lookups
        // One principal drives all the load: its request rates and run quota would measure the limiter, not the service.
        info.Environment["Requests__PredictionsPerMinute"] = "100000000";
        info.Environment["Requests__SubmissionsPerMinute"] = "100000000";
        info.Environment["Quotas__MaxActiveRuns"] = "100000";
        foreach (var (k, v) in settings) info.Environment[k.Replace(":", "__")] = v;
        var service = new ServiceHost(Process.Start(info)!, port);
        var until = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < until)
        {
            if (service._process.HasExited) throw new InvalidOperationException($"service exited with {service._process.ExitCode}:\n{service.Log}");
            try
            {
                if ((await service.Client.GetAsync("/health")).StatusCode == HttpStatusCode.OK) return service;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        service.Dispose();
        throw new TimeoutException($"service did not become healthy:\n{service.Log}");
    }

    /// <summary>Resident set now and its peak since start (VmRSS, VmHWM from /proc), in MiB.</summary>
    public (double Rss, double Peak) Memory()
    {
        double rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line) / 1024.0;
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kb(line) / 1024.0;
        }
        return (rss, peak);
        static long Kb(string line) => long.Parse(line.Split(':')[1].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<Guid> SubmitAsync(string spec)
    {
        using var response = await Client.PostAsync("/api/runs", new StringContent(spec, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /api/runs: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        var body = await Client.GetStringAsync(path);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Polls the run until it ends; throws unless it succeeded.</summary>
    public async Task<JsonElement> WaitForSuccessAsync(Guid id, TimeSpan patience, int pollMs = 50)
    {
        var until = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < until)
        {
            var run = await GetJsonAsync($"/api/runs/{id}");
            var status = run.GetProperty("status").GetString();
            if (status == "succeeded") return run;
            if (status is "failed" or "cancelled") throw new InvalidOperationException($"run {id} {status}: {run.GetProperty("error")}");
            await Task.Delay(pollMs);
        }
        throw new TimeoutException($"run {id} did not finish within {patience}");
    }

    /// <summary>SIGTERM, then wait for the process to exit.</summary>
    public void Stop()
    {
        if (_process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(30))) _process.Kill();
    }

    public void Dispose()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
