using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// Keras Dot: the batched dot product of two inputs along <c>axes</c> (one axis for both, or one per input; the batch
/// axis counts as 0). The output keeps the remaining axes of the first input, then of the second; a result with no
/// axis left is (1,), as Keras's batch_dot gives. <c>normalize</c> L2-normalises along the axes first (cosine
/// proximity).
/// </summary>
public sealed record Dot : Layer
{
    public required Axes Axes { get; init; }
    public bool Normalize { get; init; }

    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (Axes.Values.Length > 2) yield return new SpecError($"{path}.axes", "expected one axis or two (one per input)");
    }

    private (int A, int B) Resolve(Shape[] inputs)
    {
        var a = Axes.Values[0];
        var b = Axes.Values.Length > 1 ? Axes.Values[1] : a;
        a = a < 0 ? a + inputs[0].Rank + 1 : a;
        b = b < 0 ? b + inputs[1].Rank + 1 : b;
        if (a < 1 || a > inputs[0].Rank || b < 1 || b > inputs[1].Rank)
            throw new ShapeException($"axes [{string.Join(", ", Axes.Values)}] do not name feature axes of {inputs[0]} and {inputs[1]}");
        return (a, b);
    }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var (a, b) = Resolve(inputs);
        var (x, y) = (inputs[0], inputs[1]);
        if (x[a - 1] >= 0 && y[b - 1] >= 0 && x[a - 1] != y[b - 1])
            throw new ShapeException($"expects equal sizes on the dot axes, got {x[a - 1]} (axis {a} of {x}) and {y[b - 1]} (axis {b} of {y})");
        int[] dims = [.. x.Dims.Where((_, i) => i != a - 1), .. y.Dims.Where((_, i) => i != b - 1)];
        return [new Shape(dims.Length == 0 ? [1] : dims)];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context)
    {
        var (a, b) = Resolve(inputs);
        return new Module(Name, a, b, Normalize);
    }

    private sealed class Module(string name, int a, int b, bool normalize) : LayerModule(name)
    {
        public override Tensor[] Forward(Tensor[] inputs, ForwardContext context)
        {
            var (x, y) = (inputs[0], inputs[1]);
            if (normalize)
            {
                x = nn.functional.normalize(x, p: 2, dim: a);
                y = nn.functional.normalize(y, p: 2, dim: b);
            }
            // (batch, rest of x…, k) · (batch, k, rest of y…) as one batched matrix product.
            var xm = x.movedim([a], [x.dim() - 1]);
            var ym = y.movedim([b], [1]);
            var restX = xm.shape[1..^1];
            var restY = ym.shape[2..];
            var batch = x.shape[0];
            var k = xm.shape[^1];
            var product = xm.reshape(batch, -1, k).bmm(ym.reshape(batch, k, -1));
            long[] shape = [batch, .. restX, .. restY];
            return [product.reshape(shape.Length == 1 ? [batch, 1] : shape)];
        }
    }
}
