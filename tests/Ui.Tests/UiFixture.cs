using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using TrainingService.ProcessTests;

namespace TrainingService.Ui.Tests;

/// <summary>One built service (a separate process on a free port, its own storage) and one headless Debian chromium,
/// shared by the browser tests. Playwright never downloads a browser here: it is pointed at /usr/bin/chromium.</summary>
public sealed class UiFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ui-tests-" + Guid.NewGuid().ToString("N"));
    private IPlaywright? _playwright;

    public ServiceProcess Service { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public string BaseUrl => $"http://127.0.0.1:{Service.Port}";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: apt-get install -y chromium (the README's apt-get line).");
        Directory.CreateDirectory(_root);
        Service = await ServiceProcess.StartAsync(_root, ("Training:CancelPollSeconds", "0.1"));
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
    }

    /// <summary>A fresh page that records every console error and uncaught exception.</summary>
    public async Task<(IPage Page, List<string> Errors)> NewPageAsync(int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height }, BaseURL = BaseUrl });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") lock (errors) errors.Add($"console: {m.Text}"); };
        page.PageError += (_, e) => { lock (errors) errors.Add($"page: {e}"); };
        return (page, errors);
    }

    public async Task<Guid> SubmitAsync(string json, string path = "/api/runs")
    {
        var response = await Service.Client.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("id").GetGuid();
    }

    public async Task<JsonElement> GetAsync(string path) =>
        await Service.Client.GetFromJsonAsync<JsonElement>(path);

    public async Task DisposeAsync()
    {
        if (_playwright is not null)
        {
            await Browser.DisposeAsync();
            _playwright.Dispose();
        }
        Service?.Dispose();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class UiCollection : ICollectionFixture<UiFixture>
{
    public const string Name = "ui";
}
