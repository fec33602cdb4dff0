using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Permute: reorders the per-example axes; <c>dims</c> is 1-based (1 = the first axis after the batch).</summary>
public sealed record Permute : Layer
{
    public required int[] Dims { get; init; }

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (!Dims.Order().SequenceEqual(Enumerable.Range(1, Dims.Length)))
            yield return new SpecError($"{path}.dims", $"[{string.Join(", ", Dims)}] is not a permutation of 1..{Dims.Length} (dims are 1-based; the batch axis stays first)");
    }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        if (inputs[0].Rank != Dims.Length) throw Expects($"a {Dims.Length}-D input to match dims [{string.Join(", ", Dims)}]", inputs[0]);
        return [new Shape(Dims.Select(d => inputs[0][d - 1]).ToArray())];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Dims);

    private sealed class Module(string name, int[] dims) : UnaryModule(name)
    {
        private readonly long[] _order = [0, .. dims.Select(d => (long)d)];

        public override Tensor Forward(Tensor input, ForwardContext context) => input.permute(_order);
    }
}
