using TrainingService.Training.Data;
using TrainingService.Training.Layers;
using TrainingService.Training.Losses;
using TrainingService.Training.Models;
using static TorchSharp.torch;

namespace TrainingService.Training.Engine;

/// <summary>A built model for one plan: trains (<see cref="Fit"/>), evaluates, predicts, saves and restores weights.
/// Training is single-threaded; once training is over <see cref="Predict"/> may run from several threads.</summary>
public sealed partial class ModelSession : IDisposable
{
    private readonly GraphModule _model;
    private readonly Generator _rng;

    private ModelSession(TrainingPlan plan)
    {
        Plan = plan;
        _rng = new Generator((ulong)plan.Fit.Seed);
        _model = new GraphModule(plan.Model, _rng);
        _model.eval();
    }

    public TrainingPlan Plan { get; }

    /// <summary>Whether fits update all parameters in one fused step over flat buffers (the default; see
    /// <see cref="Optimizers.Optimizer.Fuse"/>); false keeps one update per parameter, for comparisons.</summary>
    public bool FuseOptimizer { get; set; } = true;

    /// <summary>The memory layout the model's convolutions compute in (<see cref="Layers.ConvolutionLayout.ChannelsLast"/>,
    /// the default; see docs/benchmarks.md section 2); set before the first fit, for comparisons.</summary>
    public ConvolutionLayout ConvolutionLayout
    {
        get;
        set
        {
            field = value;
            foreach (var conv in _model.modules().OfType<ConvModule>()) conv.UseLayout(value);
        }
    }

    /// <summary>The layers whose weights came from elsewhere (a .keras archive, another run): their adapted statistics
    /// are kept, as in Keras, where adapt is a separate call; the others adapt before training.</summary>
    private readonly HashSet<string> _loadedLayers = new(StringComparer.Ordinal);

    /// <summary>Builds the model with Keras's initializers, seeded from <c>fit.seed</c>.</summary>
    public static ModelSession Create(TrainingPlan plan) => new(plan);

    /// <summary>Rebuilds the model from its definition and saved weights for serving.</summary>
    public static ModelSession Restore(TrainingPlan plan, byte[] weights) => Restore(plan, new MemoryStream(weights));

    /// <summary>Rebuilds the model from its definition and saved weights read from <paramref name="weights"/> (a
    /// database column, as it arrives: no copy of the whole archive is held).</summary>
    public static ModelSession Restore(TrainingPlan plan, Stream weights)
    {
        var session = new ModelSession(plan);
        var saved = TensorArchive.Read(weights);
        try { session.LoadWeights(saved); }
        finally { foreach (var t in saved.Values) t.Dispose(); }
        return session;
    }

    /// <summary>Builds the model, then overwrites the weights present in <paramref name="weights"/> (a tensor archive from
    /// <see cref="InitialWeights.Select"/> or a whole model's): the others keep their fresh initialisation.</summary>
    public static ModelSession StartFrom(TrainingPlan plan, byte[] weights) => StartFrom(plan, new MemoryStream(weights));

    /// <inheritdoc cref="StartFrom(TrainingPlan, byte[])"/>
    public static ModelSession StartFrom(TrainingPlan plan, Stream weights)
    {
        var session = new ModelSession(plan);
        var saved = TensorArchive.Read(weights);
        try { session.LoadWeights(saved, partial: true); }
        finally { foreach (var t in saved.Values) t.Dispose(); }
        return session;
    }

    /// <summary>The shape of every weight and buffer, by state-dict name.</summary>
    public IReadOnlyList<KeyValuePair<string, long[]>> WeightShapes() =>
        _model.state_dict().Select(kv => new KeyValuePair<string, long[]>(kv.Key, kv.Value.shape)).ToArray();

    /// <summary>Every weight and buffer of the model (Keras's weights, torch layout), as a tensor archive.</summary>
    public byte[] SaveWeights() => TensorArchive.ToBytes(_model.state_dict().Select(kv => (kv.Key, kv.Value)));

    private Dictionary<string, Tensor> SnapshotWeights()
    {
        using var _ = no_grad();
        return _model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone()); // no_grad: the copies need no detach
    }

    private void LoadWeights(IReadOnlyDictionary<string, Tensor> weights) => LoadWeights(weights, partial: false);

    private void LoadWeights(IReadOnlyDictionary<string, Tensor> weights, bool partial)
    {
        using var _ = no_grad();
        foreach (var (name, target) in _model.state_dict())
        {
            if (!weights.TryGetValue(name, out var source))
            {
                if (partial) continue;
                throw new InvalidDataException($"the saved weights lack '{name}'; they belong to another model definition");
            }
            _loadedLayers.Add(name.Split('.')[0]);
            if (!source.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"saved weight '{name}' has shape [{string.Join(", ", source.shape)}], the model needs [{string.Join(", ", target.shape)}]");
            target.copy_(source);
        }
    }

    /// <summary>Loss and compiled metrics on <paramref name="data"/> (Keras log keys, no val_ prefix).</summary>
    public IReadOnlyDictionary<string, double> Evaluate(ArrayDataset data, int? batchSize = null)
    {
        var metrics = CreateMetrics(data);
        try
        {
            return RunEvaluation(data, batchSize ?? Plan.Fit.BatchSize, metrics);
        }
        finally
        {
            DisposeMetrics(metrics);
        }
    }

    /// <summary>Model outputs for the inputs of <paramref name="data"/>, one float32 tensor per output.</summary>
    public Tensor[] Predict(ArrayDataset data, int? batchSize = null)
    {
        var size = batchSize ?? Plan.Fit.BatchSize;
        var parts = Plan.Model.Outputs.Select(_ => new List<Tensor>()).ToArray();
        using var _ = no_grad();
        for (long start = 0; start < data.Count; start += size)
        {
            var length = Math.Min(size, data.Count - start);
            using var scope = NewDisposeScope();
            var inputs = ModelInputs(data, data.Inputs.Select(t => t.narrow(0, start, length)).ToArray(), training: false);
            var outputs = _model.Forward(inputs, new ForwardContext(false, _rng));
            for (var k = 0; k < outputs.Length; k++) parts[k].Add(outputs[k].detach().MoveToOuterDisposeScope());
        }
        return parts.Select((p, k) =>
        {
            if (p.Count == 0) return empty([0L, .. Plan.Model.OutputShapes[k].Dims.Select(d => (long)d)]);
            var result = cat(p, 0);
            foreach (var t in p) t.Dispose();
            return result;
        }).ToArray();
    }

    /// <summary>Predictions for raw tensors already shaped as the model's inputs (batch first).</summary>
    public Tensor[] Predict(Tensor[] inputs)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var prepared = inputs.Select((t, i) => Plan.Model.Inputs[i].IsInteger ? t.to(ScalarType.Int64) : t.to(ScalarType.Float32)).ToArray();
        var outputs = _model.Forward(prepared, new ForwardContext(false, _rng));
        return outputs.Select(o => o.detach().MoveToOuterDisposeScope()).ToArray();
    }

    /// <summary>Turns a gathered raw batch into model inputs: the dataset's transform, then the model's dtypes.</summary>
    private Tensor[] ModelInputs(ArrayDataset data, Tensor[] raw, bool training)
    {
        var transformed = data.Transform?.Apply(raw, training, _rng) ?? raw;
        var result = new Tensor[transformed.Length];
        for (var i = 0; i < result.Length; i++)
        {
            var wantInt = Plan.Model.Inputs[i].IsInteger;
            var t = transformed[i];
            result[i] = wantInt ? (t.dtype == ScalarType.Int64 ? t : t.to(ScalarType.Int64))
                : (t.dtype == ScalarType.Float32 ? t : t.to(ScalarType.Float32));
        }
        return result;
    }

    public void Dispose()
    {
        _model.Dispose();
        _rng.Dispose();
    }
}
