using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// Keras Bidirectional around a recurrent layer (<c>layer</c>: <c>{"type": "LSTM", "units": 64}</c> or Keras's
/// <c>{"class_name": "LSTM", "config": {…}}</c>). The backward layer is <c>backward_layer</c> when given, otherwise the
/// same config reading backwards; its sequence output is flipped back to forward time before merging with
/// <c>merge_mode</c> (concat, sum, mul, ave, or null for both outputs). Outputs come in Keras's order: the merged output
/// (or forward then backward), then the forward states, then the backward states. As in Keras, masked steps of
/// returned sequences are zero.
/// </summary>
public sealed record Bidirectional : Layer
{
    [Key("layer")] public required NestedLayer Wrapped { get; init; }
    [OneOf("concat", "sum", "mul", "ave")] public string? MergeMode { get; init; } = "concat";
    public NestedLayer? BackwardLayer { get; init; }

    private RecurrentConfig? Inner => Wrapped.Layer as RecurrentConfig;

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (Inner is null)
        {
            yield return new SpecError($"{path}.layer", $"Bidirectional wraps a recurrent layer (SimpleRNN, LSTM or GRU), got {LayerRegistry.NameOf(Wrapped.Layer.GetType())}");
            yield break;
        }
        if (BackwardLayer is null) yield break;
        if (BackwardLayer.Layer is not RecurrentConfig back)
            yield return new SpecError($"{path}.backward_layer", $"must be a recurrent layer, got {LayerRegistry.NameOf(BackwardLayer.Layer.GetType())}");
        else if (back.GoBackwards == Inner.GoBackwards)
            yield return new SpecError($"{path}.backward_layer.go_backwards", "must differ from the forward layer's go_backwards (as in Keras)");
        else if (back.ReturnSequences != Inner.ReturnSequences || back.ReturnState != Inner.ReturnState)
            yield return new SpecError($"{path}.backward_layer", "must have the forward layer's return_sequences and return_state (as in Keras)");
    }

    /// <summary>The two directions' configs, named as Keras names them.</summary>
    private (RecurrentConfig Forward, RecurrentConfig Backward) Directions()
    {
        var inner = Inner!;
        // Keras's own files name the wrapped layers forward_x / backward_x already.
        var stem = string.IsNullOrEmpty(inner.Name) ? Name : inner.Name.StartsWith("forward_", StringComparison.Ordinal) ? inner.Name["forward_".Length..] : inner.Name;
        // Keras zeroes masked outputs of both directions whenever sequences are returned.
        var zero = (bool?)inner.ReturnSequences;
        var forward = inner with { Name = "forward_" + stem, ZeroOutputForMask = zero };
        var backward = BackwardLayer?.Layer is RecurrentConfig given
            ? given with { Name = "backward_" + stem, ZeroOutputForMask = zero }
            : inner with { Name = "backward_" + stem, GoBackwards = !inner.GoBackwards, ZeroOutputForMask = zero };
        return (forward, backward);
    }

    public override bool KeepsMask => Inner?.ReturnSequences == true;

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var (forward, backward) = Directions();
        var f = forward.OutputShapes(inputs);
        var b = backward.OutputShapes(inputs);
        if (!f[0].Equals(b[0])) throw new ShapeException($"expects both directions to give the same output shape, got {f[0]} and {b[0]}; give backward_layer the same units");
        var output = f[0];
        Shape[] merged = MergeMode switch
        {
            "concat" => [output.With(-1, output.Last + b[0].Last)],
            null => [output, b[0]],
            _ => [output],
        };
        return [.. merged, .. f.Skip(1), .. b.Skip(1)];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs)
    {
        var (forward, backward) = Directions();
        var (ft, fn) = forward.CountParameters(inputs);
        var (bt, bn) = backward.CountParameters(inputs);
        return (ft + bt, fn + bn);
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context)
    {
        var (forward, backward) = Directions();
        return new Module(Name, forward, backward, MergeMode, inputs, context);
    }

    private sealed class Module : LayerModule
    {
        private readonly LayerModule forward_layer, backward_layer;
        private readonly string? _mergeMode;
        private readonly bool _returnSequences;

        public Module(string name, RecurrentConfig forward, RecurrentConfig backward, string? mergeMode, Shape[] inputs, BuildContext context) : base(name)
        {
            forward_layer = forward.Build(inputs, context);
            backward_layer = backward.Build(inputs, context);
            _mergeMode = mergeMode;
            _returnSequences = forward.ReturnSequences;
            RegisterComponents();
        }

        public override Tensor[] Forward(Tensor[] inputs, ForwardContext context)
        {
            var inputMask = context.InputMask;
            var f = forward_layer.Forward(inputs, context);
            context.InputMask = inputMask;
            var b = backward_layer.Forward(inputs, context);
            context.InputMask = inputMask;
            context.OutputMask = _returnSequences ? inputMask : null;
            var (y, yRev) = (f[0], _returnSequences ? b[0].flip(1) : b[0]);
            Tensor[] merged = _mergeMode switch
            {
                "concat" => [cat([y, yRev], -1)],
                "sum" => [y + yRev],
                "mul" => [y * yRev],
                "ave" => [(y + yRev) / 2],
                _ => [y, yRev],
            };
            return [.. merged, .. f.Skip(1), .. b.Skip(1)];
        }

        public override IEnumerable<Tensor> Penalties() => forward_layer.Penalties().Concat(backward_layer.Penalties());
    }
}
