using TrainingService.Training.Engine;
using TrainingService.Training.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Engine;

/// <summary>A finished fit frees what it allocated natively: optimizer slots, EarlyStopping's best weights, batches.
/// Left to the garbage collector, each finished run would hold about three times its parameters' memory.</summary>
[Collection(nameof(NativeMemoryTests))] // alone: tests running beside it would move the process's RSS
public class NativeMemoryTests(ITestOutputHelper output)
{
    // ~6,700 parameters: a leak of the optimizer's two slots and the best weights is ~80 KB per cycle, ~80 MB per 1,000.
    private const string Model = """
{"input_shape": [8], "layers": [{"type": "Dense", "units": 512, "activation": "relu"}, {"type": "Dense", "units": 3, "activation": "softmax"}]}
""";
    private const string Compile = """{"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}""";
    private const string Fit = """
{"epochs": 2, "batch_size": 32, "validation_split": 0.25, "seed": 1,
 "callbacks": [{"type": "EarlyStopping", "monitor": "val_loss", "patience": 5, "restore_best_weights": true}]}
""";

    [Fact]
    public void AThousandFitDisposeCycles_LeaveLiveTensorsAndResidentMemoryFlat()
    {
        using var data = Synthetic.Blobs(64);
        var plan = SpecFiles.Plan(Model, Compile, Fit);
        void Cycles(int n)
        {
            for (var i = 0; i < n; i++)
            {
                using var session = ModelSession.Create(plan);
                session.Fit(data, null, null, CancellationToken.None);
            }
        }

        Cycles(100); // warm-up: allocator pools, JIT, libtorch's lazily built kernels
        var liveBefore = LiveTensors();
        var rssBefore = ResidentBytes();
        Cycles(1000);
        var liveAfter = LiveTensors();
        var rssAfter = ResidentBytes();
        output.WriteLine($"live tensors {liveBefore} → {liveAfter}; RSS {rssBefore / 1048576.0:F1} → {rssAfter / 1048576.0:F1} MiB");

        // Tensors a fit leaves to the finalizer never count as disposed on this thread, so this is exact.
        Assert.Equal(liveBefore, liveAfter);
        // Generous: allocator noise on a shared machine is a few MiB; a leak would be ~80 MiB.
        Assert.True(rssAfter - rssBefore < 32L * 1024 * 1024, $"RSS grew by {(rssAfter - rssBefore) / 1048576.0:F1} MiB over 1,000 cycles");
    }

    private static long LiveTensors() => TorchSharp.DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;

    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}

[CollectionDefinition(nameof(NativeMemoryTests), DisableParallelization = true)]
public class NativeMemoryCollection;
