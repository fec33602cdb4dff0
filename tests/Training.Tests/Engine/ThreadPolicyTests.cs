using TrainingService.Training.Engine;
using TrainingService.Training.Tests.Support;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Engine;

/// <summary>The fit's intra-op thread count: configured, or measured on its first steps and reported.</summary>
public class ThreadPolicyTests
{
    private const string Mlp = """{"input_shape": [8], "layers": [{"type": "Dense", "units": 16, "activation": "relu"}, {"type": "Dense", "units": 3, "activation": "softmax"}]}""";
    private const string Compile = """{"optimizer": "adam", "loss": "sparse_categorical_crossentropy"}""";

    [Fact]
    public void Fit_MeasuresOneAndMaxThreads_KeepsTheFasterAndReportsBoth()
    {
        using var data = Synthetic.Blobs(400);
        using var session = ModelSession.Create(SpecFiles.Plan(Mlp, Compile, """{"epochs": 2, "batch_size": 16, "seed": 3}"""));
        var before = get_num_threads();
        try
        {
            var choice = session.Fit(data, null, null, CancellationToken.None, threads: ThreadPolicy.Measured(2)).Threads!;

            Assert.Equal("measured", choice.ChosenBy);
            Assert.Equal([1, 2], choice.MeanStepMs!.Keys.Order());
            Assert.All(choice.MeanStepMs.Values, ms => Assert.True(ms > 0));
            // The faster mean wins (ties to fewer threads), and training goes on with it.
            var fastest = choice.MeanStepMs.OrderBy(m => m.Value).ThenBy(m => m.Key).First().Key;
            Assert.Equal(fastest, choice.Threads);
            Assert.Equal(choice.Threads, get_num_threads());
        }
        finally
        {
            set_num_threads(before);
        }
    }

    [Fact]
    public void Fit_ShorterThanTheTrial_DecidesOnWhatItMeasured()
    {
        using var data = Synthetic.Blobs(64);
        using var session = ModelSession.Create(SpecFiles.Plan(Mlp, Compile, """{"epochs": 1, "batch_size": 16, "seed": 3}"""));
        var before = get_num_threads();
        try
        {
            var choice = session.Fit(data, null, null, CancellationToken.None, threads: ThreadPolicy.Measured(2)).Threads!;
            Assert.Equal("measured", choice.ChosenBy);
            Assert.Contains(choice.Threads, new[] { 1, 2 });
            Assert.Single(choice.MeanStepMs!); // 4 steps: 2 warm-up, then 2 of the first block (1 thread)
        }
        finally
        {
            set_num_threads(before);
        }
    }

    [Fact]
    public void Fit_WithConfiguredThreads_MeasuresNothing()
    {
        using var data = Synthetic.Blobs(64);
        using var session = ModelSession.Create(SpecFiles.Plan(Mlp, Compile, """{"epochs": 1, "batch_size": 16, "seed": 3}"""));
        var before = get_num_threads();
        try
        {
            var choice = session.Fit(data, null, null, CancellationToken.None, threads: ThreadPolicy.Configured(1)).Threads!;
            Assert.Equal(new ThreadChoice(1, "configured"), choice);
            Assert.Equal(1, get_num_threads());
            Assert.Null(session.Fit(data, null, null, CancellationToken.None).Threads);
        }
        finally
        {
            set_num_threads(before);
        }
    }
}
