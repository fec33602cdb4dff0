using System.Diagnostics;
using static TorchSharp.torch;

namespace TrainingService.Training.Engine;

/// <summary>
/// How many libtorch intra-op threads a fit uses. A constant cannot be right everywhere: a small-batch MLP on a 2-core
/// AVX2 machine ran 2× slower with 2 threads than with 1 (per-op fork/join costs more than the work it splits), while
/// on an AVX-512 Xeon 2 threads won; a CNN's convolutions gain from threads on both. So a fit can measure (opt-in,
/// <c>Training:MeasureThreads</c>, until the trial is trusted: on a loaded machine it picked 1 thread for a 5x slower MLP):
/// it alternates short blocks of real training steps at 1 and at <see cref="Max"/> threads and keeps the faster by mean
/// step time. Not the median: on a loaded machine one thread's typical step was the faster (0.6 against 1.3 ms) while
/// its epoch was 10× slower, all of it in rare long steps; the mean counts them. <see cref="Fixed"/> skips the trial.
/// </summary>
/// <param name="Fixed">A configured thread count (<c>Training:TorchThreads</c>), used as is.</param>
/// <param name="Max">The cores this run may use: the machine's divided among the runs that train at once, so that
/// concurrent runs never ask for more threads than there are cores.</param>
public sealed record ThreadPolicy(int? Fixed, int Max)
{
    /// <summary>Warm-up steps before timing (first-touch allocations, lazily built kernels).</summary>
    public const int WarmupSteps = 2;
    public const int StepsPerBlock = 4;
    public const int Rounds = 3;

    public static ThreadPolicy Configured(int threads) => new(Math.Max(1, threads), Math.Max(1, threads));

    public static ThreadPolicy Measured(int maxThreads) => new(null, Math.Max(1, maxThreads));

    internal ThreadTrial Start() => new(this);
}

/// <summary>The thread count a fit used and how it was chosen (<c>configured</c>, <c>single core</c>, <c>measured</c>),
/// with the mean milliseconds per step of each candidate when measured.</summary>
public sealed record ThreadChoice(int Threads, string ChosenBy, IReadOnlyDictionary<int, double>? MeanStepMs = null);

/// <summary>The measurement in progress during the first training steps of a fit (see <see cref="ThreadPolicy"/>).</summary>
internal sealed class ThreadTrial
{
    private readonly ThreadPolicy _policy;
    private readonly int[] _candidates;
    private readonly Dictionary<int, List<double>> _times = [];
    private readonly Stopwatch _clock = new();
    private int _step, _current;

    public ThreadTrial(ThreadPolicy policy)
    {
        _policy = policy;
        _candidates = policy.Fixed is null && policy.Max > 1 ? [1, policy.Max] : [];
        foreach (var c in _candidates) _times[c] = [];
        if (policy.Fixed is { } n) Choice = new ThreadChoice(n, "configured");
        else if (policy.Max == 1) Choice = new ThreadChoice(1, "single core");
        if (Choice is not null) set_num_threads(Choice.Threads);
        else set_num_threads(policy.Max);
    }

    /// <summary>Set once the trial is over (at once when nothing is to be measured).</summary>
    public ThreadChoice? Choice { get; private set; }

    private int TimedSteps => ThreadPolicy.Rounds * _candidates.Length * ThreadPolicy.StepsPerBlock;

    /// <summary>Before a training step: sets the thread count this step is timed at.</summary>
    public void BeforeStep()
    {
        if (Choice is not null) return;
        var timed = _step - ThreadPolicy.WarmupSteps;
        if (timed >= 0)
        {
            var block = timed / ThreadPolicy.StepsPerBlock;
            _current = _candidates[block % _candidates.Length];
            set_num_threads(_current);
        }
        _clock.Restart();
    }

    /// <summary>After the step (its loss read, so its work is done).</summary>
    public void AfterStep()
    {
        if (Choice is not null) return;
        var timed = _step - ThreadPolicy.WarmupSteps;
        if (timed >= 0) _times[_current].Add(_clock.Elapsed.TotalMilliseconds);
        _step++;
        if (_step - ThreadPolicy.WarmupSteps >= TimedSteps) Decide();
    }

    /// <summary>Ends the trial with what was measured (a fit shorter than the trial decides on fewer steps).</summary>
    public ThreadChoice Finish()
    {
        if (Choice is null) Decide();
        return Choice!;
    }

    private void Decide()
    {
        var means = _times.Where(t => t.Value.Count > 0).ToDictionary(t => t.Key, t => t.Value.Average());
        // Ties go to fewer threads: they leave cores to serving and to other runs.
        var threads = means.Count == 0 ? _policy.Max : means.OrderBy(m => m.Value).ThenBy(m => m.Key).First().Key;
        Choice = new ThreadChoice(threads, "measured", means);
        set_num_threads(threads);
    }
}
