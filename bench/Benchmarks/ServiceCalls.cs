using System.Text;
using System.Text.Json;
using TrainingService.ProcessTests;

namespace TrainingService.Bench;

/// <summary>The few calls the benchmarks make on the service they measure.</summary>
public static class ServiceCalls
{
    public static async Task<Guid> SubmitAsync(this ServiceProcess service, string spec)
    {
        using var response = await service.Client.PostAsync("/api/runs", new StringContent(spec, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /api/runs: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
    }

    public static async Task<JsonElement> GetJsonAsync(this ServiceProcess service, string path)
    {
        var body = await service.Client.GetStringAsync(path);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Polls the run until it ends; throws unless it succeeded.</summary>
    public static async Task<JsonElement> WaitForSuccessAsync(this ServiceProcess service, Guid id, TimeSpan patience, int pollMs = 50)
    {
        var until = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < until)
        {
            var run = await service.GetJsonAsync($"/api/runs/{id}");
            var status = run.GetProperty("status").GetString();
            if (status == "succeeded") return run;
            if (status is "failed" or "cancelled") throw new InvalidOperationException($"run {id} {status}: {run.GetProperty("error")}");
            await Task.Delay(pollMs);
        }
        throw new TimeoutException($"run {id} did not finish within {patience}");
    }
}
