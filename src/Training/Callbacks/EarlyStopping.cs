using System.Text.Json.Nodes;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Callbacks;

/// <summary>Keras 3 EarlyStopping: stops when <c>monitor</c> has not improved by more than <c>min_delta</c> for
/// <c>patience</c> epochs (never after the first epoch). The wait counter restarts only when the value also beats
/// <c>baseline</c>. Epochs before <c>start_from_epoch</c> are ignored. With <c>restore_best_weights</c> the best
/// epoch's weights are restored when training ends, whether or not it stopped early (Keras 3; Keras ≤ 2.15 restored
/// only on an early stop).</summary>
public sealed record EarlyStopping : CallbackConfig
{
    [Key("monitor")] public string MonitorKey { get; init; } = "val_loss";
    public double MinDelta { get; init; }
    [Range(0)] public int Patience { get; init; }
    public int Verbose { get; init; }
    [OneOf("auto", "min", "max")] public string Mode { get; init; } = "auto";
    public double? Baseline { get; init; }
    public bool RestoreBestWeights { get; init; }
    [Range(0)] public int StartFromEpoch { get; init; }

    public override string? Monitor => MonitorKey;

    public override Callback Create(IReadOnlyList<(string Name, bool HigherIsBetter)> knownLogKeys)
    {
        var higher = Mode switch
        {
            "max" => true,
            "min" => false,
            _ => HigherIsBetter(MonitorKey, knownLogKeys)
                 ?? throw new InvalidOperationException($"EarlyStopping cannot tell whether {MonitorKey} should be maximised or minimised; set mode"),
        };
        return new EarlyStoppingCallback(this, higher);
    }
}

public sealed class EarlyStoppingCallback(EarlyStopping config, bool higherIsBetter) : Callback
{
    private readonly double _minDelta = higherIsBetter ? Math.Abs(config.MinDelta) : -Math.Abs(config.MinDelta);
    private int _wait, _stoppedEpoch, _bestEpoch;
    private double _best = higherIsBetter ? double.NegativeInfinity : double.PositiveInfinity;
    private Dictionary<string, Tensor>? _bestWeights;
    private bool _restored;

    public EarlyStopping Config { get; } = config;
    public bool HigherIsBetter { get; } = higherIsBetter;
    public double Best => _best;
    public int Wait => _wait;
    /// <summary>0-based epoch at which training was stopped (0 when it was not).</summary>
    public int StoppedEpoch => _stoppedEpoch;
    /// <summary>0-based epoch of the best value.</summary>
    public int BestEpoch => _bestEpoch;

    public override void OnTrainBegin(TrainingControl control)
    {
        // A checkpoint loaded before training begins must survive Keras's "allow re-use" reset.
        if (_restored) { _restored = false; return; }
        _wait = 0;
        _stoppedEpoch = 0;
        SetBestWeights(null);
        _bestEpoch = 0;
    }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs, TrainingControl control)
    {
        _restored = false;
        if (!logs.TryGetValue(Config.MonitorKey, out var current) || epoch < Config.StartFromEpoch) return;
        _wait++;
        if (IsImprovement(current, _best))
        {
            _best = current;
            _bestEpoch = epoch;
            control.BestEpoch = epoch + 1;
            if (Config.RestoreBestWeights) SetBestWeights(control.SnapshotWeights());
            if (Config.Baseline is not { } baseline || IsImprovement(current, baseline)) _wait = 0;
            return;
        }
        // Keras keeps the first monitored epoch's weights even when it is no improvement (a NaN loss, say).
        if (Config.RestoreBestWeights && _bestWeights is null)
        {
            SetBestWeights(control.SnapshotWeights());
            _bestEpoch = epoch;
        }
        if (_wait >= Config.Patience && epoch > 0)
        {
            _stoppedEpoch = epoch;
            control.StopTraining = true;
        }
    }

    public override void OnTrainEnd(TrainingControl control)
    {
        if (Config.RestoreBestWeights && _bestWeights is not null)
        {
            control.RestoreWeights(_bestWeights);
            control.BestEpoch = _bestEpoch + 1;
        }
    }

    private bool IsImprovement(double value, double reference) =>
        HigherIsBetter ? value - _minDelta > reference : value - _minDelta < reference;

    /// <summary>Takes ownership of <paramref name="weights"/> (copies made for this callback, never cloned again) and
    /// frees the previous best.</summary>
    private void SetBestWeights(Dictionary<string, Tensor>? weights)
    {
        if (_bestWeights is not null) foreach (var t in _bestWeights.Values) t.Dispose();
        _bestWeights = weights;
        if (weights is not null) foreach (var t in weights.Values) t.DetachFromDisposeScope();
    }

    protected override void Dispose(bool disposing) => SetBestWeights(null);

    public override JsonObject SaveState() => new()
    {
        ["wait"] = _wait,
        ["stopped_epoch"] = _stoppedEpoch,
        ["best"] = double.IsFinite(_best) ? _best : null,
        ["best_epoch"] = _bestEpoch,
    };

    public override void LoadState(JsonObject state)
    {
        _wait = (int)state["wait"]!;
        _stoppedEpoch = (int)state["stopped_epoch"]!;
        _best = state["best"] is { } b ? (double)b : HigherIsBetter ? double.NegativeInfinity : double.PositiveInfinity;
        _bestEpoch = (int)state["best_epoch"]!;
        _restored = true;
    }

    public override IEnumerable<(string Name, Tensor Value)> StateTensors() =>
        _bestWeights?.Select(kv => ($"best_weights/{kv.Key}", kv.Value)) ?? [];

    public override void LoadStateTensors(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var best = tensors.Where(kv => kv.Key.StartsWith("best_weights/", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["best_weights/".Length..], kv => kv.Value.detach().clone());
        SetBestWeights(best.Count > 0 ? best : null);
        _restored = true;
    }
}
