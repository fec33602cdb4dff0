using System.Globalization;
using TrainingService.Api.Infrastructure;

namespace TrainingService.Api.Security;

/// <summary>
/// <c>dotnet TrainingService.Api.dll keys create --name admin --scopes admin [--owner team] [--expires 2027-01-01]</c>:
/// creates the first key (creating the database if needed), prints it on standard output and exits, so that a fresh
/// install can be secured without ever being open.
/// </summary>
public static class KeysCommand
{
    public static bool IsInvoked(string[] args) => args.Length > 0 && args[0] == "keys";

    /// <summary>Standard output carries the key alone, so that <c>key=$(… keys create …)</c> works.</summary>
    public static void LogToStandardError(WebApplicationBuilder builder) =>
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        if (args.Length < 2 || args[1] != "create")
        {
            await Console.Error.WriteLineAsync("usage: keys create --name NAME --scopes SCOPE[,SCOPE…] [--owner OWNER] [--expires DATE]");
            return 2;
        }
        string? Option(string name)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        var name = Option("name");
        var scopes = (Option("scopes") ?? "").Split([',', ' '], StringSplitOptions.RemoveEmptyEntries).ToList();
        var owner = Option("owner") ?? name;
        DateTimeOffset? expires = null;
        if (Option("expires") is { } text)
        {
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                await Console.Error.WriteLineAsync($"--expires: '{text}' is not a date (e.g. 2027-01-01 or 2027-01-01T12:00:00Z).");
                return 2;
            }
            expires = parsed;
        }
        var errors = KeysApi.Validate(name, scopes, owner, expires, DateTimeOffset.UtcNow).ToDictionary();
        if (errors.Count > 0)
        {
            foreach (var (field, messages) in errors) await Console.Error.WriteLineAsync($"--{field}: {string.Join(" ", messages)}");
            return 2;
        }
        await app.PrepareStorageAsync();
        var created = await app.Services.GetRequiredService<ApiKeyStore>().CreateAsync(name!, scopes, owner!, expires, "cli", CancellationToken.None);
        // The key alone on stdout (for scripts); what it is on stderr.
        Console.WriteLine(created.Secret);
        await Console.Error.WriteLineAsync($"created key {created.Row.Id} '{name}' for owner '{owner}' with scopes {string.Join(",", scopes)}" +
                                           (expires is null ? "" : $", expiring {expires:O}") + ". It is shown only now.");
        return 0;
    }
}
