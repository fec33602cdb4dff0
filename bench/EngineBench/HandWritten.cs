using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrainingService.Bench;

/// <summary>The reference models written directly against TorchSharp, the way a TorchSharp user would write them
/// (NCHW convolutions, torch.optim.Adam, fused losses): the floor the engine is measured against.</summary>
internal static class HandWritten
{
    public static double Epoch(string model, Tensor x, Tensor y, int batchSize, long seed)
    {
        torch.manual_seed(seed);
        using var net = Build(model);
        using var optimizer = torch.optim.Adam(net.parameters(), 0.001, eps: 1e-7);
        net.train();
        var n = x.shape[0];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var order = randperm(n);
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var index = order.narrow(0, start, Math.Min(batchSize, n - start));
            var xb = x.index_select(0, index);
            var yb = y.index_select(0, index);
            Tensor loss;
            switch (model)
            {
                case "mlp":
                    loss = nn.functional.cross_entropy(net.call(xb.to(ScalarType.Float32).div(255.0).flatten(1)), yb.to(ScalarType.Int64));
                    break;
                case "cnn":
                    loss = nn.functional.cross_entropy(net.call(xb.to(ScalarType.Float32).div(255.0).permute(0, 3, 1, 2).contiguous()), yb.to(ScalarType.Int64));
                    break;
                default:
                    loss = nn.functional.binary_cross_entropy_with_logits(net.call(xb).squeeze(-1), yb.to(ScalarType.Float32));
                    break;
            }
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        return clock.Elapsed.TotalSeconds;
    }

    private static nn.Module<Tensor, Tensor> Build(string model) => model switch
    {
        "mlp" => nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)),
        "cnn" => nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2304, 10)),
        _ => new LstmNet(),
    };

    private sealed class LstmNet : nn.Module<Tensor, Tensor>
    {
        private readonly Embedding embedding = nn.Embedding(10000, 128);
        private readonly LSTM lstm = nn.LSTM(128, 128, batchFirst: true);
        private readonly Linear dense = nn.Linear(128, 1);

        public LstmNet() : base("lstm_net") => RegisterComponents();

        public override Tensor forward(Tensor input)
        {
            var (_, h, _) = lstm.forward(embedding.call(input));
            return dense.call(h[0]);
        }
    }
}
