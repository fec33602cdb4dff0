using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TrainingService.Training.Layers;

/// <summary>The image operations the preprocessing layers share, on channels-last batches (N, H, W, C) with Keras's
/// (TensorFlow's) conventions: pixel centres at integer coordinates, half-pixel-centre resizing, and affine
/// transforms mapping each output pixel to the input point it reads.</summary>
internal static class ImageOps
{
    /// <summary>TensorFlow's resize (half-pixel centres, no antialiasing): "bilinear" is torch's
    /// <c>align_corners=False</c>; "nearest" reads input index <c>floor((o + 0.5) · in / out)</c>.</summary>
    public static Tensor Resize(Tensor x, long height, long width, string interpolation)
    {
        if (x.shape[1] == height && x.shape[2] == width) return x;
        if (interpolation == "nearest")
        {
            static Tensor Index(long input, long output) =>
                ((arange(output, ScalarType.Float64) + 0.5) * ((double)input / output)).floor().clamp(0, input - 1).to(ScalarType.Int64);
            return x.index_select(1, Index(x.shape[1], height)).index_select(2, Index(x.shape[2], width));
        }
        var y = F.interpolate(x.permute(0, 3, 1, 2), size: [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
        return y.permute(0, 2, 3, 1);
    }

    /// <summary>The largest centred window of an (H, W) image with the aspect ratio of (h, w), as Keras's
    /// <c>smart_resize</c> and <c>crop_to_aspect_ratio</c> cut it.</summary>
    public static (long Top, long Left, long Height, long Width) AspectWindow(long inHeight, long inWidth, long height, long width)
    {
        var cropHeight = Math.Max(Math.Min(inHeight, (long)((double)inWidth * height / width)), 1);
        var cropWidth = Math.Max(Math.Min(inWidth, (long)((double)inHeight * width / height)), 1);
        return ((inHeight - cropHeight) / 2, (inWidth - cropWidth) / 2, cropHeight, cropWidth);
    }

    /// <summary>Keras's <c>smart_resize</c>: the centred window of the target aspect ratio, resized to (h, w).</summary>
    public static Tensor SmartResize(Tensor x, long height, long width, string interpolation)
    {
        var (top, left, h, w) = AspectWindow(x.shape[1], x.shape[2], height, width);
        return Resize(x.narrow(1, top, h).narrow(2, left, w), height, width, interpolation);
    }

    /// <summary>
    /// Keras's <c>affine_transform</c>: output pixel (x, y) reads the input at (a0·x + a1·y + a2, b0·x + b1·y + b2)
    /// (<paramref name="transform"/> is (N, 6), one row per image). Points outside follow <paramref name="fillMode"/>:
    /// "constant" reads <paramref name="fillValue"/> for every neighbour outside, "nearest" the edge, "reflect" the
    /// mirror image about the edge (d c b a | a b c d), "wrap" the tiled image.
    /// </summary>
    public static Tensor Affine(Tensor x, Tensor transform, string interpolation, string fillMode, double fillValue)
    {
        long n = x.shape[0], h = x.shape[1], w = x.shape[2];
        var t = transform.to(ScalarType.Float32);
        var ys = arange(h, ScalarType.Float32).view(1, h, 1);
        var xs = arange(w, ScalarType.Float32).view(1, 1, w);
        Tensor Col(int i) => t[.., i].view(n, 1, 1);
        var xin = Col(0) * xs + Col(1) * ys + Col(2);
        var yin = Col(3) * xs + Col(4) * ys + Col(5);
        if (fillMode == "wrap")
        {
            xin = xin - w * (xin / w).floor();
            yin = yin - h * (yin / h).floor();
        }
        // grid_sample with align_corners=False puts pixel i's centre at (2i + 1) / size − 1.
        var grid = stack([(2 * xin + 1) / w - 1, (2 * yin + 1) / h - 1], -1);
        var mode = interpolation == "nearest" ? GridSampleMode.Nearest : GridSampleMode.Bilinear;
        var padding = fillMode switch
        {
            "reflect" => GridSamplePaddingMode.Reflection,
            "constant" => GridSamplePaddingMode.Zeros,
            _ => GridSamplePaddingMode.Border,
        };
        var nchw = x.permute(0, 3, 1, 2);
        var y = F.grid_sample(nchw, grid, mode, padding, align_corners: false);
        if (fillMode == "constant" && fillValue != 0)
        {
            // Zeros padding weighs each inside neighbour; the weight of the outside ones goes to the fill value.
            var inside = F.grid_sample(ones(n, 1, h, w), grid, mode, padding, align_corners: false);
            y = y + fillValue * (1 - inside);
        }
        return y.permute(0, 2, 3, 1);
    }
}
