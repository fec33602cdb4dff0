using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Sweeps;

namespace TrainingService.Api.Tests;

/// <summary>The search space on its own: paths, grid order, seeded draws, representatives, the ASHA cutoff.</summary>
public sealed class SearchSpaceTests
{
    private static SearchSpace Parse(string json)
    {
        var errors = new ValidationErrors();
        using var doc = JsonDocument.Parse(json);
        return SearchSpace.Parse(doc.RootElement, "space", errors) ?? throw new Xunit.Sdk.XunitException(JsonSerializer.Serialize(errors.ToDictionary()));
    }

    [Fact]
    public void Path_WritesIntoObjectsAndArrays_AndTurnsAStringSectionIntoItsObjectForm()
    {
        var spec = JsonNode.Parse("""{"model": {"layers": [{"type": "Dense", "units": 8}]}, "compile": {"optimizer": "adam"}}""")!.AsObject();
        Assert.Null(SpecPath.TryParse("model.layers[0].units", out _)!.Apply(spec, 64));
        Assert.Null(SpecPath.TryParse("compile.optimizer.learning_rate", out _)!.Apply(spec, 0.01));
        Assert.Equal("""{"model":{"layers":[{"type":"Dense","units":64}]},"compile":{"optimizer":{"type":"adam","learning_rate":0.01}}}""", spec.ToJsonString());

        Assert.Contains("out of range", SpecPath.TryParse("model.layers[3].units", out _)!.Apply(spec, 1));
        Assert.Contains("has no 'fit'", SpecPath.TryParse("fit.batch_size", out _)!.Apply(spec, 1) ?? "");
        Assert.Null(SpecPath.TryParse("name", out var e1));
        Assert.Contains("must start with", e1);
        Assert.Null(SpecPath.TryParse("model..units", out var e2));
        Assert.NotNull(e2);
    }

    [Fact]
    public void Grid_IsTheCartesianProduct_LastPathFastest()
    {
        var space = Parse("""{"a.x": {"choice": [1, 2]}, "a.y": {"choice": ["p", "q", "r"]}}""".Replace("a.", "fit."));
        Assert.Equal(6, space.GridSize);
        var points = space.Points(grid: true, count: 100, seed: 0).Select(p => p.ToJsonString()).ToList();
        Assert.Equal(
            ["""{"fit.x":1,"fit.y":"p"}""", """{"fit.x":1,"fit.y":"q"}""", """{"fit.x":1,"fit.y":"r"}""",
             """{"fit.x":2,"fit.y":"p"}""", """{"fit.x":2,"fit.y":"q"}""", """{"fit.x":2,"fit.y":"r"}"""], points);
        Assert.Equal(points.Take(4), space.Points(grid: true, count: 4, seed: 0).Select(p => p.ToJsonString()));
    }

    [Fact]
    public void Draws_AreSeeded_AndStayInTheirDomains()
    {
        var space = Parse("""{"fit.a": {"log_uniform": [0.0001, 0.01]}, "fit.b": {"uniform": [0, 0.5]}, "fit.c": {"int_uniform": [3, 5]}}""");
        var first = space.Points(false, 200, seed: 4);
        Assert.Equal(first.Select(p => p.ToJsonString()), space.Points(false, 200, seed: 4).Select(p => p.ToJsonString()));
        var a = first.Select(p => p["fit.a"]!.GetValue<double>()).ToList();
        Assert.All(a, v => Assert.InRange(v, 0.0001, 0.01));
        Assert.InRange(a.Count(v => v < 0.001), 70, 130); // log-uniform: half the draws below the geometric middle
        Assert.All(first, p => Assert.InRange(p["fit.b"]!.GetValue<double>(), 0, 0.5));
        Assert.Equal([3, 4, 5], first.Select(p => p["fit.c"]!.GetValue<int>()).Distinct().Order());
    }

    [Fact]
    public void Representatives_IncludeBothBounds_AndANonIntegerInnerPointOfARange()
    {
        var values = new UniformDomain(8, 64).Representatives().Select(v => v!.GetValue<double>()).ToList();
        Assert.Contains(8.0, values);
        Assert.Contains(64.0, values);
        Assert.Contains(values, v => v > 8 && v < 64 && v != Math.Floor(v));
    }

    [Fact]
    public void AshaCutoff_IsNumpysLinearPercentile()
    {
        Assert.Null(AshaScheduler.Cutoff([], 3));
        Assert.Equal(0.7, AshaScheduler.Cutoff([0.7], 3));
        // np.percentile([0.1, 0.2, 0.3, 0.4], 66.666…) = 0.3
        Assert.Equal(0.3, AshaScheduler.Cutoff([0.4, 0.1, 0.3, 0.2], 3)!.Value, 12);
        // np.percentile([1, 2], 50) = 1.5
        Assert.Equal(1.5, AshaScheduler.Cutoff([2, 1], 2)!.Value, 12);
        Assert.Equal([1, 3, 9], new AshaSettings(1, 3).Rungs(27));
        Assert.Equal([2, 4], new AshaSettings(2, 2).Rungs(8));
    }
}
