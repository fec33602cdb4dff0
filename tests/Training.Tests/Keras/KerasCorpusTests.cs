using System.Text.Json;
using TrainingService.Training.Data;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Tests.Support;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Keras;

/// <summary>
/// Every file in Corpus/ (Keras 2 and 3, Sequential and Functional, list form, TF.js, nested models) converts, its
/// summary equals what Keras reports for that architecture (counts worked out by hand in the comments), and it trains
/// a step on random data.
/// </summary>
public class KerasCorpusTests
{
    public static string CorpusFile(string name) => Path.Combine(SpecFiles.RepoRoot, "tests", "Training.Tests", "Keras", "Corpus", name);

    public static JsonElement Load(string name) => SpecFiles.Json(File.ReadAllText(CorpusFile(name)));

    /// <summary>Expected rows: layer name, output shape, parameters (trainable + non-trainable).</summary>
    public static TheoryData<string, string, long, long> Summaries => new()
    {
        // 784·64+64 = 50240; 64·10+10 = 650
        { "k2_tf24_sequential_mlp.json", "dense [64] 50240; dropout [64] 0; dense_1 [10] 650", 50890, 50890 },
        // list-form config: 20·16+16 = 336; 16+1 = 17
        { "k2_216_list_sequential.json", "dense_1 [16] 336; dropout_1 [16] 0; dense_2 [1] 17", 353, 353 },
        // conv 3·3·1·32+32 = 320; BN 4·32 = 128 (64 moving statistics); conv 3·3·32·64+64 = 18496; 6·6·64 = 2304 → 2304·10+10 = 23050
        { "k2_tf23_functional_cnn.json", "conv2d [26,26,32] 320; batch_normalization [26,26,32] 128; max_pooling2d [13,13,32] 0; conv2d_1 [13,13,64] 18496; average_pooling2d [6,6,64] 0; spatial_dropout2d [6,6,64] 0; flatten [2304] 0; probs [10] 23050", 41994, 41930 },
        // 3·3·3·16+16 = 448; 3·3·16·32+32 = 4640; 32·10+10 = 330
        { "k3_sequential_cnn.json", "rescaling [32,32,3] 0; conv2d [32,32,16] 448; max_pooling2d [16,16,16] 0; conv2d_1 [14,14,32] 4640; global_average_pooling2d [32] 0; dense [10] 330", 5418, 5418 },
        // 1000·32; LSTM 4·16·(32+16)+4·16 = 3136; GRU reset_after 3·8·(16+8)+6·8 = 624; 8+1 = 9
        { "k3_functional_lstm.json", "embedding [50,32] 32000; lstm [50,16] 3136; gru [8] 624; score [1] 9", 35769, 35769 },
        // 8·16+16 = 144; 4·16+16 = 80; LayerNorm 2·80 = 160; 80·3+3 = 243; 16+1 = 17
        { "k3_functional_merges.json", "da [16] 144; db [16] 80; add [16] 0; subtract [16] 0; multiply [16] 0; average [16] 0; maximum [16] 0; concatenate [80] 0; layer_normalization [80] 160; cls [3] 243; reg [1] 17", 644, 644 },
        // conv1d 3·2·4+4 = 28; TimeDistributed(Dense 3) 5·3+3 = 18; SimpleRNN 6·(3+6)+6 = 60; 6·2+2 = 14
        { "k3_sequential_sequence_layers.json", "reshape [12,2] 0; conv1d [10,4] 28; max_pooling1d [5,4] 0; spatial_dropout1d [5,4] 0; permute [4,5] 0; average_pooling1d [2,5] 0; time_distributed [2,3] 18; global_max_pooling1d [3] 0; repeat_vector [4,3] 0; simple_rnn [4,6] 60; global_average_pooling1d [6] 0; activation [6] 0; dense_1 [2] 14", 120, 120 },
        // conv 3·3·1·4+4 = 40; BN without scale: beta 4 + 8 moving; transpose (16-1)+3 = 18, 3·3·4·2+2 = 74; 2+1 = 3
        { "k3_sequential_image_layers.json", "zero_padding2d [10,10,1] 0; conv2d [8,8,4] 40; batch_normalization [8,8,4] 12; up_sampling2d [16,16,4] 0; conv2d_transpose [18,18,2] 74; dropout [18,18,2] 0; global_max_pooling2d [2] 0; dense [1] 3", 129, 121 },
        // nested Sequential flattened: 16·8+8 = 136; 8·4+4 = 36; 4·2+2 = 10
        { "k3_nested_sequential.json", "encoder_dense [8] 136; encoder_dense_1 [4] 36; dense_2 [2] 10", 182, 182 },
        // 5000·16; BiLSTM 2·(4·8·(16+8)+32) = 1600; BiGRU 2·(3·4·(16+4)+6·4) = 528; 8+1 = 9
        { "k2_tf24_bidirectional.json", "embedding [40,16] 80000; bidirectional [40,16] 1600; bidirectional_1 [8] 528; dense [1] 9", 82137, 82137 },
        // LSTM 4·4·(3+4)+16 = 128; GRU without reset_after 3·5·(4+5)+15 = 150; SimpleRNN 6·(5+6)+6 = 72; 6·2+2 = 14
        { "k2_224_standalone_recurrent.json", "lstm_1 [10,4] 128; gru_1 [10,5] 150; simple_rnn_1 [6] 72; dense_1 [2] 14", 364, 364 },
        // nested Functional at node_index 1: 10·5+5 = 55; 5·5+5 = 30; 5+1 = 6
        { "k2_213_nested_functional.json", "block_hidden [5] 55; block_hidden_out [5] 30; y [1] 6", 91, 91 },
        // Keras 3 Bidirectional with its backward_layer, merge "sum": 2·(4·5·(6+5)+4·5) = 480; 5·3+3 = 18
        { "k3_functional_bidirectional.json", "bidirectional [5] 480; dense [3] 18", 498, 498 },
        // 4·8+8 = 40; 8·3+3 = 27
        { "tfjs_layers_model.json", "dense [8] 40; dense_1 [3] 27", 67, 67 },
    };

    [Theory]
    [MemberData(nameof(Summaries))]
    public void CorpusFile_Converts_WithKerasSummary_AndTrainsAStep(string file, string rows, long total, long trainable)
    {
        var conversion = KerasImporter.Convert(Load(file));
        var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(conversion.Model),
            SpecFiles.Json("""{"optimizer": "sgd", "loss": "mse"}"""), SpecFiles.Json("""{"epochs": 1, "batch_size": 4, "seed": 1}"""));
        var actual = string.Join("; ", plan.Summary.Layers.Where(l => l.Type != "InputLayer")
            .Select(l => $"{l.Name} [{string.Join(",", l.OutputShapes[0])}] {l.Parameters}"));
        Assert.Equal(rows, actual);
        Assert.Equal(total, plan.Summary.TotalParameters);
        Assert.Equal(trainable, plan.Summary.TrainableParameters);

        using var data = RandomData(plan, 8);
        using var session = ModelSession.Create(plan);
        var result = session.Fit(data, null, null, CancellationToken.None);
        Assert.True(double.IsFinite(result.History[0].Logs["loss"]), $"loss {result.History[0].Logs["loss"]}");
    }

    /// <summary>Random inputs of the model's shapes (indices below 10 for integer inputs) and targets in [0, 1).</summary>
    public static ArrayDataset RandomData(TrainingPlan plan, int n)
    {
        var g = new Generator(7);
        var inputs = plan.Model.Inputs.Select(i =>
        {
            long[] shape = [n, .. i.Shape.Dims.Select(d => d < 0 ? 5L : d)];
            return i.IsInteger ? randint(0, 10, shape, ScalarType.Int64, generator: g) : rand(shape, generator: g);
        }).ToArray();
        var targets = plan.Model.OutputShapes.Select(s => rand([n, .. s.Dims.Select(d => d < 0 ? 5L : d)], generator: g)).ToArray();
        return new ArrayDataset(inputs, targets);
    }
}
