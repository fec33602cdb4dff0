using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using TrainingService.Api.Tests;

namespace TrainingService.ProcessTests;

/// <summary>The built service as a separate process: the first-key command and the refusal of an open, non-loopback service.</summary>
public sealed class AuthProcessTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ts-auth-process", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private (int ExitCode, string Stdout, string Stderr) Run(Dictionary<string, string> environment, params string[] args)
    {
        var dll = ServiceProcess.FindServiceDll();
        var info = new ProcessStartInfo("dotnet", [dll, .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.Environment["Storage__Root"] = _root;
        foreach (var (k, v) in environment) info.Environment[k] = v;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
        {
            process.Kill();
            throw new TimeoutException("the command did not exit");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public async Task KeysCreate_OnAFreshInstall_PrintsAKeyThatOpensTheService()
    {
        var (code, stdout, stderr) = Run([], "keys", "create", "--name", "admin", "--scopes", "admin");
        Assert.True(code == 0, stderr);
        var key = stdout.Trim();
        Assert.StartsWith("tsk_", key);
        Assert.DoesNotContain(key, stderr);

        using var service = await ServiceProcess.StartAsync(_root, ("Auth:Mode", "keys"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await service.Client.GetAsync("/api/runs")).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/keys");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await service.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(key, service.Log);
    }

    [Fact]
    public void KeysCreate_WithAnUnknownScope_ExitsWithTheField()
    {
        var (code, stdout, stderr) = Run([], "keys", "create", "--name", "admin", "--scopes", "root");
        Assert.Equal(2, code);
        Assert.Equal("", stdout.Trim());
        Assert.Contains("--scopes", stderr);
    }

    [Fact]
    public void ModeNone_OnANonLoopbackAddress_RefusesToStart()
    {
        var (code, _, stderr) = Run(new() { ["Auth__Mode"] = "none", ["ASPNETCORE_URLS"] = "http://0.0.0.0:0" });
        Assert.NotEqual(0, code);
        Assert.Contains("Auth:Mode=none is only allowed", stderr);
    }
}
