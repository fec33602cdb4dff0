using System.Text.Json.Nodes;
using TrainingService.Training.Keras;
using TrainingService.Training.Layers;
using TrainingService.Training.Models;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Onnx;

/// <summary>
/// A trained model as an ONNX graph (opset 17, IR version 8) for inference. Tensors stay in Keras's channels-last
/// layout between layers, as in the engine: a convolution or pooling transposes to NCHW around its ONNX operator, so
/// Flatten and Dense see Keras's order and the exported Dense kernels need no permutation. Dropout and noise layers
/// vanish (inference); BatchNormalization becomes its folded affine map; LSTM/GRU/SimpleRNN use ONNX's LSTM/GRU/RNN
/// (time-major, transposed around them), LSTM's gates reordered from Keras's [i|f|c|o] to ONNX's [i|o|f|c], GRU's
/// <c>reset_after</c> as <c>linear_before_reset</c>. What it cannot write exactly is refused with the layer's path.
/// </summary>
public static class OnnxExporter
{
    public const int Opset = 17;
    public const int IrVersion = 8;

    public static byte[] Export(ModelDefinition model, IReadOnlyDictionary<string, Tensor> state, string name, JsonObject? metadata = null)
    {
        var variables = KerasVariables.FromState(model, state);
        var b = new Builder();
        var errors = new List<SpecError>();
        var names = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var inputs = new List<OnnxValueInfo>();
        foreach (var input in model.Inputs)
        {
            inputs.Add(new OnnxValueInfo(input.Name, input.IsInteger ? OnnxType.Int64 : OnnxType.Float, Dims(input.Shape)));
            names[input.Name] = [input.Name];
        }
        foreach (var node in model.Layers)
        {
            var x = node.Inputs.Select(r => names[r.Node][r.Index]).ToArray();
            var vars = variables.Where(v => v.Layer == node.Name).ToList();
            try
            {
                names[node.Name] = [Layer(b, node, x, vars)];
            }
            catch (NotSupportedException e)
            {
                errors.Add(new SpecError(node.Path, $"layer '{node.Name}' ({LayerRegistry.NameOf(node.Layer.GetType())}): {e.Message}"));
                names[node.Name] = [node.Name];
            }
        }
        if (errors.Count > 0) throw new SpecException(errors);
        var outputs = new List<OnnxValueInfo>();
        for (var i = 0; i < model.Outputs.Count; i++)
        {
            var r = model.Outputs[i];
            var outName = model.Outputs.Count == 1 ? "output" : $"output_{r.Node}";
            b.Node("Identity", [names[r.Node][r.Index]], outName);
            outputs.Add(new OnnxValueInfo(outName, OnnxType.Float, Dims(model.OutputShapes[i])));
        }
        var meta = new Dictionary<string, string>();
        if (metadata is not null) meta["training_service"] = metadata.ToJsonString();
        var graph = new OnnxGraph(name, b.Nodes, b.Initializers, inputs, outputs);
        return new OnnxModel(graph, IrVersion, Opset, "TrainingService", "1", meta).ToBytes();
    }

    private static long?[] Dims(Shape shape) => [null, .. shape.Dims.Select(d => d < 0 ? (long?)null : d)];

    private static string Layer(Builder b, LayerNode node, string[] x, List<KerasVariable> vars)
    {
        var n = node.Name;
        var rank = node.InputShapes[0].Rank + 1;   // with the batch axis
        float[] Var(string name, string scope = "") => vars.Single(v => v.Name == name && v.Scope == scope).Data;
        KerasVariable V(string name, string scope = "") => vars.Single(v => v.Name == name && v.Scope == scope);
        switch (node.Layer)
        {
            case InputLayer:
                return x[0];
            case Dropout or SpatialDropout1D or SpatialDropout2D:
                return x[0];
            case RandomFlip or BaseRandomAffine or RandomContrast:
                return x[0];   // augmentation: identity in inference
            case CenterCrop cc:
            {
                var image = node.InputShapes[0];
                if (image[0] < 0 || image[1] < 0) throw new NotSupportedException("images of unknown size are not exported");
                if (image[0] < cc.Height || image[1] < cc.Width) return SmartResize(b, n, x[0], image, cc.Height, cc.Width, "bilinear");
                long top = (image[0] - cc.Height) / 2, left = (image[1] - cc.Width) / 2;
                return Crop(b, n, x[0], top, left, cc.Height, cc.Width);
            }
            case RandomCrop rc:
            {
                var image = node.InputShapes[0];
                if (image[0] < 0 || image[1] < 0) throw new NotSupportedException("images of unknown size are not exported");
                return SmartResize(b, n, x[0], image, rc.Height, rc.Width, "bilinear");   // its inference behaviour
            }
            case Resizing rs:
            {
                var image = node.InputShapes[0];
                if (!rs.CropToAspectRatio) return Resize(b, n, x[0], rs.Height, rs.Width, rs.Interpolation);
                if (image[0] < 0 || image[1] < 0) throw new NotSupportedException("crop_to_aspect_ratio on images of unknown size is not exported");
                return SmartResize(b, n, x[0], image, rs.Height, rs.Width, rs.Interpolation);
            }
            case Dense d:
            {
                var kernel = V("kernel");
                var y = b.Node("MatMul", [x[0], b.Const($"{n}/kernel", kernel.Shape, kernel.Data)], $"{n}/matmul");
                if (d.UseBias) y = b.Node("Add", [y, b.Const($"{n}/bias", [d.Units], Var("bias"))], $"{n}/bias_add");
                return Activate(b, y, d.Activation ?? "linear", n);
            }
            case Activation a:
                return Activate(b, x[0], a.Function, n);
            case BaseConv or BaseDepthwiseConv:
                return Convolution(b, node, x[0], vars);
            case MaxPooling1D or MaxPooling2D or AveragePooling1D or AveragePooling2D:
                return Pool(b, node, x[0]);
            case GlobalPooling g:
            {
                var axes = Enumerable.Range(1, rank - 2).Select(i => (long)i).ToArray();
                var op = g is GlobalMaxPooling1D or GlobalMaxPooling2D ? "ReduceMax" : "ReduceMean";
                return b.Node(op, [x[0]], n, OnnxAttribute.IntList("axes", axes), OnnxAttribute.Int("keepdims", g.Keepdims ? 1 : 0));
            }
            case Flatten:
                return b.Node("Flatten", [x[0]], n, OnnxAttribute.Int("axis", 1));
            case Reshape r:
                return b.Node("Reshape", [x[0], b.Ints($"{n}/shape", [0, .. r.TargetShape.Select(v => (long)v)])], n);
            case Normalization nz:
            {
                // Keras: (x − mean) / max(√variance, ε) with ε = backend.epsilon() = 1e-7, or x·max(√variance, ε) + mean
                // inverted; the engine's broadcastable (1, …) layout is Keras's channels-last one.
                long[] shape = [1, .. nz.StatShape(node.InputShapes[0])];
                float[] mean, variance;
                if (nz.HasConfigStatistics)
                {
                    var (m, v) = nz.InitialStatistics(node.InputShapes[0]);
                    using (m) using (v) (mean, variance) = (m.data<float>().ToArray(), v.data<float>().ToArray());
                }
                else (mean, variance) = (Var("mean"), Var("variance"));
                var std = variance.Select(v => MathF.Max(MathF.Sqrt(v), 1e-7f)).ToArray();
                if (nz.Invert)
                {
                    var scaled = b.Node("Mul", [x[0], b.Const($"{n}/std", shape, std)], $"{n}/mul");
                    return b.Node("Add", [scaled, b.Const($"{n}/mean", shape, mean)], n);
                }
                var centred = b.Node("Sub", [x[0], b.Const($"{n}/mean", shape, mean)], $"{n}/sub");
                return b.Node("Div", [centred, b.Const($"{n}/std", shape, std)], n);
            }
            case Rescaling r:
            {
                var y = b.Node("Mul", [x[0], b.Const($"{n}/scale", [], [(float)r.Scale])], $"{n}/mul");
                return b.Node("Add", [y, b.Const($"{n}/offset", [], [(float)r.Offset])], n);
            }
            case BatchNormalization bn:
            {
                RequireLastAxis(bn.Axis, rank, "BatchNormalization");
                var mean = Var("moving_mean");
                var variance = Var("moving_variance");
                var gamma = bn.Scale ? Var("gamma") : null;
                var beta = bn.Center ? Var("beta") : null;
                var c = mean.Length;
                var scale = new float[c];
                var shift = new float[c];
                for (var i = 0; i < c; i++)
                {
                    // The engine computes (x - mean) / sqrt(var + eps) * gamma + beta in float32; folded it differs
                    // by rounding only.
                    var s = (gamma?[i] ?? 1f) / MathF.Sqrt(variance[i] + (float)bn.Epsilon);
                    scale[i] = s;
                    shift[i] = (beta?[i] ?? 0f) - mean[i] * s;
                }
                var y = b.Node("Mul", [x[0], b.Const($"{n}/scale", [c], scale)], $"{n}/mul");
                return b.Node("Add", [y, b.Const($"{n}/shift", [c], shift)], n);
            }
            case LayerNormalization ln:
            {
                RequireLastAxis(ln.Axis, rank, "LayerNormalization");
                if (ln.RmsScaling) throw new NotSupportedException("rms_scaling has no ONNX operator in opset 17");
                var c = node.InputShapes[0].Last;
                var gamma = ln.Scale ? Var("gamma") : Enumerable.Repeat(1f, c).ToArray();
                List<string> ins = [x[0], b.Const($"{n}/gamma", [c], gamma)];
                if (ln.Center) ins.Add(b.Const($"{n}/beta", [c], Var("beta")));
                return b.Node("LayerNormalization", ins, n, OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", (float)ln.Epsilon));
            }
            case Embedding e:
            {
                if (e.MaskZero) throw new NotSupportedException("mask_zero (masking) is not exported to ONNX; train without mask_zero to export");
                var table = V("embeddings");
                var ids = b.Node("Cast", [x[0]], $"{n}/ids", OnnxAttribute.Int("to", (long)OnnxType.Int64));
                return b.Node("Gather", [b.Const($"{n}/embeddings", table.Shape, table.Data), ids], n, OnnxAttribute.Int("axis", 0));
            }
            case RecurrentConfig r:
                return Recurrent(b, node, r, x[0], vars);
            case Add:
                return Chain(b, "Add", x, n);
            case Subtract:
                return b.Node("Sub", [x[0], x[1]], n);
            case Multiply:
                return Chain(b, "Mul", x, n);
            case Maximum:
                return b.Node("Max", x, n);
            case Average:
            {
                var sum = b.Node("Sum", x, $"{n}/sum");
                return b.Node("Div", [sum, b.Const($"{n}/count", [], [x.Length])], n);
            }
            case Concatenate cc:
                return b.Node("Concat", x, n, OnnxAttribute.Int("axis", cc.Axis));
            default:
                throw new NotSupportedException("this layer has no ONNX export yet; export as keras instead");
        }
    }

    private static string Chain(Builder b, string op, string[] x, string name)
    {
        var y = x[0];
        for (var i = 1; i < x.Length; i++) y = b.Node(op, [y, x[i]], i == x.Length - 1 ? name : $"{name}/{i}");
        return y;
    }

    private static void RequireLastAxis(Axes axis, int rank, string what)
    {
        if (axis.Values.Length != 1 || axis.Values[0] != -1 && axis.Values[0] != rank - 1)
            throw new NotSupportedException($"{what} over axis {axis.Describe()} is not exported; only the last (channels) axis");
    }

    /// <summary>channels-last (N, spatial…, C) to channels-first and back, around an NCHW-only ONNX operator.</summary>
    private static long[] ToChannelsFirst(int rank) => [0, rank - 1, .. Enumerable.Range(1, rank - 2).Select(i => (long)i)];

    private static long[] ToChannelsLast(int rank) => [0, .. Enumerable.Range(2, rank - 2).Select(i => (long)i), 1];

    private static long[] Pads(Shape input, int[] kernel, int[] strides, int[] dilation, string padding)
    {
        var spatial = kernel.Length;
        var pads = new long[2 * spatial];
        if (padding == "causal")
            for (var i = 0; i < spatial; i++) pads[i] = Padding.EffectiveKernel(kernel[i], dilation[i]) - 1;
        if (padding != "same") return pads;
        for (var i = 0; i < spatial; i++)
        {
            var (before, after) = Padding.Same(input[i], kernel[i], strides[i], dilation[i]);
            pads[i] = before;
            pads[spatial + i] = after;
        }
        return pads;
    }

    /// <summary>A convolution, depthwise convolution (ONNX Conv with one group per input channel) or separable
    /// convolution (that, then a 1×…×1 Conv), each between transposes to channels-first and back.</summary>
    private static string Convolution(Builder b, LayerNode node, string x, List<KerasVariable> vars)
    {
        var n = node.Name;
        var input = node.InputShapes[0];
        var rank = input.Rank + 1;
        KerasVariable V(string name) => vars.Single(v => v.Name == name && v.Scope == "");
        var xt = b.Node("Transpose", [x], $"{n}/to_channels_first", OnnxAttribute.IntList("perm", ToChannelsFirst(rank)));
        string y;
        string? activation;
        switch (node.Layer)
        {
            case BaseConvTranspose:
                throw new NotSupportedException("transposed convolutions are not exported to ONNX yet; export as keras or tfjs");
            case BaseConv c:
            {
                // Keras (k…, in, out) → ONNX (out, in, k…).
                y = Conv(b, $"{n}/conv", xt, Kernel(V("kernel"), 1), c.UseBias ? V("bias").Data : null, c.KernelSize, c.Strides, c.DilationRate,
                    Pads(input, c.KernelSize, c.Strides, c.DilationRate, c.Padding), c.Groups);
                activation = c.Activation;
                break;
            }
            case BaseSeparableConv sc:
            {
                var ones = sc.KernelSize.Select(_ => 1).ToArray();
                var d = Conv(b, $"{n}/depthwise", xt, Kernel(V("depthwise_kernel"), sc.DepthMultiplier), null, sc.KernelSize, sc.Strides, sc.DilationRate,
                    Pads(input, sc.KernelSize, sc.Strides, sc.DilationRate, sc.Padding), input.Last);
                y = Conv(b, $"{n}/pointwise", d, Kernel(V("pointwise_kernel"), 1), sc.UseBias ? V("bias").Data : null, ones, ones, ones,
                    new long[2 * ones.Length], 1);
                activation = sc.Activation;
                break;
            }
            case BaseDepthwiseConv dc:
                y = Conv(b, $"{n}/conv", xt, Kernel(V("depthwise_kernel"), dc.DepthMultiplier), dc.UseBias ? V("bias").Data : null, dc.KernelSize, dc.Strides,
                    dc.DilationRate, Pads(input, dc.KernelSize, dc.Strides, dc.DilationRate, dc.Padding), input.Last);
                activation = dc.Activation;
                break;
            default:
                throw new NotSupportedException("not a convolution");
        }
        y = b.Node("Transpose", [y], $"{n}/to_channels_last", OnnxAttribute.IntList("perm", ToChannelsLast(rank)));
        return Activate(b, y, activation ?? "linear", n);
    }

    /// <summary>A Keras kernel (k…, in, out) as ONNX's (out, in, k…); a depthwise kernel (k…, in, m) first becomes the
    /// grouped (k…, 1, in·m) (<paramref name="depthwise"/> > 0 marks it).</summary>
    private static (long[] Shape, float[] Data) Kernel(KerasVariable kernel, int depthwise)
    {
        using var k0 = tensor(kernel.Data, kernel.Shape);
        var spatial = kernel.Shape.Length - 2;
        using var k = kernel.Name == "depthwise_kernel" ? k0.reshape([.. kernel.Shape[..spatial], 1, kernel.Shape[spatial] * depthwise]) : k0.alias();
        long[] order = [spatial + 1, spatial, .. Enumerable.Range(0, spatial).Select(i => (long)i)];
        using var w = k.permute(order).contiguous();
        return (w.shape, w.data<float>().ToArray());
    }

    private static string Conv(Builder b, string name, string x, (long[] Shape, float[] Data) kernel, float[]? bias, int[] kernelSize, int[] strides,
        int[] dilation, long[] pads, long group)
    {
        List<string> ins = [x, b.Const($"{name}/kernel", kernel.Shape, kernel.Data)];
        if (bias is not null) ins.Add(b.Const($"{name}/bias", [bias.Length], bias));
        return b.Node("Conv", ins, name,
            OnnxAttribute.IntList("kernel_shape", [.. kernelSize.Select(v => (long)v)]),
            OnnxAttribute.IntList("strides", [.. strides.Select(v => (long)v)]),
            OnnxAttribute.IntList("dilations", [.. dilation.Select(v => (long)v)]),
            OnnxAttribute.IntList("pads", pads),
            OnnxAttribute.Int("group", group));
    }

    private static string Crop(Builder b, string n, string x, long top, long left, long height, long width) =>
        b.Node("Slice", [x, b.Ints($"{n}/starts", [top, left]), b.Ints($"{n}/ends", [top + height, left + width]), b.Ints($"{n}/axes", [1, 2])], $"{n}/crop");

    /// <summary>Keras's smart_resize on a known (H, W): the centred window of the target aspect ratio, then resized.</summary>
    private static string SmartResize(Builder b, string n, string x, Shape image, long height, long width, string interpolation)
    {
        var (top, left, h, w) = ImageOps.AspectWindow(image[0], image[1], height, width);
        var y = h == image[0] && w == image[1] ? x : Crop(b, n, x, top, left, h, w);
        return h == height && w == width ? b.Node("Identity", [y], n) : Resize(b, n, y, height, width, interpolation);
    }

    /// <summary>TensorFlow's resize as ONNX Resize on NCHW: half-pixel centres; "nearest" reads floor((o + 0.5)·in/out),
    /// which is half_pixel with round_prefer_ceil. The batch and channel sizes are taken from the input's shape.</summary>
    private static string Resize(Builder b, string n, string x, long height, long width, string interpolation)
    {
        var xt = b.Node("Transpose", [x], $"{n}/to_channels_first", OnnxAttribute.IntList("perm", ToChannelsFirst(4)));
        var shape = b.Node("Shape", [xt], $"{n}/shape");
        var nc = b.Node("Slice", [shape, b.Ints($"{n}/nc_start", [0]), b.Ints($"{n}/nc_end", [2])], $"{n}/nc");
        var sizes = b.Node("Concat", [nc, b.Ints($"{n}/hw", [height, width])], $"{n}/sizes", OnnxAttribute.Int("axis", 0));
        var attributes = interpolation == "nearest"
            ? new[] { OnnxAttribute.Text("mode", "nearest"), OnnxAttribute.Text("coordinate_transformation_mode", "half_pixel"), OnnxAttribute.Text("nearest_mode", "round_prefer_ceil") }
            : [OnnxAttribute.Text("mode", "linear"), OnnxAttribute.Text("coordinate_transformation_mode", "half_pixel")];
        // roi and scales as empty tensors (the writer keeps no empty input names), sizes given.
        var y = b.Node("Resize", [xt, b.Const($"{n}/roi", [0], []), b.Const($"{n}/scales", [0], []), sizes], $"{n}/resize", attributes);
        return b.Node("Transpose", [y], n, OnnxAttribute.IntList("perm", ToChannelsLast(4)));
    }

    private static string Pool(Builder b, LayerNode node, string x)
    {
        var n = node.Name;
        var (max, pool, strides, padding) = node.Layer switch
        {
            MaxPooling1D p => (true, p.PoolSize, p.Strides, p.Padding),
            MaxPooling2D p => (true, p.PoolSize, p.Strides, p.Padding),
            AveragePooling1D p => (false, p.PoolSize, p.Strides, p.Padding),
            AveragePooling2D p => (false, p.PoolSize, p.Strides, p.Padding),
            _ => throw new NotSupportedException("not a pooling layer"),
        };
        var stride = strides ?? pool;
        var rank = node.InputShapes[0].Rank + 1;
        var xt = b.Node("Transpose", [x], $"{n}/to_channels_first", OnnxAttribute.IntList("perm", ToChannelsFirst(rank)));
        List<OnnxAttribute> attributes =
        [
            OnnxAttribute.IntList("kernel_shape", [.. pool.Select(v => (long)v)]),
            OnnxAttribute.IntList("strides", [.. stride.Select(v => (long)v)]),
            OnnxAttribute.IntList("pads", Pads(node.InputShapes[0], pool, stride, [.. pool.Select(_ => 1)], padding)),
        ];
        // Keras averages over the valid cells only when padding is "same" (count_include_pad = 0, ONNX's default).
        var y = b.Node(max ? "MaxPool" : "AveragePool", [xt], $"{n}/pool", [.. attributes]);
        return b.Node("Transpose", [y], n, OnnxAttribute.IntList("perm", ToChannelsLast(rank)));
    }

    private static string Recurrent(Builder b, LayerNode node, RecurrentConfig r, string x, List<KerasVariable> vars)
    {
        var n = node.Name;
        if (r.GoBackwards) throw new NotSupportedException("go_backwards is not exported to ONNX");
        if (r.ReturnState) throw new NotSupportedException("return_state is not exported to ONNX");
        if (r.Stateful) throw new NotSupportedException("stateful RNNs are not exported");
        var recurrentActivation = r switch { LSTM l => l.RecurrentActivation, GRU g => g.RecurrentActivation, _ => "sigmoid" };
        string Op(string act) => act switch
        {
            "tanh" => "Tanh",
            "sigmoid" => "Sigmoid",
            "relu" => "Relu",
            _ => throw new NotSupportedException($"activation '{act}' inside a recurrent cell is not exported (ONNX cells take tanh, sigmoid or relu here)"),
        };
        var u = r.Units;
        var kernel = vars.Single(v => v.Name == "kernel" && v.Scope == "cell");
        var recurrent = vars.Single(v => v.Name == "recurrent_kernel" && v.Scope == "cell");
        var bias = r.UseBias ? vars.Single(v => v.Name == "bias" && v.Scope == "cell") : null;
        using var k = tensor(kernel.Data, kernel.Shape).t();            // (gates·u, in)
        using var rk = tensor(recurrent.Data, recurrent.Shape).t();     // (gates·u, u)
        var gates = r switch { LSTM => 4, GRU => 3, _ => 1 };
        // LSTM: Keras [i|f|c|o] → ONNX [i|o|f|c]; GRU: Keras [z|r|h] is ONNX's order; RNN: one block.
        int[] blocks = r is LSTM ? [0, 3, 1, 2] : [.. Enumerable.Range(0, gates)];
        Tensor Reorder(Tensor rows) => cat(blocks.Select(i => rows.narrow(0, (long)i * u, u)).ToArray());
        using var w = Reorder(k).unsqueeze(0).contiguous();
        using var rw = Reorder(rk).unsqueeze(0).contiguous();
        float[] wb, rb;
        if (bias is null) { wb = new float[gates * u]; rb = new float[gates * u]; }
        else if (r is GRU { ResetAfter: true })
        {
            using var bt = tensor(bias.Data, bias.Shape);
            wb = bt[0].data<float>().ToArray();
            rb = bt[1].data<float>().ToArray();
        }
        else
        {
            using var bt = Reorder(tensor(bias.Data, bias.Shape)).contiguous();
            wb = bt.data<float>().ToArray();
            rb = new float[gates * u];
        }
        float[] bAll = [.. wb, .. rb];
        // ONNX Runtime's CPU kernels take only layout 0 (time-major), so the batch-major sequence is transposed around it.
        List<OnnxAttribute> attributes = [OnnxAttribute.Int("hidden_size", u)];
        string op;
        switch (r)
        {
            case LSTM:
                op = "LSTM";
                attributes.Add(OnnxAttribute.TextList("activations", Op(recurrentActivation), Op(r.Activation), Op(r.Activation)));
                break;
            case GRU g:
                op = "GRU";
                attributes.Add(OnnxAttribute.TextList("activations", Op(recurrentActivation), Op(r.Activation)));
                attributes.Add(OnnxAttribute.Int("linear_before_reset", g.ResetAfter ? 1 : 0));
                break;
            default:
                op = "RNN";
                attributes.Add(OnnxAttribute.TextList("activations", Op(r.Activation)));
                break;
        }
        var xt = b.Node("Transpose", [x], $"{n}/time_major", OnnxAttribute.IntList("perm", 1, 0, 2));
        var outputs = b.NodeN(op, [xt, b.Const($"{n}/W", w.shape, w.data<float>().ToArray()), b.Const($"{n}/R", rw.shape, rw.data<float>().ToArray()), b.Const($"{n}/B", [1, 2L * gates * u], bAll)],
            [$"{n}/Y", $"{n}/Y_h"], [.. attributes]);
        // Y is (seq, directions, batch, u); Y_h is (directions, batch, u).
        if (!r.ReturnSequences) return b.Node("Squeeze", [outputs[1], b.Ints($"{n}/axis_dir", [0])], n);
        var y = b.Node("Squeeze", [outputs[0], b.Ints($"{n}/axis_dir", [1])], $"{n}/sequence");
        return b.Node("Transpose", [y], n, OnnxAttribute.IntList("perm", 1, 0, 2));
    }

    private static string Activate(Builder b, string x, string activation, string layer)
    {
        var n = $"{layer}/{activation}";
        return activation switch
        {
            "linear" => x,
            "relu" => b.Node("Relu", [x], n),
            "sigmoid" => b.Node("Sigmoid", [x], n),
            "tanh" => b.Node("Tanh", [x], n),
            "softmax" => b.Node("Softmax", [x], n, OnnxAttribute.Int("axis", -1)),
            "log_softmax" => b.Node("LogSoftmax", [x], n, OnnxAttribute.Int("axis", -1)),
            "elu" => b.Node("Elu", [x], n, OnnxAttribute.Float("alpha", 1f)),
            "selu" => b.Node("Selu", [x], n),
            "softplus" => b.Node("Softplus", [x], n),
            "softsign" => b.Node("Softsign", [x], n),
            "exponential" => b.Node("Exp", [x], n),
            "leaky_relu" => b.Node("LeakyRelu", [x], n, OnnxAttribute.Float("alpha", 0.2f)),
            "relu6" => b.Node("Clip", [x, b.Const($"{n}/min", [], [0f]), b.Const($"{n}/max", [], [6f])], n),
            // Keras 3's hard_sigmoid is relu6(x + 3) / 6, ONNX's HardSigmoid with alpha 1/6, beta 1/2.
            "hard_sigmoid" => b.Node("HardSigmoid", [x], n, OnnxAttribute.Float("alpha", 1f / 6), OnnxAttribute.Float("beta", 0.5f)),
            "swish" or "silu" => b.Node("Mul", [x, b.Node("Sigmoid", [x], $"{n}/sigmoid")], n),
            _ => throw new NotSupportedException($"activation '{activation}' is not exported to ONNX"),
        };
    }

    private sealed class Builder
    {
        public List<OnnxNode> Nodes { get; } = [];
        public List<OnnxTensor> Initializers { get; } = [];

        public string Node(string op, IReadOnlyList<string> inputs, string output, params OnnxAttribute[] attributes)
        {
            Nodes.Add(new OnnxNode(op, inputs, [output], output, attributes));
            return output;
        }

        public string[] NodeN(string op, IReadOnlyList<string> inputs, string[] outputs, params OnnxAttribute[] attributes)
        {
            Nodes.Add(new OnnxNode(op, inputs, outputs, outputs[0], attributes));
            return outputs;
        }

        public string Const(string name, long[] dims, float[] values)
        {
            Initializers.Add(OnnxTensor.Floats(name, dims, values));
            return name;
        }

        public string Ints(string name, long[] values)
        {
            Initializers.Add(OnnxTensor.Int64s(name, [values.Length], values));
            return name;
        }
    }
}
