using static TorchSharp.torch;

namespace TrainingService.Training.Engine;

/// <summary>
/// How many libtorch intra-op threads a fit uses. A constant cannot be right everywhere: a small-batch MLP on a 2-core
/// AVX2 machine ran 2.3× slower with 2 threads than with 1 (per-op fork/join costs more than the work it splits), while
/// its CNN and LSTM ran 1.5× faster with 2, and on an AVX-512 Xeon 2 threads won for all three. So unless the count is
/// configured (<see cref="Fixed"/>), a fit measures: it times real training steps at 1 and at <see cref="Max"/> threads
/// and keeps the faster by mean step time. Not the median: on a loaded machine one thread's typical step was the faster
/// (0.6 against 1.3 ms) while its epoch was 10× slower, all of it in rare long steps; the mean counts them.
/// <list type="bullet">
/// <item>The counts alternate step by step, not in blocks: on a shared VM whole seconds ran 3× slower, and a block of
/// one count that fell in such a burst made the other look clearly faster (a CNN was trained at its slower count).</item>
/// <item>Each count needs <see cref="MinSteps"/> steps and <see cref="MinMs"/> of work before anything is decided, so a
/// sub-millisecond step is not judged on a few samples of the scheduler's noise, or <see cref="LongMs"/> of work, so a
/// slow step (an LSTM's 200 ms) is timed once per count: four at the slower count cost 9 % of a 20-step epoch.</item>
/// <item>Then the trial stops when one count is faster by <see cref="ClearMargin"/>; otherwise it goes on until each
/// count has <see cref="Rounds"/> times that much, and keeps the lower mean.</item>
/// <item>The choice is measured again <see cref="FirstRemeasureAfter"/> after the first decision, then every
/// <see cref="RemeasureAfter"/> of training: a machine's load changes, and a choice made in a noisy moment costs at
/// most that long.</item>
/// </list>
/// </summary>
/// <param name="Fixed">A configured thread count (<c>Training:TorchThreads</c>), used as is.</param>
/// <param name="Max">The cores this run may use: the machine's divided among the runs that train at once, so that
/// concurrent runs never ask for more threads than there are cores.</param>
public sealed record ThreadPolicy(int? Fixed, int Max)
{
    /// <summary>Warm-up steps before timing (first-touch allocations, lazily built kernels).</summary>
    public const int WarmupSteps = 2;
    public const int MinSteps = 4;
    public const double MinMs = 10;
    public const double LongMs = 100;
    public const int Rounds = 3;
    /// <summary>A count whose mean step is this many times faster than the other's wins as soon as both are timed enough.</summary>
    public const double ClearMargin = 1.25;

    /// <summary>Training time after which the choice is measured again.</summary>
    public TimeSpan RemeasureAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The first re-measurement comes sooner (at most <see cref="RemeasureAfter"/>): a run's first steps share
    /// the cores with its own start (a job's dataset load, the runtime compiling the service's code), and a count chosen
    /// in that noise should not last 30 s.</summary>
    public TimeSpan FirstRemeasureAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock steps are timed with.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public static ThreadPolicy Configured(int threads) => new(Math.Max(1, threads), Math.Max(1, threads));

    public static ThreadPolicy Measured(int maxThreads) => new(null, Math.Max(1, maxThreads));

    internal ThreadTrial Start() => new(this);
}

/// <summary>The thread count a fit ended with and how it was chosen (<c>configured</c>, <c>single core</c>,
/// <c>measured</c>); when measured, the mean milliseconds per step of each candidate in the last trial, how many trials
/// the fit ran and the thread count each of them chose.</summary>
public sealed record ThreadChoice(int Threads, string ChosenBy, IReadOnlyDictionary<int, double>? MeanStepMs = null,
    int? Trials = null, IReadOnlyList<int>? ChoicePerTrial = null);

/// <summary>The measurement around each training step of a fit (see <see cref="ThreadPolicy"/>).</summary>
internal sealed class ThreadTrial
{
    private readonly ThreadPolicy _policy;
    private readonly int[] _candidates;
    private readonly Dictionary<int, List<double>> _times = [];
    private readonly List<int> _choices = [];
    private long _stepStarted, _decidedAt;
    private int _trialStep, _current;
    private bool _measuring;

    public ThreadTrial(ThreadPolicy policy)
    {
        _policy = policy;
        _candidates = policy.Fixed is null && policy.Max > 1 ? [1, policy.Max] : [];
        if (policy.Fixed is { } n) Choice = new ThreadChoice(n, "configured");
        else if (policy.Max == 1) Choice = new ThreadChoice(1, "single core");
        if (Choice is not null) IntraOpThreads.Set(Choice.Threads);
        else Begin();
    }

    /// <summary>The latest decision (set at once when nothing is to be measured, else after the first trial).</summary>
    public ThreadChoice? Choice { get; private set; }

    /// <summary>Before a training step: sets the thread count this step is timed at.</summary>
    public void BeforeStep()
    {
        if (_candidates.Length == 0) return;
        if (!_measuring && _policy.Time.GetElapsedTime(_decidedAt) >= NextRemeasure) Begin();
        if (_measuring && _trialStep >= ThreadPolicy.WarmupSteps)
        {
            _current = _candidates[(_trialStep - ThreadPolicy.WarmupSteps) % _candidates.Length];
            IntraOpThreads.Set(_current);
        }
        _stepStarted = _policy.Time.GetTimestamp();
    }

    /// <summary>After the step (its work done: libtorch's CPU operations return when they have run).</summary>
    public void AfterStep()
    {
        if (!_measuring) return;
        var ms = _policy.Time.GetElapsedTime(_stepStarted).TotalMilliseconds;
        if (_trialStep++ < ThreadPolicy.WarmupSteps) return;
        _times[_current].Add(ms);
        if (EachTimed(1) && (ClearWinner() is not null || EachTimed(ThreadPolicy.Rounds))) Decide();
    }

    /// <summary>Ends the fit's measuring with what was measured (a fit shorter than the trial decides on fewer steps).</summary>
    public ThreadChoice Finish()
    {
        if (_measuring) Decide();
        return Choice!;
    }

    private TimeSpan NextRemeasure => _choices.Count == 1 && _policy.FirstRemeasureAfter < _policy.RemeasureAfter
        ? _policy.FirstRemeasureAfter
        : _policy.RemeasureAfter;

    private void Begin()
    {
        _measuring = true;
        _trialStep = 0;
        foreach (var c in _candidates) _times[c] = [];
        // Warm-up steps run at the current choice (the share of the cores before the first decision).
        IntraOpThreads.Set(Choice?.Threads ?? _policy.Max);
    }

    private Dictionary<int, double> Means() =>
        _times.Where(t => t.Value.Count > 0).ToDictionary(t => t.Key, t => t.Value.Average());

    /// <summary>Whether every count has <paramref name="rounds"/> times the minimum: steps and work, or long work.</summary>
    private bool EachTimed(int rounds) => _candidates.All(c =>
    {
        var (steps, ms) = (_times[c].Count, _times[c].Sum());
        return (steps >= rounds * ThreadPolicy.MinSteps && ms >= rounds * ThreadPolicy.MinMs) || ms >= rounds * ThreadPolicy.LongMs;
    });

    private int? ClearWinner()
    {
        var means = Means();
        if (means.Count < _candidates.Length) return null;
        var ordered = means.OrderBy(m => m.Value).ToList();
        return ordered[0].Value * ThreadPolicy.ClearMargin <= ordered[1].Value ? ordered[0].Key : null;
    }

    private void Decide()
    {
        _measuring = false;
        _decidedAt = _policy.Time.GetTimestamp();
        var means = Means();
        if (means.Count == 0 && Choice is not null)
        {
            IntraOpThreads.Set(Choice.Threads); // a re-measurement cut short before its first timed step
            return;
        }
        // Ties go to fewer threads: they leave cores to serving and to other runs.
        var threads = means.Count == 0 ? _policy.Max : means.OrderBy(m => m.Value).ThenBy(m => m.Key).First().Key;
        _choices.Add(threads);
        Choice = new ThreadChoice(threads, "measured", means, _choices.Count, _choices.ToList());
        IntraOpThreads.Set(threads);
    }
}
