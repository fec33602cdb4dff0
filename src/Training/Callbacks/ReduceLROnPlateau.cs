using System.Text.Json.Nodes;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Callbacks;

/// <summary>Keras 3 ReduceLROnPlateau: after <c>patience</c> epochs without an improvement of more than
/// <c>min_delta</c>, <c>lr = max(lr·factor, min_lr)</c> (only while lr &gt; min_lr), then <c>cooldown</c> epochs in
/// which waiting is suspended. As in Keras, <c>mode="auto"</c> maximises only when "acc" appears in the monitor's
/// name (so <c>val_auc</c> needs <c>mode="max"</c>). Learning rates are float32 as Keras's optimizer variable is.</summary>
public sealed record ReduceLROnPlateau : CallbackConfig
{
    [Key("monitor")] public string MonitorKey { get; init; } = "val_loss";
    [Range(0, 1, MaxExclusive = true)] public double Factor { get; init; } = 0.1;
    [Range(0)] public int Patience { get; init; } = 10;
    public int Verbose { get; init; }
    [OneOf("auto", "min", "max")] public string Mode { get; init; } = "auto";
    public double MinDelta { get; init; } = 1e-4;
    [Range(0)] public int Cooldown { get; init; }
    [Range(0)] public double MinLr { get; init; }

    public override string? Monitor => MonitorKey;

    public override Callback Create(IReadOnlyList<(string Name, bool HigherIsBetter)> knownLogKeys) =>
        new ReduceLROnPlateauCallback(this, Mode == "max" || Mode == "auto" && MonitorKey.Contains("acc", StringComparison.Ordinal));
}

public sealed class ReduceLROnPlateauCallback(ReduceLROnPlateau config, bool higherIsBetter) : Callback
{
    private double _best = higherIsBetter ? double.NegativeInfinity : double.PositiveInfinity;
    private int _wait, _cooldownCounter;
    private bool _restored;

    public ReduceLROnPlateau Config { get; } = config;
    public bool HigherIsBetter { get; } = higherIsBetter;

    public override void OnTrainBegin(TrainingControl control)
    {
        if (_restored) { _restored = false; return; }
        _best = HigherIsBetter ? double.NegativeInfinity : double.PositiveInfinity;
        _wait = 0;
        _cooldownCounter = 0;
    }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs, TrainingControl control)
    {
        _restored = false;
        if (!logs.TryGetValue(Config.MonitorKey, out var current)) return;
        if (_cooldownCounter > 0)
        {
            _cooldownCounter--;
            _wait = 0;
        }
        if (HigherIsBetter ? current > _best + Config.MinDelta : current < _best - Config.MinDelta)
        {
            _best = current;
            _wait = 0;
        }
        else if (_cooldownCounter <= 0)
        {
            _wait++;
            if (_wait >= Config.Patience)
            {
                double oldLr = (float)control.LearningRate;
                if (oldLr > (float)Config.MinLr)
                {
                    control.LearningRate = (float)Math.Max(oldLr * Config.Factor, Config.MinLr);
                    _cooldownCounter = Config.Cooldown;
                    _wait = 0;
                }
            }
        }
    }

    public override JsonObject SaveState() => new()
    {
        ["best"] = double.IsFinite(_best) ? _best : null,
        ["wait"] = _wait,
        ["cooldown_counter"] = _cooldownCounter,
    };

    public override void LoadState(JsonObject state)
    {
        _best = state["best"] is { } b ? (double)b : HigherIsBetter ? double.NegativeInfinity : double.PositiveInfinity;
        _wait = (int)state["wait"]!;
        _cooldownCounter = (int)state["cooldown_counter"]!;
        _restored = true;
    }
}
