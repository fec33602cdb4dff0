using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using TrainingService.Api.Infrastructure;

namespace TrainingService.Api.Examples;

/// <summary>The request bodies in the repository's <c>examples/</c> folder, embedded in the assembly at build time
/// (one source: the files themselves), so clients and the web UI can start from them.</summary>
public static class ExamplesApi
{
    private const string Prefix = "examples/";

    private static readonly Lazy<IReadOnlyDictionary<string, string>> All = new(Load);

    public static IEndpointRouteBuilder MapExamplesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/examples").WithTags("Examples");
        api.MapGet("/", ListExamples).WithName("ListExamples").WithSummary("The example request bodies shipped with the service");
        api.MapGet("/{name}", GetExample).WithName("GetExample").WithSummary("One example request body, as JSON");
        return app;
    }

    public static Ok<IReadOnlyList<ExampleItem>> ListExamples() =>
        TypedResults.Ok<IReadOnlyList<ExampleItem>>(All.Value.Select(e => new ExampleItem(e.Key, KindOf(e.Value))).OrderBy(e => e.Name).ToList());

    public static Results<ContentHttpResult, ProblemHttpResult> GetExample(string name) =>
        All.Value.TryGetValue(name, out var text)
            ? TypedResults.Content(text, "application/json")
            : Problems.NotFound("Example not found", $"No example is named '{name}'. GET /api/examples lists them.");

    /// <summary>Which endpoint the body is for: a sweep (<c>space</c>), a prediction (<c>instances</c>) or a run.</summary>
    private static string KindOf(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        return root.TryGetProperty("space", out _) ? "sweep" : root.TryGetProperty("instances", out _) ? "predict" : "run";
    }

    private static IReadOnlyDictionary<string, string> Load()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            result[Path.GetFileNameWithoutExtension(resource[Prefix.Length..])] = reader.ReadToEnd();
        }
        return result;
    }
}

public sealed record ExampleItem(string Name, string Kind);
