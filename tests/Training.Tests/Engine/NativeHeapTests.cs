using System.Globalization;
using TrainingService.Training.Data;
using TrainingService.Training.Engine;
using TrainingService.Training.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Engine;

/// <summary>Training steps on a worker thread (as a Hangfire job runs them) reuse the memory their previous steps freed.
/// With glibc's defaults the reference CNN's 7 MB activations came back as fresh pages every step, and its job epochs
/// took up to 7 s instead of 1 s, in system time.</summary>
[Collection(nameof(NativeMemoryTests))] // alone: the malloc settings are the process's
public class NativeHeapTests(ITestOutputHelper output)
{
    // The reference CIFAR-10 CNN: at batch 64 its first convolution's output is 64·30·30·32 floats, 7.4 MB (1,800 pages).
    private const string Model = """
{"input_shape": [32, 32, 3], "layers": [
  {"type": "Conv2D", "filters": 32, "kernel_size": [3, 3], "activation": "relu"},
  {"type": "MaxPooling2D", "pool_size": [2, 2]},
  {"type": "Conv2D", "filters": 64, "kernel_size": [3, 3], "activation": "relu"},
  {"type": "MaxPooling2D", "pool_size": [2, 2]},
  {"type": "Flatten"},
  {"type": "Dense", "units": 10, "activation": "softmax"}]}
""";
    private const string Compile = """{"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}""";
    private const string Fit = """{"epochs": 1, "batch_size": 64, "seed": 1}""";
    private const int Steps = 12;

    [Fact]
    public void KeepFreedMemory_TrainingStepsOnAWorkerThread_FaultInFewFreshPages()
    {
        output.WriteLine($"malloc: {NativeHeap.KeepFreedMemory()}"); // as the service's start-up does
        using var g = new Generator(3);
        using var data = new ArrayDataset([rand([Steps * 64, 32, 32, 3], generator: g)], [randint(0, 10, [Steps * 64], generator: g)]);
        var plan = SpecFiles.Plan(Model, Compile, Fit);
        long faults = -1;
        Exception? failure = null;
        var worker = new Thread(() =>
        {
            try
            {
                IntraOpThreads.Set(1); // every page this test counts is touched by this thread
                using var session = ModelSession.Create(plan);
                session.Fit(data, null, null, CancellationToken.None); // warm-up: the first steps map what the rest reuse
                var before = ThreadMinorFaults();
                session.Fit(data, null, null, CancellationToken.None);
                faults = ThreadMinorFaults() - before;
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        worker.Start();
        worker.Join();
        Assert.Null(failure);
        output.WriteLine($"{faults} minor page faults over {Steps} steps ({(double)faults / Steps:F0} per step)");
        // Fresh pages for one activation a step would be 1,800 faults a step; the churn measured without the settings
        // was 5,200–6,200 a step, with them 0–150 alone and 300 once while other test assemblies ran beside it.
        Assert.True(faults < Steps * 1000, $"{faults} page faults over {Steps} steps: freed memory is not being reused");
    }

    [Fact]
    public void Training_GivesMemoryBack_OnlyWhenTheLastRunInTheProcessEnds()
    {
        var before = NativeHeap.TrimsAtLastRunEnd;
        var first = NativeHeap.Training();
        var second = NativeHeap.Training();
        first.Dispose();
        first.Dispose(); // ending twice counts once
        Assert.Equal(before, NativeHeap.TrimsAtLastRunEnd); // the second run still trains: its free memory stays
        second.Dispose();
        Assert.Equal(before + 1, NativeHeap.TrimsAtLastRunEnd);
    }

    [Theory]
    [InlineData("glibc.malloc.hugetlb=1", true)]
    [InlineData("glibc.rtld.x=1:glibc.malloc.hugetlb=1", true)]
    [InlineData("glibc.malloc.hugetlb=0", false)]
    [InlineData("", false)]
    public void HugePages_FollowGlibcsTunable_OrAKernelThatGivesThemAlways(string tunables, bool fromTunable)
    {
        var kernelAlways = File.Exists("/sys/kernel/mm/transparent_hugepage/enabled")
            && File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled").Contains("[always]", StringComparison.Ordinal);
        var before = Environment.GetEnvironmentVariable("GLIBC_TUNABLES");
        try
        {
            Environment.SetEnvironmentVariable("GLIBC_TUNABLES", tunables);
            Assert.Equal(fromTunable || kernelAlways, NativeHeap.HugePages);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GLIBC_TUNABLES", before);
        }
    }

    [Fact]
    public void KeepFreedMemory_StepsAside_WhenTheOperatorSetsOneOfItsThresholds()
    {
        var before = Environment.GetEnvironmentVariable("GLIBC_TUNABLES");
        try
        {
            Environment.SetEnvironmentVariable("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1:glibc.malloc.trim_threshold=1048576");
            Assert.StartsWith("left as is", NativeHeap.KeepFreedMemory(), StringComparison.Ordinal);
            Environment.SetEnvironmentVariable("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1");
            Assert.StartsWith("mmap threshold 32 MiB", NativeHeap.KeepFreedMemory(), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GLIBC_TUNABLES", before);
        }
    }

    /// <summary>This thread's minor page faults (field 10 of /proc/thread-self/stat).</summary>
    private static long ThreadMinorFaults()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], CultureInfo.InvariantCulture);
    }
}
