using System.Text.Json;
using TrainingService.Training.Initializers;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras PReLU: <c>relu(x) − alpha · relu(−x)</c> with a trained <c>alpha</c> per input element (zeros to
/// start), shared along <c>shared_axes</c> (1-based, as Keras counts with the batch axis).</summary>
public sealed record PReLU : Layer
{
    public Initializer AlphaInitializer { get; init; } = Initializer.Named("zeros");
    public Regularizer? AlphaRegularizer { get; init; }
    public JsonElement? AlphaConstraint { get; init; }
    public int[]? SharedAxes { get; init; }

    public override bool KeepsMask => true;

    public override IEnumerable<SpecError> Validate(string path) => Constraints.RejectSet(path, ("alpha_constraint", AlphaConstraint));

    private long[] AlphaShape(Shape x)
    {
        var dims = x.Dims.Select(d => (long)d).ToArray();
        foreach (var a in SharedAxes ?? [])
        {
            if (a < 1 || a > x.Rank) throw Expects($"shared_axes within 1..{x.Rank}", x);
            dims[a - 1] = 1;
        }
        if (dims.Any(d => d < 0)) throw Expects("known sizes on the axes that are not shared", x, "share the variable axis with shared_axes");
        return dims;
    }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        AlphaShape(inputs[0]);
        return [inputs[0]];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) => (AlphaShape(inputs[0]).Aggregate(1L, (a, b) => a * b), 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this, AlphaShape(inputs[0]), context);

    private sealed class Module : UnaryModule
    {
        private readonly TorchSharp.Modules.Parameter alpha;
        private readonly PReLU _c;

        public Module(PReLU c, long[] shape, BuildContext context) : base(c.Name)
        {
            _c = c;
            alpha = new TorchSharp.Modules.Parameter(c.AlphaInitializer.Create(shape, context.Rng));
            RegisterComponents();
        }

        public override Tensor Forward(Tensor x, ForwardContext context) => nn.functional.relu(x) - alpha * nn.functional.relu(-x);

        public override IEnumerable<Tensor> Penalties()
        {
            if (_c.AlphaRegularizer is not null) yield return _c.AlphaRegularizer.Penalty(alpha);
        }
    }
}
