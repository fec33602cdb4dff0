using System.Text.Json;
using TrainingService.Training.Initializers;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras GroupNormalization: the channels (<c>axis</c>, default -1) are split into <c>groups</c>; each
/// example is normalized over every other axis and the channels of a group (biased variance, Keras's epsilon 1e-3),
/// then scaled by <c>gamma</c> and shifted by <c>beta</c> per channel. groups = channels is InstanceNormalization,
/// groups = 1 is LayerNormalization over all axes.</summary>
public sealed record GroupNormalization : Layer
{
    [Range(1)] public int Groups { get; init; } = 32;
    public int Axis { get; init; } = -1;
    [Range(0, MinExclusive = true)] public double Epsilon { get; init; } = 1e-3;
    public bool Center { get; init; } = true;
    public bool Scale { get; init; } = true;
    public Initializer BetaInitializer { get; init; } = Initializer.Named("zeros");
    public Initializer GammaInitializer { get; init; } = Initializer.Named("ones");
    public Regularizer? BetaRegularizer { get; init; }
    public Regularizer? GammaRegularizer { get; init; }
    public JsonElement? BetaConstraint { get; init; }
    public JsonElement? GammaConstraint { get; init; }

    public override bool KeepsMask => true;

    public override IEnumerable<SpecError> Validate(string path) => Constraints.RejectSet(path, ("beta_constraint", BetaConstraint), ("gamma_constraint", GammaConstraint));

    /// <summary>The channel axis as an index into the per-example shape.</summary>
    private int ChannelAxis(Shape x) => new Axes(Axis).Resolve(x.Rank + 1, x)[0] - 1;

    private int Channels(Shape x)
    {
        var c = x[ChannelAxis(x)];
        if (c < 0) throw Expects("a known channel dimension", x);
        if (c < Groups) throw Expects($"at least groups ({Groups}) channels", x);
        if (c % Groups != 0) throw Expects($"channels divisible by groups ({Groups})", x);
        return c;
    }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        Channels(inputs[0]);
        return [inputs[0]];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        ((Scale ? Channels(inputs[0]) : 0) + (Center ? Channels(inputs[0]) : 0), 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this, inputs[0], context);

    private sealed class Module : UnaryModule
    {
        private readonly TorchSharp.Modules.Parameter? gamma, beta;
        private readonly GroupNormalization _c;
        private readonly int _axis;     // counting the batch axis

        public Module(GroupNormalization c, Shape input, BuildContext context) : base(c.Name)
        {
            _c = c;
            _axis = c.ChannelAxis(input) + 1;
            long channels = c.Channels(input);
            if (c.Scale) gamma = new TorchSharp.Modules.Parameter(c.GammaInitializer.Create([channels], context.Rng));
            if (c.Center) beta = new TorchSharp.Modules.Parameter(c.BetaInitializer.Create([channels], context.Rng));
            RegisterComponents();
        }

        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            // Channels first, then (batch, groups, everything else in the group), normalized per row.
            var x = input.movedim([_axis], [1]);
            var shape = x.shape;
            var grouped = x.reshape(shape[0], _c.Groups, -1);
            var (variance, mean) = grouped.var_mean(2, unbiased: false, keepdim: true);
            var y = ((grouped - mean) * (variance + _c.Epsilon).rsqrt()).reshape(shape);
            long[] along = [1, shape[1], .. Enumerable.Repeat(1L, shape.Length - 2)];
            if (gamma is not null) y = y * gamma.reshape(along);
            if (beta is not null) y = y + beta.reshape(along);
            return y.movedim([1], [_axis]);
        }

        public override IEnumerable<Tensor> Penalties()
        {
            if (_c.GammaRegularizer is not null && gamma is not null) yield return _c.GammaRegularizer.Penalty(gamma);
            if (_c.BetaRegularizer is not null && beta is not null) yield return _c.BetaRegularizer.Penalty(beta);
        }
    }
}
