using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>
/// What every convolution has, as in Keras's <c>BaseConv</c>: filters, kernel size, strides, padding, dilation and
/// groups over <see cref="Rank"/> spatial axes of a channels-last input, plus the kernel/bias keys of
/// <see cref="KernelLayer"/>. A convolution of a given rank is a constructor call (<c>Conv2D() : base(2)</c>); a layer
/// that convolves differently (transposed, depthwise, separable) overrides the shape rule, the parameter count and
/// <see cref="Layer.Build"/>. The kernel is Keras's <c>(k₁, …, k_rank, in / groups, filters)</c>.
/// </summary>
public abstract record BaseConv : KernelLayer, ISpatialConfig
{
    protected BaseConv(int rank)
    {
        Rank = rank;
        Strides = Ones(rank);
        DilationRate = Ones(rank);
    }

    /// <summary>The number of spatial axes (1 for Conv1D, 2 for Conv2D); the tuple keys have this many elements.</summary>
    public int Rank { get; }

    [Range(1)] public required int Filters { get; init; }
    [Tuple, Range(1)] public required int[] KernelSize { get; init; }
    [Tuple, Range(1)] public int[] Strides { get; init; }
    [OneOf("valid", "same")] public virtual string Padding { get; init; } = "valid";
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";
    [Tuple, Range(1)] public int[] DilationRate { get; init; }
    [Range(1)] public int Groups { get; init; } = 1;

    public override IEnumerable<SpecError> Validate(string path)
    {
        foreach (var error in base.Validate(path)) yield return error;
        if (Strides.Any(s => s > 1) && DilationRate.Any(d => d > 1))
            yield return new SpecError($"{path}.strides", "strides > 1 cannot be combined with dilation_rate > 1 (as in Keras)");
        if (Filters % Groups != 0) yield return new SpecError($"{path}.groups", $"filters ({Filters}) must be divisible by groups ({Groups})");
    }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireInput(x);
        if (x.Last % Groups != 0) throw Expects($"input channels divisible by groups ({Groups})", x);
        // "causal" pads (k-1)·d at the start: as many outputs as "same".
        var padding = Padding == "causal" ? "same" : Padding;
        var dims = new int[Rank + 1];
        for (var i = 0; i < Rank; i++)
            dims[i] = Layers.Padding.OutputSize(x[i], KernelSize[i], Strides[i], DilationRate[i], padding);
        dims[Rank] = Filters;
        if (dims.Contains(0))
            throw Rank == 1
                ? Expects($"at least {Layers.Padding.EffectiveKernel(KernelSize[0], DilationRate[0])} steps for kernel_size {KernelSize[0]}", x, "use padding \"same\" or a smaller kernel")
                : Expects($"an input at least as large as the kernel {string.Join("x", KernelSize)}", x, "use padding \"same\" or a smaller kernel");
        return [new Shape(dims)];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        (KernelSize.Aggregate(1L, (n, k) => n * k) * (inputs[0].Last / Groups) * Filters + (UseBias ? Filters : 0), 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new ConvModule(this, inputs[0], context);

    /// <summary>Checks the input is (spatial…, channels) with a known channel count, saying what to add when not.</summary>
    protected void RequireInput(Shape x)
    {
        RequireRank(x, Rank + 1, (Rank, x.Rank) switch
        {
            (1, 1) => "add Reshape to (steps, 1) or an Embedding",
            (1, _) => "use Conv2D for images, or add Reshape",
            (2, 2) => "add Reshape to (H, W, 1)",
            _ => null,
        });
        if (x.Last < 0) throw Expects("a known channel dimension", x);
    }

    private static int[] Ones(int rank) => Enumerable.Repeat(1, rank).ToArray();
}
