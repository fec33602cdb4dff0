using TrainingService.Bench;

// Every benchmark in one command (training against the engine and PyTorch, job latency, serving, memory): prints the
// report and writes it to docs/benchmarks.md (or --out).
//   dotnet run -c Release --project bench/Benchmarks -- [--quick] [--out FILE] [--repeats N] [--models mlp,cnn,lstm]
//     [--no-service] [--no-python] [--no-serving] [--latency-runs N] [--serving-seconds N] [--clients 1,8,32,64]
// scripts/bench.sh builds the service and this harness in Release first. See docs/benchmarks-howto.md.
var options = BenchOptions.Parse(args);
var output = Path.IsPathRooted(options.Output) ? options.Output : Path.Combine(options.RepoRoot, options.Output);
// --serving-only replaces the serving section of the report already there and keeps the rest.
var existing = options.ServingOnly && File.Exists(output) ? await File.ReadAllTextAsync(output) : null;
var markdown = await Harness.RunAsync(options, line => Console.Error.WriteLine(line), existing);
Directory.CreateDirectory(Path.GetDirectoryName(output)!);
if (File.Exists(output)) markdown = Report.CarryKeptSection(await File.ReadAllTextAsync(output), markdown);
await File.WriteAllTextAsync(output, markdown);
Console.WriteLine(markdown);
Console.Error.WriteLine($"wrote {output}");
