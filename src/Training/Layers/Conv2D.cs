using TrainingService.Training.Activations;
using TrainingService.Training.Initializers;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Conv2D on (H, W, C) inputs. Computes in NCHW views of channels-last storage (no copies).</summary>
[KerasName("Conv2D", "Convolution2D")]
public sealed record Conv2D : Layer
{
    [Range(1)] public required int Filters { get; init; }
    [Tuple(2), Range(1)] public required int[] KernelSize { get; init; }
    [Tuple(2), Range(1)] public int[] Strides { get; init; } = [1, 1];
    [OneOf("valid", "same")] public string Padding { get; init; } = "valid";
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";
    [Tuple(2), Range(1)] public int[] DilationRate { get; init; } = [1, 1];
    [Range(1)] public int Groups { get; init; } = 1;
    [ActivationName] public string? Activation { get; init; } = "linear";
    public bool UseBias { get; init; } = true;
    public Initializer KernelInitializer { get; init; } = Initializer.Named("glorot_uniform");
    public Initializer BiasInitializer { get; init; } = Initializer.Named("zeros");
    public Regularizer? KernelRegularizer { get; init; }
    public Regularizer? BiasRegularizer { get; init; }
    public Regularizer? ActivityRegularizer { get; init; }
    public System.Text.Json.JsonElement? KernelConstraint { get; init; }
    public System.Text.Json.JsonElement? BiasConstraint { get; init; }

    public override IEnumerable<SpecError> Validate(string path)
    {
        foreach (var e in Constraints.RejectSet(path, ("kernel_constraint", KernelConstraint), ("bias_constraint", BiasConstraint))) yield return e;
        if ((Strides[0] > 1 || Strides[1] > 1) && (DilationRate[0] > 1 || DilationRate[1] > 1))
            yield return new SpecError($"{path}.strides", "strides > 1 cannot be combined with dilation_rate > 1 (as in Keras)");
        if (Filters % Groups != 0) yield return new SpecError($"{path}.groups", $"filters ({Filters}) must be divisible by groups ({Groups})");
    }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireRank(x, 3, x.Rank == 2 ? "add Reshape to (H, W, 1)" : null);
        if (x.Last % Groups != 0) throw Expects($"input channels divisible by groups ({Groups})", x);
        var h = Layers.Padding.OutputSize(x[0], KernelSize[0], Strides[0], DilationRate[0], Padding);
        var w = Layers.Padding.OutputSize(x[1], KernelSize[1], Strides[1], DilationRate[1], Padding);
        if (h == 0 || w == 0) throw Expects($"an input at least as large as the kernel {KernelSize[0]}x{KernelSize[1]}", x, "use padding \"same\" or a smaller kernel");
        return [new Shape(h, w, Filters)];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        ((long)KernelSize[0] * KernelSize[1] * (inputs[0].Last / Groups) * Filters + (UseBias ? Filters : 0), 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Conv2DModule(this, inputs[0], context);
}

internal sealed class Conv2DModule : UnaryModule
{
    private readonly TorchSharp.Modules.Parameter weight;
    private readonly TorchSharp.Modules.Parameter? bias;
    private readonly Conv2D _c;
    private readonly Func<Tensor, Tensor> _activation;
    private readonly long[]? _pad;          // F.pad amounts (w_before, w_after, h_before, h_after) when asymmetric
    private readonly long[] _convPadding;   // symmetric padding passed to the convolution

    public Conv2DModule(Conv2D c, Shape input, BuildContext context) : base(c.Name)
    {
        _c = c;
        _activation = ActivationRegistry.Get(c.Activation);
        var inChannels = input.Last / c.Groups;
        // Keras kernel (kh, kw, in, out) -> torch (out, in, kh, kw)
        using var kernel = c.KernelInitializer.Create([c.KernelSize[0], c.KernelSize[1], inChannels, c.Filters], context.Rng);
        using var torchLayout = kernel.permute(3, 2, 0, 1); // a view: disposed here, or it keeps the kernel alive
        weight = new TorchSharp.Modules.Parameter(torchLayout.contiguous());
        if (c.UseBias) bias = new TorchSharp.Modules.Parameter(c.BiasInitializer.Create([c.Filters], context.Rng));
        _convPadding = [0, 0];
        if (c.Padding == "same")
        {
            var (ht, hb) = Padding.Same(input[0], c.KernelSize[0], c.Strides[0], c.DilationRate[0]);
            var (wl, wr) = Padding.Same(input[1], c.KernelSize[1], c.Strides[1], c.DilationRate[1]);
            if (ht == hb && wl == wr) _convPadding = [ht, wl];
            else _pad = [wl, wr, ht, hb];
        }
        RegisterComponents();
    }

    public override Tensor Forward(Tensor input, ForwardContext context)
    {
        var x = input.permute(0, 3, 1, 2);
        if (_pad is not null) x = nn.functional.pad(x, _pad);
        var z = nn.functional.conv2d(x, weight, bias,
            strides: [_c.Strides[0], _c.Strides[1]], padding: _convPadding,
            dilation: [_c.DilationRate[0], _c.DilationRate[1]], groups: _c.Groups).permute(0, 2, 3, 1);
        return Activate(z, _c.Activation, _activation, _c.ActivityRegularizer, context);
    }

    public override IEnumerable<Tensor> Penalties()
    {
        if (_c.KernelRegularizer is not null) yield return _c.KernelRegularizer.Penalty(weight);
        if (_c.BiasRegularizer is not null && bias is not null) yield return _c.BiasRegularizer.Penalty(bias);
    }
}
