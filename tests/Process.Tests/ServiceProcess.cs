using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TrainingService.ProcessTests;

/// <summary>The built service (<c>src/Api/bin/…/TrainingService.Api.dll</c>) run as a separate process on a loopback
/// port, the way it runs in production: for tests that kill it, restart it, and talk to it over real HTTP, and for the
/// benchmarks (compiled into bench/Benchmarks too), which measure it.</summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ServiceProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(120) };
        process.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";
    public HttpClient Client { get; }
    public int Pid => _process.Id;

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    public static Task<ServiceProcess> StartAsync(string storageRoot, params (string Key, string Value)[] settings) =>
        StartAsync(storageRoot, (IEnumerable<(string, string)>)settings);

    /// <summary>Starts the service on <paramref name="storageRoot"/> and waits until it is healthy; a setting given
    /// here overrides the defaults below (logging, auth).</summary>
    public static async Task<ServiceProcess> StartAsync(string storageRoot, IEnumerable<(string Key, string Value)> settings)
    {
        var dll = FindServiceDll();
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
        info.Environment["Logging__LogLevel__Default"] = "Information";
        info.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        info.Environment["Logging__LogLevel__Microsoft.EntityFrameworkCore"] = "Warning";
        info.Environment["Auth__Mode"] = "none"; // loopback only, as the demo runs it
        foreach (var (k, v) in settings) info.Environment[k.Replace(":", "__")] = v;
        var service = new ServiceProcess(Process.Start(info)!, port);
        var until = DateTime.UtcNow.AddSeconds(180);   // generous: several services may start at once on a loaded machine
        while (DateTime.UtcNow < until)
        {
            if (service._process.HasExited)
            {
                // Without a timeout, WaitForExit also waits for the redirected output to be read to its end: the
                // process may have exited with its last line still in the pipe.
                service._process.WaitForExit();
                throw new InvalidOperationException($"service exited with {service._process.ExitCode}:\n{service.Log}");
            }
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

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, then wait for a clean exit; returns the exit code.</summary>
    public int Stop(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) kill.WaitForExit();
        if (!_process.WaitForExit(timeout)) throw new TimeoutException($"service did not stop within {timeout}:\n{Log}");
        return _process.ExitCode;
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

    /// <summary>The service as built next to these tests (same configuration), found from the repository root.</summary>
    internal static string FindServiceDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "TrainingService.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var dll = Path.Combine(dir.FullName, "src", "Api", "bin", configuration, "net10.0", "TrainingService.Api.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("build the service first", dll);
    }
}
