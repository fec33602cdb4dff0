using System.Text.Json;
using TrainingService.Training.Initializers;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// Keras BatchNormalization over one feature axis (<c>axis</c> -1 = channels; an int or tf.keras's <c>[3]</c>).
/// Training normalizes with the batch's mean and biased variance and updates
/// <c>moving = moving·momentum + batch·(1 − momentum)</c> with that same biased variance (Keras 3; PyTorch's
/// momentum is 1 − Keras's and it updates with the unbiased variance). Inference uses the moving statistics. The
/// moving mean and variance are buffers: saved with the weights, not trained (Keras's 2·C non-trainable parameters).
/// </summary>
public sealed record BatchNormalization : Layer
{
    public Axes Axis { get; init; } = new(-1);
    [Range(0, 1)] public double Momentum { get; init; } = 0.99;
    [Range(0, MinExclusive = true)] public double Epsilon { get; init; } = 1e-3;
    public bool Center { get; init; } = true;
    public bool Scale { get; init; } = true;
    public Initializer BetaInitializer { get; init; } = Initializer.Named("zeros");
    public Initializer GammaInitializer { get; init; } = Initializer.Named("ones");
    public Initializer MovingMeanInitializer { get; init; } = Initializer.Named("zeros");
    public Initializer MovingVarianceInitializer { get; init; } = Initializer.Named("ones");
    public Regularizer? BetaRegularizer { get; init; }
    public Regularizer? GammaRegularizer { get; init; }
    public JsonElement? BetaConstraint { get; init; }
    public JsonElement? GammaConstraint { get; init; }
    /// <summary>Only meaningful with renorm, which is rejected.</summary>
    public JsonElement? RenormClipping { get; init; }
    public bool Synchronized { get; init; }
    public bool Renorm { get; init; }
    [Range(0, 1)] public double RenormMomentum { get; init; } = 0.99;

    public override bool KeepsMask => true;

    public override IEnumerable<SpecError> Validate(string path)
    {
        foreach (var error in Constraints.RejectSet(path, ("beta_constraint", BetaConstraint), ("gamma_constraint", GammaConstraint))) yield return error;
        if (Axis.Values.Length != 1) yield return new SpecError($"{path}.axis", "normalizing over several axes at once is not supported; give one axis");
        if (Renorm) yield return new SpecError($"{path}.renorm", "batch renormalization is not supported");
    }

    /// <summary>The feature axis as an index into the per-example shape.</summary>
    private int FeatureAxis(Shape x) => Axis.Resolve(x.Rank + 1, x)[0] - 1;

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        if (x[FeatureAxis(x)] < 0) throw Expects($"a known size on axis {Axis.Values[0]}", x);
        return [x];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs)
    {
        long c = inputs[0][FeatureAxis(inputs[0])];
        return ((Center ? c : 0) + (Scale ? c : 0), 2 * c);
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this, inputs[0], context);

    private sealed class Module : UnaryModule
    {
        private readonly TorchSharp.Modules.Parameter? gamma, beta;
        private readonly Tensor moving_mean, moving_variance;
        private readonly BatchNormalization _c;
        private readonly int _axis;   // feature axis, counting the batch axis
        private readonly long[] _reduce;

        public Module(BatchNormalization c, Shape input, BuildContext context) : base(c.Name)
        {
            _c = c;
            _axis = c.FeatureAxis(input) + 1;
            _reduce = Enumerable.Range(0, input.Rank + 1).Where(a => a != _axis).Select(a => (long)a).ToArray();
            long channels = input[_axis - 1];
            if (c.Scale) gamma = new TorchSharp.Modules.Parameter(c.GammaInitializer.Create([channels], context.Rng));
            if (c.Center) beta = new TorchSharp.Modules.Parameter(c.BetaInitializer.Create([channels], context.Rng));
            moving_mean = c.MovingMeanInitializer.Create([channels], context.Rng);
            moving_variance = c.MovingVarianceInitializer.Create([channels], context.Rng);
            if (gamma is not null) register_parameter("gamma", gamma);
            if (beta is not null) register_parameter("beta", beta);
            register_buffer("moving_mean", moving_mean);
            register_buffer("moving_variance", moving_variance);
        }

        /// <summary>A per-channel vector shaped to broadcast against the input on the feature axis.</summary>
        private Tensor Along(Tensor v, long rank) =>
            _axis == rank - 1 ? v : v.reshape(Enumerable.Range(0, (int)rank).Select(a => a == _axis ? -1L : 1L).ToArray());

        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            Tensor mean, variance;
            // Keras 3: a frozen BatchNormalization runs in inference mode (moving statistics, no updates).
            if (context.Training && _c.Trainable)
            {
                (variance, mean) = input.var_mean(_reduce, unbiased: false);
                using (no_grad())
                {
                    var m = _c.Momentum;
                    moving_mean.mul_(m).add_(mean.detach(), alpha: 1 - m);
                    moving_variance.mul_(m).add_(variance.detach(), alpha: 1 - m);
                }
            }
            else (mean, variance) = (moving_mean, moving_variance);
            var rank = input.dim();
            var inv = (variance + _c.Epsilon).rsqrt();
            if (gamma is not null) inv = inv * gamma;
            var shift = -mean * inv;
            if (beta is not null) shift = shift + beta;
            return input * Along(inv, rank) + Along(shift, rank);
        }

        public override IEnumerable<Tensor> Penalties()
        {
            if (_c.GammaRegularizer is not null && gamma is not null) yield return _c.GammaRegularizer.Penalty(gamma);
            if (_c.BetaRegularizer is not null && beta is not null) yield return _c.BetaRegularizer.Penalty(beta);
        }
    }
}
