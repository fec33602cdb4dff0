using TrainingService.Training.Engine;
using TrainingService.Training.Tests.Support;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Engine;

/// <summary>The fit's intra-op thread count: configured, or measured on its first steps and reported.</summary>
public sealed class ThreadPolicyTests : IDisposable
{
    private readonly int _threadsBefore = get_num_threads();

    public void Dispose() => set_num_threads(_threadsBefore);

    private const string Mlp = """{"input_shape": [8], "layers": [{"type": "Dense", "units": 16, "activation": "relu"}, {"type": "Dense", "units": 3, "activation": "softmax"}]}""";
    private const string Compile = """{"optimizer": "adam", "loss": "sparse_categorical_crossentropy"}""";

    [Fact]
    public void Fit_MeasuresOneAndMaxThreads_KeepsTheFasterAndReportsBoth()
    {
        using var data = Synthetic.Blobs(4000); // enough 16-example steps for a block of 10 ms at each count
        using var session = ModelSession.Create(SpecFiles.Plan(Mlp, Compile, """{"epochs": 2, "batch_size": 16, "seed": 3}"""));
        var before = get_num_threads();
        try
        {
            var choice = session.Fit(data, null, null, CancellationToken.None, threads: ThreadPolicy.Measured(2)).Threads!;

            Assert.Equal("measured", choice.ChosenBy);
            Assert.Equal([1, 2], choice.MeanStepMs!.Keys.Order());
            Assert.All(choice.MeanStepMs.Values, ms => Assert.True(ms > 0));
            // The faster mean wins (ties to fewer threads), and training goes on with it.
            var fastest = choice.MeanStepMs.OrderBy(m => m.Value).ThenBy(m => m.Key).First().Key;
            Assert.Equal(fastest, choice.Threads);
            Assert.Equal(choice.Threads, get_num_threads());
            Assert.Equal(choice.Trials, choice.ChoicePerTrial!.Count);
            Assert.Equal(choice.Threads, choice.ChoicePerTrial[^1]);
        }
        finally
        {
            set_num_threads(before);
        }
    }

    [Fact]
    public void Fit_ShorterThanTheTrial_DecidesOnWhatItMeasured()
    {
        using var data = Synthetic.Blobs(64);
        using var session = ModelSession.Create(SpecFiles.Plan(Mlp, Compile, """{"epochs": 1, "batch_size": 16, "seed": 3}"""));
        var before = get_num_threads();
        try
        {
            var choice = session.Fit(data, null, null, CancellationToken.None, threads: ThreadPolicy.Measured(2)).Threads!;
            Assert.Equal("measured", choice.ChosenBy);
            Assert.Contains(choice.Threads, new[] { 1, 2 });
            Assert.Equal(2, choice.MeanStepMs!.Count); // 4 steps: 2 warm-up, then one at each count
        }
        finally
        {
            set_num_threads(before);
        }
    }

    [Fact]
    public void Fit_WithConfiguredThreads_MeasuresNothing()
    {
        using var data = Synthetic.Blobs(64);
        using var session = ModelSession.Create(SpecFiles.Plan(Mlp, Compile, """{"epochs": 1, "batch_size": 16, "seed": 3}"""));
        var before = get_num_threads();
        try
        {
            var choice = session.Fit(data, null, null, CancellationToken.None, threads: ThreadPolicy.Configured(1)).Threads!;
            Assert.Equal(new ThreadChoice(1, "configured"), choice);
            Assert.Equal(1, get_num_threads());
            Assert.Null(session.Fit(data, null, null, CancellationToken.None).Threads);
        }
        finally
        {
            set_num_threads(before);
        }
    }

    [Fact]
    public void IntraOpThreads_ChangeTheCallingThreadsCountOnly()
    {
        // The trial switches counts while other threads train and serve: it must not touch their counts, nor rebuild
        // libtorch's process-wide pools under them.
        Assert.True(IntraOpThreads.PerThread);
        IntraOpThreads.Set(2);
        var other = 0;
        var thread = new Thread(() =>
        {
            IntraOpThreads.Set(1);
            other = get_num_threads();
        });
        thread.Start();
        thread.Join();
        Assert.Equal(1, other);
        Assert.Equal(2, get_num_threads());
    }

    // The trial's decisions, driven by a clock the test advances: each step "takes" what the current thread count costs.

    [Fact]
    public void Trial_OneCountClearlyFaster_DecidesOnceBothAreTimedEnough()
    {
        var run = new SteppedTrial(ThreadPolicy.Measured(2), ms: threads => threads == 1 ? 1 : 3);
        // 2 warm-up steps, then 1 and 2 threads in turn until 1 thread has its 10 ms: its 10th step is the 19th timed one
        // (2 threads had its 4 steps and 10 ms after 4 steps of 3 ms).
        run.Steps(2 + 18);
        Assert.Null(run.Trial.Choice);
        run.Steps(1);
        Assert.Equal(1, run.Trial.Choice!.Threads);
        Assert.Equal(1, get_num_threads());
        Assert.Equal(1, run.Trial.Choice.MeanStepMs![1], 9);
        Assert.Equal(3, run.Trial.Choice.MeanStepMs[2], 9);
    }

    [Fact]
    public void Trial_SlowSteps_AreTimedOneAtATime()
    {
        // An LSTM-sized step: one step of each count is enough, so the trial spends one step, not four, at the slower count.
        var run = new SteppedTrial(ThreadPolicy.Measured(2), ms: threads => threads == 1 ? 240 : 165);
        run.Steps(3);
        Assert.Null(run.Trial.Choice);
        run.Steps(1);
        Assert.Equal(2, run.Trial.Choice!.Threads);
        Assert.Equal(2, get_num_threads());
    }

    [Fact]
    public void Trial_CloseCounts_RunsEveryRoundAndKeepsTheFaster()
    {
        var run = new SteppedTrial(ThreadPolicy.Measured(4), ms: threads => threads == 1 ? 5 : 4.5);
        run.Steps(2 + 2 * ThreadPolicy.MinSteps * ThreadPolicy.Rounds - 1);
        Assert.Null(run.Trial.Choice);
        run.Steps(1);
        Assert.Equal(4, run.Trial.Choice!.Threads);
        Assert.Equal(4, get_num_threads());
    }

    [Fact]
    public void Trial_ABurstOfSlowSteps_SlowsBothCountsAlike()
    {
        // 1 thread is 1.2x faster; the first four timed steps run 3x slower (a shared VM's burst). Timed in blocks, all of
        // them at 1 thread, the burst made 2 threads look clearly faster; alternating step by step, it falls on both.
        var step = 0;
        var run = new SteppedTrial(ThreadPolicy.Measured(2), ms: threads => (threads == 1 ? 10 : 12) * (++step is > 2 and <= 6 ? 3 : 1));
        run.Steps(2 + 2 * ThreadPolicy.MinSteps * ThreadPolicy.Rounds);
        Assert.Equal(1, run.Trial.Choice!.Threads);
    }

    [Fact]
    public void Trial_RareLongSteps_CountInTheMean()
    {
        // One thread is faster on a typical step, but one step in four stalls (a loaded machine): its mean loses.
        var count = 0;
        var run = new SteppedTrial(ThreadPolicy.Measured(2), ms: threads => threads == 2 ? 4 : ++count % 4 == 0 ? 40 : 2);
        run.Steps(2 + 2 * ThreadPolicy.MinSteps * ThreadPolicy.Rounds);
        Assert.Equal(2, run.Trial.Choice!.Threads);
    }

    [Fact]
    public void Trial_AfterTheRemeasureInterval_MeasuresAgainAndFollowsTheMachine()
    {
        var loaded = false;
        var run = new SteppedTrial(ThreadPolicy.Measured(2) with { RemeasureAfter = TimeSpan.FromSeconds(1) },
            ms: threads => (threads == 1) == loaded ? 1 : 3);
        run.Steps(22);
        Assert.Equal(2, run.Trial.Choice!.Threads);
        loaded = true; // now 1 thread is the faster
        run.Steps(1000 - 22); // a second of 1 ms steps has passed: a new trial started and decided
        Assert.Equal(1, run.Trial.Choice!.Threads);
        Assert.Equal(1, get_num_threads());
        Assert.Equal([2, 1], run.Trial.Choice.ChoicePerTrial!);
        Assert.Equal(run.Trial.Choice, run.Trial.Finish());
    }

    [Fact]
    public void Trial_FirstRemeasuresSoon_ThenAtTheRegularInterval()
    {
        // A first choice made while the run's own start loaded the cores is checked after 5 s, not 30 s.
        var run = new SteppedTrial(ThreadPolicy.Measured(2), ms: threads => threads == 1 ? 10 : 30);
        run.Steps(2 + 8); // decided: 4 steps each, 1 thread clearly faster
        Assert.Equal(1, run.Trial.Choice!.Trials);
        run.Steps(490); // under 5 s of 10 ms steps since the decision
        Assert.Equal(1, run.Trial.Choice!.Trials);
        run.Steps(30); // past 5 s: a second trial has run and decided
        Assert.Equal(2, run.Trial.Choice!.Trials);
        run.Steps(2800); // under 30 s since then: no third trial
        Assert.Equal(2, run.Trial.Choice!.Trials);
        run.Steps(300); // past 30 s
        Assert.Equal(3, run.Trial.Choice!.Trials);
    }

    [Fact]
    public void Trial_EndedDuringAReMeasurementsWarmUp_KeepsTheLastChoice()
    {
        var run = new SteppedTrial(ThreadPolicy.Measured(2) with { RemeasureAfter = TimeSpan.FromMilliseconds(20) },
            ms: threads => threads == 1 ? 1 : 3);
        run.Steps(22);
        var first = run.Trial.Choice!;
        run.Clock.Advance(TimeSpan.FromSeconds(1));
        run.Steps(1); // the new trial's first warm-up step
        Assert.Equal(first, run.Trial.Finish());
        Assert.Equal(1, get_num_threads());
    }

    private sealed class SteppedTrial
    {
        private readonly Func<int, double> _ms;

        public SteppedTrial(ThreadPolicy policy, Func<int, double> ms)
        {
            _ms = ms;
            Trial = new ThreadTrial(policy with { Time = Clock });
        }

        public ManualClock Clock { get; } = new();
        public ThreadTrial Trial { get; }

        public void Steps(int n)
        {
            for (var i = 0; i < n; i++)
            {
                Trial.BeforeStep();
                Clock.Advance(TimeSpan.FromMilliseconds(_ms(get_num_threads())));
                Trial.AfterStep();
            }
        }
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks;
        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
