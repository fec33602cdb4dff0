// Loads Fashion-MNIST (or the dataset named by the first argument) through the catalog and prints load time and
// resident memory. Usage: dotnet run -c Release --project bench/DatasetLoadBench [name] [Datasets:Root]
using System.Diagnostics;
using System.Text.Json;
using TrainingService.Training.Datasets;

var name = args.Length > 0 ? args[0] : "fashion_mnist";
var root = args.Length > 1 ? args[1] : Environment.GetEnvironmentVariable("Datasets__Root");
var options = new DatasetOptions { Root = root };
var process = Process.GetCurrentProcess();

static string Mb(long bytes) => $"{bytes / (1024.0 * 1024.0):F1} MB";

// Load libtorch first so that its native libraries are not counted as the dataset's memory or time.
var startup = Stopwatch.StartNew();
TorchSharp.torch.zeros(1).Dispose();
Console.WriteLine($"libtorch start-up: {startup.Elapsed.TotalMilliseconds:F0} ms");
process.Refresh();
Console.WriteLine($"before:  working set {Mb(process.WorkingSet64)}, peak {Mb(process.PeakWorkingSet64)}, managed {Mb(GC.GetTotalMemory(false))}");

using var cache = new DatasetCache(new DatasetLoader(options));
var sw = Stopwatch.StartNew();
var raw = await cache.GetAsync(name, CancellationToken.None);
var loadTime = sw.Elapsed;
process.Refresh();
Console.WriteLine($"load {name} from {raw.Source}: {loadTime.TotalMilliseconds:F0} ms; train {string.Join("x", raw.TrainX?.shape ?? [raw.TrainY.shape[0]])}, test {string.Join("x", raw.TestX?.shape ?? [raw.TestY?.shape[0] ?? 0])}");
Console.WriteLine($"after:   working set {Mb(process.WorkingSet64)}, peak {Mb(process.PeakWorkingSet64)}, managed {Mb(GC.GetTotalMemory(false))}");

sw.Restart();
var again = await cache.GetAsync(name, CancellationToken.None);
Console.WriteLine($"second request (cached): {sw.Elapsed.TotalMilliseconds:F2} ms, same instance: {ReferenceEquals(raw, again)}");

sw.Restart();
var preparer = new DatasetPreparer(cache);
using var prepared = await preparer.PrepareAsync(JsonSerializer.SerializeToElement(new { name, preprocessing = new { rescale = 1 / 255.0 } }), CancellationToken.None);
using var rng = new TorchSharp.torch.Generator(1);
var batch = prepared.Train.Inputs.Select(t => t.narrow(0, 0, 128)).ToArray();
var floats = prepared.Train.Transform!.Apply(batch, training: true, rng);
process.Refresh();
Console.WriteLine($"prepare + one 128-example float batch: {sw.Elapsed.TotalMilliseconds:F0} ms; working set {Mb(process.WorkingSet64)}, peak {Mb(process.PeakWorkingSet64)}");
