using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>
/// What every transposed convolution has, as in Keras's <c>BaseConvTranspose</c>: the keys of <see cref="BaseConv"/>
/// plus <c>output_padding</c>. Output size per axis follows Keras (<c>deconv_output_length</c>): "same" gives
/// <c>in·stride</c>, "valid" <c>in·stride + max(k − stride, 0)</c>, or with <c>output_padding</c>
/// <c>(in−1)·stride + k − 2·pad + output_padding</c>. The kernel is Keras's <c>(k…, filters, in)</c>. <c>groups</c> is
/// read because tf.keras 2.4+ writes it (always 1); Keras 3 has no grouped transposed convolution.
/// </summary>
public abstract record BaseConvTranspose : BaseConv
{
    protected BaseConvTranspose(int rank) : base(rank) { }

    [Tuple, Range(0)] public int[]? OutputPadding { get; init; }

    public override IEnumerable<SpecError> Validate(string path)
    {
        foreach (var error in KernelErrors(path)) yield return error;
        if (Groups != 1) yield return new SpecError($"{path}.groups", $"{Groups} is not accepted; a transposed convolution takes groups 1 (as in Keras 3)");
        if (OutputPadding is not null && OutputPadding.Where((p, i) => p >= Strides[i]).Any())
            yield return new SpecError($"{path}.output_padding", $"[{string.Join(", ", OutputPadding)}] must be smaller than strides [{string.Join(", ", Strides)}] (as in Keras)");
    }

    internal int OutputSize(int input, int axis)
    {
        if (input < 0) return -1;
        var k = Layers.Padding.EffectiveKernel(KernelSize[axis], DilationRate[axis]);
        var s = Strides[axis];
        if (OutputPadding is null) return Padding == "same" ? input * s : input * s + Math.Max(k - s, 0);
        var pad = Padding == "same" ? k / 2 : 0;
        return (input - 1) * s + k - 2 * pad + OutputPadding[axis];
    }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireInput(x);
        var dims = new int[Rank + 1];
        for (var i = 0; i < Rank; i++) dims[i] = OutputSize(x[i], i);
        dims[Rank] = Filters;
        if (dims.Contains(0)) throw Expects("an input giving a non-empty output", x);
        return [new Shape(dims)];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new ConvTransposeModule(this, inputs[0], context);
}
