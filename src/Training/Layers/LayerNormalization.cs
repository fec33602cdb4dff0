using System.Text.Json;
using TrainingService.Training.Initializers;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// Keras LayerNormalization over <c>axis</c> (default -1; an int or a list) of each example, with Keras's
/// epsilon 1e-3 and biased variance. <c>rms_scaling</c> follows Keras 3: <c>x · rsqrt(var + ε) · gamma</c> with a
/// gamma and no beta.
/// </summary>
public sealed record LayerNormalization : Layer
{
    public Axes Axis { get; init; } = new(-1);
    [Range(0, MinExclusive = true)] public double Epsilon { get; init; } = 1e-3;
    public bool Center { get; init; } = true;
    public bool Scale { get; init; } = true;
    public bool RmsScaling { get; init; }
    public Initializer BetaInitializer { get; init; } = Initializer.Named("zeros");
    public Initializer GammaInitializer { get; init; } = Initializer.Named("ones");
    public Regularizer? BetaRegularizer { get; init; }
    public Regularizer? GammaRegularizer { get; init; }
    public JsonElement? BetaConstraint { get; init; }
    public JsonElement? GammaConstraint { get; init; }

    public override bool KeepsMask => true;

    private bool HasGamma => Scale || RmsScaling;
    private bool HasBeta => Center && !RmsScaling;

    /// <summary>The normalized axes as indices into the per-example shape.</summary>
    private int[] FeatureAxes(Shape x) => Axis.Resolve(x.Rank + 1, x).Select(a => a - 1).ToArray();

    private long[] WeightShape(Shape x) => FeatureAxes(x).Select(a => (long)x[a]).ToArray();

    public override IEnumerable<SpecError> Validate(string path) => Constraints.RejectSet(path, ("beta_constraint", BetaConstraint), ("gamma_constraint", GammaConstraint));

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        if (WeightShape(x).Any(d => d < 0)) throw Expects($"known sizes on axis {string.Join(", ", Axis.Values)}", x);
        return [x];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs)
    {
        var size = WeightShape(inputs[0]).Aggregate(1L, (a, d) => a * d);
        return ((HasGamma ? size : 0) + (HasBeta ? size : 0), 0);
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this, inputs[0], context);

    private sealed class Module : UnaryModule
    {
        private readonly TorchSharp.Modules.Parameter? gamma, beta;
        private readonly LayerNormalization _c;
        private readonly long[] _axes;          // normalized axes, counting the batch axis
        private readonly long[] _broadcast;     // weight shape broadcastable against the input (batch axis 1)
        private readonly long[]? _trailing;     // normalized_shape when the axes are the last ones (fused layer_norm)

        public Module(LayerNormalization c, Shape input, BuildContext context) : base(c.Name)
        {
            _c = c;
            var axes = c.FeatureAxes(input);
            var shape = c.WeightShape(input);
            _axes = axes.Select(a => (long)a + 1).ToArray();
            _broadcast = [1, .. Enumerable.Range(0, input.Rank).Select(a => axes.Contains(a) ? (long)input[a] : 1L)];
            if (axes.SequenceEqual(Enumerable.Range(input.Rank - axes.Length, axes.Length))) _trailing = shape;
            if (c.HasGamma) gamma = new TorchSharp.Modules.Parameter(c.GammaInitializer.Create(shape, context.Rng));
            if (c.HasBeta) beta = new TorchSharp.Modules.Parameter(c.BetaInitializer.Create(shape, context.Rng));
            RegisterComponents();
        }

        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            if (!_c.RmsScaling && _trailing is not null)
                return nn.functional.layer_norm(input, _trailing, gamma, beta, _c.Epsilon);
            var (variance, mean) = input.var_mean(_axes, unbiased: false, keepdim: true);
            var inv = (variance + _c.Epsilon).rsqrt();
            if (gamma is not null) inv = inv * gamma.reshape(_broadcast);
            if (_c.RmsScaling) return input * inv;
            var y = input * inv - mean * inv;
            return beta is null ? y : y + beta.reshape(_broadcast);
        }

        public override IEnumerable<Tensor> Penalties()
        {
            if (_c.GammaRegularizer is not null && gamma is not null) yield return _c.GammaRegularizer.Penalty(gamma);
            if (_c.BetaRegularizer is not null && beta is not null) yield return _c.BetaRegularizer.Penalty(beta);
        }
    }
}
