using System.Text.Json;
using TrainingService.Training.Callbacks;
using TrainingService.Training.Engine;
using TrainingService.Training.Losses;
using TrainingService.Training.Specs;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace TrainingService.Training.Tests.Compile;

/// <summary>The compile/fit pieces used together the way the trainer uses them, on a logistic regression.</summary>
public class EndToEndTests
{
    [Fact]
    public void LogisticRegression_TrainsWithAdamBceAccuracyAndEarlyStopping()
    {
        var errors = new List<SpecError>();
        var compile = CompileParser.Parse(JsonDocument.Parse("""
            {"optimizer": {"type": "Adam", "learning_rate": 0.1}, "loss": "binary_crossentropy", "metrics": ["accuracy", "auc"]}
            """).RootElement, "compile", ["out"], [[1]], errors)!;
        var fit = FitParser.Parse(JsonDocument.Parse("""
            {"epochs": 50, "callbacks": [{"type": "EarlyStopping", "monitor": "loss", "min_delta": 0.001, "patience": 2, "restore_best_weights": true}]}
            """).RootElement, "fit", new EngineLimits(), errors)!;
        Assert.Empty(errors);
        Assert.Empty(fit.CheckCallbacks(compile, hasValidation: false));

        var g = manual_seed(3);
        var x = randn(64, 2, generator: g);
        var y = (x[.., 0] + x[.., 1] > 0).to_type(ScalarType.Int64);
        var w = new Parameter(zeros(2, 1));
        var b = new Parameter(zeros(1));
        var optimizer = compile.Optimizer.Create([("w", w), ("b", b)]);
        var output = compile.Outputs[0];
        var metrics = output.Metrics.Select(m => m.Create([1], [])).ToArray();
        var control = new TrainingControl(() => optimizer.LearningRate, lr => optimizer.LearningRate = lr,
            () => new Dictionary<string, Tensor> { ["w"] = w.detach().clone(), ["b"] = b.detach().clone() },
            saved => { using var _ = no_grad(); w.copy_(saved["w"]); b.copy_(saved["b"]); });
        var callbacks = fit.Callbacks.Select(c => c.Create(compile.LogKeys(true))).ToArray();
        foreach (var c in callbacks) c.OnTrainBegin(control);
        var losses = new List<double>();
        for (var epoch = 0; epoch < fit.Epochs && !control.StopTraining; epoch++)
        {
            foreach (var m in metrics) m.Reset();
            optimizer.ZeroGrad();
            var logits = x.matmul(w) + b;
            var probabilities = logits.sigmoid();
            var useLogits = output.Loss.LogitsActivation == "sigmoid" ? logits : null;
            var loss = Loss.Reduce(output.Loss.PerExample(y, probabilities, useLogits), null);
            loss.backward();
            optimizer.Step();
            foreach (var m in metrics) m.Update(y, probabilities);
            var logs = new Dictionary<string, double> { ["loss"] = loss.item<float>() };
            for (var i = 0; i < metrics.Length; i++) logs[compile.MetricKeys[0][i]] = metrics[i].Result();
            losses.Add(logs["loss"]);
            foreach (var c in callbacks) c.OnEpochEnd(epoch, logs, control);
        }
        foreach (var c in callbacks) c.OnTrainEnd(control);

        Assert.True(losses[^1] < losses[0] / 3, $"loss went from {losses[0]} to {losses[^1]}");
        Assert.True(metrics[0].Result() > 0.95);
        Assert.True(metrics[1].Result() > 0.99);
        Assert.NotNull(control.BestEpoch);
    }
}
