using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras ActivityRegularization: passes its input through and adds <c>l1·Σ|x| + l2·Σx²</c> of it (per
/// example) to the training loss.</summary>
public sealed record ActivityRegularization : Layer
{
    [Range(0)] public double L1 { get; init; }
    [Range(0)] public double L2 { get; init; }

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs) => [inputs[0]];

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, new Regularizer(L1, L2));

    private sealed class Module(string name, Regularizer regularizer) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor x, ForwardContext context)
        {
            AddActivityPenalty(x, regularizer, context);
            return x;
        }
    }
}
