using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>Random flips, padded crops and affine changes (rotation, zoom, translation) on a float batch of images
/// (N,H,W) or (N,H,W,C), drawing every random number from the run's generator. Affine changes resample with
/// bilinear interpolation and repeat the border pixels (Keras's fill_mode "nearest").</summary>
internal static class ImageAugmenter
{
    public static Tensor Apply(Tensor x, AugmentationSpec a, Generator rng)
    {
        var grey = x.dim() == 3;
        var nchw = grey ? x.unsqueeze(1) : x.permute(0, 3, 1, 2);
        long n = nchw.shape[0], h = nchw.shape[2], w = nchw.shape[3];
        if (a.HorizontalFlip)
        {
            var flip = (rand([n], generator: rng) < 0.5).view(n, 1, 1, 1);
            nchw = where(flip, nchw.flip(3), nchw);
        }
        if (a.RandomCropPadding is > 0 and var p)
        {
            var padded = F.pad(nchw, [p, p, p, p]);
            var offsets = randint(0, 2 * p + 1, [n, 2], generator: rng);
            var crops = new Tensor[n];
            for (long i = 0; i < n; i++)
            {
                long oy = offsets[i, 0].item<long>(), ox = offsets[i, 1].item<long>();
                crops[i] = padded[i].narrow(1, oy, h).narrow(2, ox, w);
            }
            nchw = stack(crops, 0);
        }
        if (a.IsGeometric)
        {
            Tensor Uniform() => rand([n], dtype: ScalarType.Float32, generator: rng) * 2 - 1;
            var angle = Uniform() * (a.Rotation * Math.PI / 180);
            var scale = Uniform() * a.Zoom + 1;
            // affine_grid works in [-1, 1] coordinates, so a shift by a fraction f of the size is 2f.
            var tx = Uniform() * (2 * a.Translation);
            var ty = Uniform() * (2 * a.Translation);
            var cos = angle.cos() / scale;
            var sin = angle.sin() / scale;
            var theta = stack([stack([cos, -sin, tx], 1), stack([sin, cos, ty], 1)], 1);
            var grid = F.affine_grid(theta, [n, nchw.shape[1], h, w], align_corners: false);
            nchw = F.grid_sample(nchw, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false);
        }
        return grey ? nchw.squeeze(1) : nchw.permute(0, 2, 3, 1);
    }
}
