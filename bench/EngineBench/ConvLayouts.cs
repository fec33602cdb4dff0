using System.Diagnostics;
using static TorchSharp.torch;

namespace TrainingService.Bench;

/// <summary>The reference CNN's forward and backward pass (conv32-relu-pool-conv64-relu-pool-flatten-dense10, batch 64,
/// 32x32x3) written with torch.nn.functional in four memory layouts, timed alone (no optimizer, no data pipeline):
/// which layout libtorch's convolutions (oneDNN) are fastest in on this machine.</summary>
internal static class ConvLayouts
{
    /// <summary>Activations: "nhwc" = the Keras batch (N, H, W, C) passed as its permuted view, which is what the engine
    /// does (channels-last memory in NCHW shape); "nchw" = a dense NCHW copy first, as the hand-written loop does.
    /// Weights: contiguous (O, I, kH, kW), or in channels_last memory format.</summary>
    public static readonly (string Name, bool DenseNchw, bool ChannelsLastWeights)[] Variants =
    [
        ("nhwc view, weights contiguous (engine)", false, false),
        ("dense nchw, weights contiguous (hand-written)", true, false),
        ("nhwc view, weights channels_last", false, true),
        ("dense nchw, weights channels_last", true, true),
    ];

    /// <summary>Wall and CPU milliseconds per step of every variant: <paramref name="rounds"/> rounds, each running
    /// <paramref name="steps"/> steps of every variant in turn (A B C D A B C D …), so that a neighbour's load falls on
    /// all of them alike; one entry per round and variant.</summary>
    public static List<(double WallMs, double CpuMs)>[] Compare(int rounds, int steps, int batch = 64)
    {
        using var scope = NewDisposeScope();
        var models = Variants.Select(v => new Cnn(v.DenseNchw, v.ChannelsLastWeights, batch)).ToArray();
        foreach (var m in models)
            for (var i = 0; i < 3; i++) m.Step(); // warm-up: oneDNN builds its primitives for these shapes and layouts
        var times = Variants.Select(_ => new List<(double, double)>()).ToArray();
        var process = Process.GetCurrentProcess();
        for (var r = 0; r < rounds; r++)
        {
            for (var v = 0; v < models.Length; v++)
            {
                process.Refresh();
                var cpu = process.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < steps; i++) models[v].Step();
                var wall = clock.Elapsed.TotalMilliseconds / steps;
                process.Refresh();
                times[v].Add((wall, (process.TotalProcessorTime - cpu).TotalMilliseconds / steps));
            }
        }
        return times;
    }

    /// <summary>One variant's data and parameters (same seed, so the same values, in every variant).</summary>
    private sealed class Cnn
    {
        private readonly bool _denseNchw;
        private readonly int _batch;
        private readonly Tensor _x, _y, _w1, _b1, _w2, _b2, _w3, _b3;

        public Cnn(bool denseNchw, bool clWeights, int batch)
        {
            _denseNchw = denseNchw;
            _batch = batch;
            using var g = new Generator(3);
            _x = rand([batch, 32, 32, 3], generator: g);
            _y = randint(0, 10, [batch], generator: g);
            // TorchSharp 0.107 has no contiguous(memory_format): a channels_last (O, I, kH, kW) weight is an (O, kH, kW, I)
            // tensor seen through a permutation.
            Tensor Kernel(long o, long i, double scale) => clWeights
                ? (randn([o, 3, 3, i], generator: g) * scale).permute(0, 3, 1, 2).requires_grad_()
                : (randn([o, i, 3, 3], generator: g) * scale).requires_grad_();
            _w1 = Kernel(32, 3, 0.1);
            _b1 = zeros(32).requires_grad_();
            _w2 = Kernel(64, 32, 0.05);
            _b2 = zeros(64).requires_grad_();
            _w3 = (randn([10, 2304], generator: g) * 0.02).requires_grad_();
            _b3 = zeros(10).requires_grad_();
        }

        public void Step()
        {
            using var inner = NewDisposeScope();
            var input = _x.permute(0, 3, 1, 2);
            if (_denseNchw) input = input.contiguous();
            var h = nn.functional.max_pool2d(nn.functional.relu(nn.functional.conv2d(input, _w1, _b1)), [2, 2], [2, 2]);
            h = nn.functional.max_pool2d(nn.functional.relu(nn.functional.conv2d(h, _w2, _b2)), [2, 2], [2, 2]);
            // Flatten in Keras's (H, W, C) order, as the engine does, whatever the memory layout.
            var logits = nn.functional.linear(h.permute(0, 2, 3, 1).reshape(_batch, -1), _w3, _b3);
            nn.functional.cross_entropy(logits, _y).backward();
            using var _ = no_grad();
            foreach (var p in new[] { _w1, _b1, _w2, _b2, _w3, _b3 })
            {
                using var grad = p.grad;
                grad?.zero_();
            }
        }
    }
}
