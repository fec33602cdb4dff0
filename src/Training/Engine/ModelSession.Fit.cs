using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Callbacks;
using TrainingService.Training.Data;
using TrainingService.Training.Layers;
using TrainingService.Training.Losses;
using TrainingService.Training.Metrics;
using TrainingService.Training.Optimizers;
using static TorchSharp.torch;

namespace TrainingService.Training.Engine;

public sealed partial class ModelSession
{
    /// <summary>
    /// Trains as Keras's fit does: without <paramref name="validation"/>, <c>validation_split</c> takes the LAST fraction of
    /// <paramref name="train"/> before shuffling; each epoch shuffles the rest with the run's generator; the epoch's loss
    /// and metrics are running means over its batches (regularization included); validation runs in inference mode.
    /// Each finished epoch goes to <paramref name="observer"/> with a checkpoint that <paramref name="resumeFrom"/> opens
    /// (it is read, then disposed, before the first step): a resumed run ends exactly as an uninterrupted one. Cancellation is honoured between batches. With
    /// <paramref name="threads"/>, the fit sets libtorch's intra-op threads on this thread (measuring its first steps
    /// unless the count is configured) and reports its choice; without, it leaves them as they are.
    /// </summary>
    public FitResult Fit(ArrayDataset train, ArrayDataset? validation, ITrainingObserver? observer,
        CancellationToken cancellationToken, Func<Stream>? resumeFrom = null, ThreadPolicy? threads = null)
    {
        var fit = Plan.Fit;
        ArrayDataset? ownedTrain = null, ownedVal = null;
        if (validation is null && fit.ValidationSplit > 0)
        {
            var splitAt = (long)Math.Floor(train.Count * (1 - fit.ValidationSplit));
            if (splitAt <= 0 || splitAt >= train.Count)
                throw new InvalidDataException($"validation_split {fit.ValidationSplit} leaves no examples on one side of {train.Count}");
            ownedVal = validation = train.Slice(splitAt, train.Count);
            ownedTrain = train = train.Slice(0, splitAt);
        }
        try
        {
            return FitLoop(train, validation, observer, cancellationToken, resumeFrom, threads?.Start());
        }
        finally
        {
            ownedTrain?.Dispose();
            ownedVal?.Dispose();
        }
    }

    private FitResult FitLoop(ArrayDataset train, ArrayDataset? validation, ITrainingObserver? observer,
        CancellationToken cancellationToken, Func<Stream>? resumeFrom, ThreadTrial? threads)
    {
        var fit = Plan.Fit;
        var parameters = _model.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        using var optimizer = Plan.Compile.Optimizer.Create(parameters);
        optimizer.Fuse = FuseOptimizer;
        var callbacks = fit.Callbacks.Select(c => c.Create(Plan.Compile.LogKeys(validation is not null))).ToList();
        try
        {
            return FitEpochs(train, validation, observer, cancellationToken, resumeFrom, optimizer, callbacks, threads);
        }
        finally
        {
            foreach (var c in callbacks) c.Dispose();
        }
    }

    private FitResult FitEpochs(ArrayDataset train, ArrayDataset? validation, ITrainingObserver? observer,
        CancellationToken cancellationToken, Func<Stream>? resumeFrom, Optimizer optimizer, List<Callback> callbacks, ThreadTrial? threads)
    {
        var fit = Plan.Fit;
        var control = new TrainingControl(() => optimizer.LearningRate, v => optimizer.LearningRate = v, SnapshotWeights, LoadWeights);
        var history = new List<EpochReport>();
        var startEpoch = 0;
        if (resumeFrom is null) Adapt(train, cancellationToken);
        if (resumeFrom is not null)
        {
            using var checkpoint = resumeFrom();
            startEpoch = LoadCheckpoint(checkpoint, optimizer, callbacks, control, history);
        }
        else
            foreach (var c in callbacks) c.OnTrainBegin(control);

        var metrics = CreateMetrics(train);
        try
        {
            return RunEpochs(train, validation, observer, optimizer, callbacks, control, history, startEpoch, metrics, threads, cancellationToken);
        }
        finally
        {
            DisposeMetrics(metrics);
        }
    }

    private FitResult RunEpochs(ArrayDataset train, ArrayDataset? validation, ITrainingObserver? observer, Optimizer optimizer,
        List<Callback> callbacks, TrainingControl control, List<EpochReport> history, int startEpoch, List<Metric>[] metrics,
        ThreadTrial? threads, CancellationToken cancellationToken)
    {
        var fit = Plan.Fit;
        var stoppedEarly = false;
        for (var epoch = startEpoch; epoch < fit.Epochs && !control.StopTraining; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            var logs = TrainEpoch(train, optimizer, metrics, threads, cancellationToken);
            var learningRate = optimizer.LastLearningRate;
            if (validation is not null)
            {
                var validationMetrics = CreateMetrics(validation);
                try
                {
                    foreach (var (k, v) in RunEvaluation(validation, fit.BatchSize, validationMetrics))
                        logs["val_" + k] = v;
                }
                finally
                {
                    DisposeMetrics(validationMetrics);
                }
            }
            foreach (var c in callbacks) c.OnEpochEnd(epoch, logs, control);
            stoppedEarly = control.StopTraining && epoch + 1 < fit.Epochs;
            var report = new EpochReport(epoch + 1, logs, learningRate, clock.Elapsed.TotalSeconds) { Samples = train.Count };
            history.Add(report);
            var epochDone = epoch + 1;
            observer?.OnEpochEnd(report, () => SaveCheckpoint(epochDone, optimizer, callbacks, control, history));
        }
        foreach (var c in callbacks) c.OnTrainEnd(control);
        _model.eval();
        return new FitResult(history, control.BestEpoch, stoppedEarly, threads?.Finish());
    }

    /// <summary>Keras's <c>adapt</c> on the training split, for each layer that needs it (Normalization), in model
    /// order so that a later one sees what the earlier ones produce.</summary>
    private void Adapt(ArrayDataset train, CancellationToken cancellationToken)
    {
        foreach (var layer in _model.Adaptables.Where(a => !_loadedLayers.Contains(a.Name)).ToList())
        {
            layer.BeginAdapting();
            using (no_grad())
            {
                _model.eval();
                for (long start = 0; start < train.Count; start += Plan.Fit.BatchSize)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var length = Math.Min(Plan.Fit.BatchSize, train.Count - start);
                    var inputs = ModelInputs(train, train.Inputs.Select(t => t.narrow(0, start, length)).ToArray(), training: false);
                    _model.Forward(inputs, new ForwardContext(false, _rng));
                }
            }
            layer.EndAdapting();
        }
    }

    private Dictionary<string, double> TrainEpoch(ArrayDataset train, Optimizer optimizer, List<Metric>[] metrics, ThreadTrial? threads, CancellationToken cancellationToken)
    {
        var fit = Plan.Fit;
        _model.train();
        foreach (var m in metrics.SelectMany(x => x)) m.Reset();
        var n = train.Count;
        using var order = fit.Shuffle ? randperm(n, ScalarType.Int64, generator: _rng) : arange(n, ScalarType.Int64);
        using var sums = new LossSums(Plan.Compile.Outputs.Count);
        using var blocks = new ShuffledBlocks(train, order, fit.BatchSize);
        for (long start = 0; start < n; start += fit.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var length = Math.Min(fit.BatchSize, n - start);
            threads?.BeforeStep();
            blocks.EnsureHolds(start);
            using var scope = NewDisposeScope();
            var rawInputs = blocks.Inputs(start, length);
            var rawTargets = blocks.Targets(start, length);
            var inputs = ModelInputs(train, rawInputs, training: true);
            var context = new ForwardContext(true, _rng);
            var predictions = _model.Forward(inputs, context);
            var (total, perOutput) = TotalLoss(predictions, rawTargets, context, includeWeights: true);
            optimizer.ZeroGrad();
            total.backward();
            optimizer.Step();
            using (no_grad())
            {
                sums.Add(total, perOutput, length);
                for (var k = 0; k < predictions.Length; k++)
                    foreach (var m in metrics[k]) m.Update(rawTargets[k], predictions[k]); // under no_grad: nothing to detach
            }
            threads?.AfterStep();
        }
        return Logs(sums, n, metrics);
    }

    private Dictionary<string, double> RunEvaluation(ArrayDataset data, int batchSize, List<Metric>[] metrics)
    {
        _model.eval();
        foreach (var m in metrics.SelectMany(x => x)) m.Reset();
        using var sums = new LossSums(Plan.Compile.Outputs.Count);
        using var _ = no_grad();
        for (long start = 0; start < data.Count; start += batchSize)
        {
            var length = Math.Min(batchSize, data.Count - start);
            using var scope = NewDisposeScope();
            var inputs = ModelInputs(data, data.Inputs.Select(t => t.narrow(0, start, length)).ToArray(), training: false);
            var targets = data.Targets.Select(t => t.narrow(0, start, length)).ToArray();
            var context = new ForwardContext(false, _rng);
            var predictions = _model.Forward(inputs, context);
            var (total, perOutput) = TotalLoss(predictions, targets, context, includeWeights: false);
            sums.Add(total, perOutput, length);
            for (var k = 0; k < predictions.Length; k++)
                foreach (var m in metrics[k]) m.Update(targets[k], predictions[k]);
        }
        return Logs(sums, data.Count, metrics);
    }

    /// <summary>Σ loss_weight·loss per output (each reduced as Keras's sum_over_batch_size, with class weights when
    /// training) plus weight penalties and activity losses. Also returns each output's loss (when there are several).</summary>
    private (Tensor Total, Tensor[] PerOutput) TotalLoss(Tensor[] predictions, Tensor[] rawTargets, ForwardContext context, bool includeWeights)
    {
        var outputs = Plan.Compile.Outputs;
        Tensor? total = null;
        var perOutput = new Tensor[outputs.Count > 1 ? outputs.Count : 0];
        for (var k = 0; k < outputs.Count; k++)
        {
            var spec = outputs[k];
            var prediction = predictions[k];
            // Each loss reads the targets as the dataset gives them (labels or values), as Keras's losses do.
            var logits = context.Logits.TryGetValue(prediction, out var l) && l.Activation == spec.Loss.LogitsActivation ? l.Logits : null;
            var perExample = spec.Loss.PerExample(rawTargets[k], prediction, logits);
            var sampleWeight = includeWeights && Plan.Fit.ClassWeight is { } classWeight
                ? ClassWeights.ToSampleWeights(rawTargets[k], classWeight) : null;
            var reduced = Loss.Reduce(perExample, sampleWeight);
            if (perOutput.Length > 0) perOutput[k] = reduced;
            var weighted = spec.LossWeight == 1 ? reduced : reduced * spec.LossWeight;
            total = total is null ? weighted : total + weighted;
        }
        // Keras adds regularization losses to the loss in training and evaluation alike.
        foreach (var p in _model.Penalties()) total = total! + p;
        foreach (var a in context.Losses) total = total! + a;
        return (total!, perOutput);
    }

    private List<Metric>[] CreateMetrics(ArrayDataset data) =>
        Plan.Compile.Outputs.Select((o, k) => o.Metrics.Select(m =>
            m.Create(Plan.Model.OutputShapes[k].Dims, data.Targets.Count > k ? data.Targets[k].shape.Skip(1).Select(d => (int)d).ToArray() : null)).ToList()).ToArray();

    private static void DisposeMetrics(List<Metric>[] metrics)
    {
        foreach (var m in metrics.SelectMany(x => x)) m.Dispose();
    }

    /// <summary>Keras's log keys (see <see cref="CompileOptions.MetricKeys"/>): <c>loss</c>, then <c>{output}_loss</c>
    /// per output when there are several, then each metric.</summary>
    private Dictionary<string, double> Logs(LossSums sums, long count, List<Metric>[] metrics)
    {
        var (loss, outputLosses) = sums.Means(count);
        var logs = new Dictionary<string, double>(StringComparer.Ordinal) { ["loss"] = loss };
        var lossKeys = Plan.Compile.OutputLossKeys;
        for (var k = 0; k < lossKeys.Count; k++) logs[lossKeys[k]] = outputLosses[k];
        for (var k = 0; k < metrics.Length; k++)
            for (var m = 0; m < metrics[k].Count; m++) logs[Plan.Compile.MetricKeys[k][m]] = metrics[k][m].Result();
        return logs;
    }

    // Checkpoint: a tensor archive holding weights ("w/…"), optimizer slots ("o/…"), callback tensors ("c{i}/…"),
    // the generator state ("rng"), and a JSON header ("meta") with the epoch, iterations, learning rate, callback
    // state and history.
    private byte[] SaveCheckpoint(int epochsDone, Optimizer optimizer, List<Callback> callbacks, TrainingControl control, List<EpochReport> history)
    {
        var meta = new JsonObject
        {
            ["epoch"] = epochsDone,
            ["iterations"] = optimizer.Iterations,
            ["learning_rate"] = optimizer.LearningRate,
            ["stop"] = control.StopTraining,
            ["best_epoch"] = control.BestEpoch,
            ["callbacks"] = new JsonArray(callbacks.Select(c => (JsonNode)c.SaveState()).ToArray()),
            ["history"] = JsonSerializer.SerializeToNode(history),
        };
        var metaBytes = System.Text.Encoding.UTF8.GetBytes(meta.ToJsonString());
        using var metaTensor = tensor(metaBytes);
        using var rngState = _rng.get_state();
        var tensors = new List<(string, Tensor)> { ("meta", metaTensor), ("rng", rngState) };
        tensors.AddRange(_model.state_dict().Select(kv => ("w/" + kv.Key, kv.Value)));
        tensors.AddRange(optimizer.State().Select(s => ("o/" + s.Name, s.Value)));
        for (var i = 0; i < callbacks.Count; i++) tensors.AddRange(callbacks[i].StateTensors().Select(s => ($"c{i}/{s.Name}", s.Value)));
        return TensorArchive.ToBytes(tensors);
    }

    private int LoadCheckpoint(Stream checkpoint, Optimizer optimizer, List<Callback> callbacks, TrainingControl control, List<EpochReport> history)
    {
        var tensors = TensorArchive.Read(checkpoint);
        try
        {
            var meta = JsonNode.Parse(System.Text.Encoding.UTF8.GetString(tensors["meta"].data<byte>().ToArray()))!.AsObject();
            LoadWeights(tensors.Where(kv => kv.Key.StartsWith("w/", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[2..], kv => kv.Value));
            optimizer.LoadState(tensors.Where(kv => kv.Key.StartsWith("o/", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[2..], kv => kv.Value));
            optimizer.Iterations = meta["iterations"]!.GetValue<long>();
            optimizer.LearningRate = meta["learning_rate"]!.GetValue<double>();
            control.StopTraining = meta["stop"]!.GetValue<bool>();
            control.BestEpoch = meta["best_epoch"]?.GetValue<int>();
            var states = meta["callbacks"]!.AsArray();
            for (var i = 0; i < callbacks.Count; i++)
            {
                callbacks[i].LoadState(states[i]!.AsObject());
                var prefix = $"c{i}/";
                callbacks[i].LoadStateTensors(tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value));
            }
            history.AddRange(meta["history"].Deserialize<List<EpochReport>>()!);
            _rng.set_state(tensors["rng"]);
            return meta["epoch"]!.GetValue<int>();
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
