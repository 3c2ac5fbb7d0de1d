using System.Diagnostics;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Numerics;
using Sim.Plasticity;

namespace Sim.Experiments;

/// <summary>
/// Behavioural cloning of the walking gait with the rank-R / τ⋆ rule (Capone, Muratore &amp; Paolucci 2022; MODELS §4.3;
/// docs/tasks/bipedal.md). One cell (R, τ⋆, seed) on any grid engine:
/// <list type="number">
/// <item>Demonstrations: the expert's episode (seed, train episode), first T = 400 steps, and another for validation (or
/// the user's files).</item>
/// <item>Target spikes z*: the network with W_rec = 0 driven by W_in·o[t] + W_teach·a*[t] (W_in ~ N(0, σ_in²) on the raw
/// observation, W_teach ~ N(0, σ_teach²)); ŝ* = filter(z*, τ⋆).</item>
/// <item>Readout pre-training: W_out (4×N, from 0) by full-batch Adam on ŝ* (τ_ro = τ⋆).</item>
/// <item>Feedback: B (N×N) ~ N(0, (2·std W_out)²) with its first 4 columns W_outᵀ, D = B[:, :R]·B[:, :R]ᵀ.</item>
/// <item>Iterations: an online epoch of the rank-R rule (SGD, η = η₀·√(N/R)·0.4/std(W_out), GOAL pseudo-derivative) with the
/// input W_in·o[t] only; W_rec clipped to [−10, 10]; a free replay of the training and validation demonstrations; the
/// readout retrained (Adam, warm start) on the network's own training spikes; a closed-loop test: one episode per batch
/// instance, observation → W_in·o → one network step → W_out·ŝ_ro → action clipped to [−1, 1] → environment step.
/// Iteration 0 tests the network before any recurrent learning.</item>
/// </list>
/// Every random draw comes from the counter RNG keyed by (seed, purpose): the same cell gives the same bits on every run
/// and grid engine.
/// </summary>
public sealed class BipedalCloning
{
    /// <summary>The recurrent population.</summary>
    public const string Pop = "rec";
    /// <summary>Purposes of the task's random streams.</summary>
    public const uint InputPurpose = 0x140, TeacherPurpose = 0x141, FeedbackPurpose = 0x142;

    private readonly Func<CompiledNetwork, ISimulationEngine> _engineFactory;

    /// <summary>Creates the protocol (null engine factory: the event engine with one thread).</summary>
    public BipedalCloning(BipedalCloningOptions options, Func<CompiledNetwork, ISimulationEngine>? engineFactory = null)
    {
        options.Validate();
        Options = options;
        _engineFactory = engineFactory ?? EngineFactory.GridFactory("event", new EngineSettings { Threads = 1 });
        InputWeights = Normal(InputPurpose, options.Neurons * 24, options.InputSd);
        TeacherWeights = Normal(TeacherPurpose, options.Neurons * 4, options.TeacherSd);
    }

    /// <summary>The options.</summary>
    public BipedalCloningOptions Options { get; }
    /// <summary>W_in (N × 24, row-major).</summary>
    public double[] InputWeights { get; }
    /// <summary>W_teach (N × 4, row-major).</summary>
    public double[] TeacherWeights { get; }

    private double[] Normal(uint purpose, int count, double sd)
    {
        ulong key = PlasticityRandom.Key(Options.Seed, purpose, 0);
        var w = new double[count];
        for (int i = 0; i < count; i++) w[i] = sd * PlasticityRandom.Normal(key, i);
        return w;
    }

    /// <summary>The network: N goal_lif_euler neurons (bias −4, reset −20, V_o = −4) with the trace-coupled W_rec (N×N, row-major, diagonal unused).</summary>
    public NetworkSpec BuildNetwork(double[] recurrent, int batch)
    {
        var o = Options;
        int n = o.Neurons;
        var b = new NetworkBuilder("bipedal-cloning") { Run = new RunOptions { DtMs = 1.0, DurationMs = o.TrainSteps, Seed = o.Seed, Batch = batch } };
        b.NeuronGroup(Pop, n, new GoalLifEulerParameters { TauMemMs = o.TauMemMs, TauSynMs = o.TauSynMs });
        var pre = new int[n * (n - 1)]; var post = new int[pre.Length]; var w = new double[pre.Length];
        int k = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j) { pre[k] = j; post[k] = i; w[k++] = recurrent[i * n + j]; }
        b.Synapses(Pop, Pop, new Connectivity.PairList(pre, post), Value.PerElement(w), projectionName: "w_rec", weightFractionBits: o.RecurrentWeightFractionBits);
        return b.Build();
    }

    /// <summary>W_in·o[t] per step of <paramref name="d"/> (the first <paramref name="steps"/>), plus W_teach·a*[t] when <paramref name="teacher"/>.</summary>
    public double[][] Currents(Demonstration d, int steps, bool teacher)
    {
        int n = Options.Neurons;
        var rows = new double[steps][];
        var extra = new double[n];
        for (int t = 0; t < steps; t++)
        {
            rows[t] = new double[n];
            LinearCurrentEncoder.Apply(InputWeights, [], d.Observations[t], rows[t]);
            if (!teacher) continue;
            LinearCurrentEncoder.Apply(TeacherWeights, [], d.Actions[t], extra);
            for (int i = 0; i < n; i++) rows[t][i] += extra[i];
        }
        return rows;
    }

    /// <summary>Runs the network (W_rec, optionally learning with <paramref name="rule"/>) on per-instance currents; returns z[b][t][i].</summary>
    private double[][][] Replay(double[] recurrent, double[][][] currents, Func<CompiledNetwork, RankRRule>? rule, out RankRRule? made)
    {
        int ticks = currents[0].Length;
        var net = NetworkCompiler.Compile(BuildNetwork(recurrent, currents.Length));
        using var engine = _engineFactory(net);
        made = rule?.Invoke(net);
        if (made is not null) engine.AddPlasticityRule(made);
        var raster = new SpikeRaster(ticks, Options.Neurons, net.Population(Pop).Offset, currents.Length) { FirstInstance = engine.FirstInstance };
        engine.AddSpikeSink(raster);
        engine.AddTickIO(new CurrentReplay(currents, engine.FirstInstance));
        engine.Run(ticks);
        return raster.Z;
    }

    private sealed class CurrentReplay(double[][][] currents, int first) : ITickIO
    {
        public IReadOnlyList<string> InputPopulations => [Pop];
        public void BeforeTick(int instance, long tick, ITickInputs inputs) => currents[instance - first][tick].CopyTo(inputs.Current(0));
        public void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state) { }
    }

    /// <summary>
    /// Adam on W_out (4×N, row-major, updated in place), full batch: direction Σ_t (a*[t] − W·ŝ[t])·ŝ[t]ᵀ (t ascending);
    /// returns the final MSE over steps and outputs.
    /// </summary>
    public double TrainReadout(double[] w, double[][] traces, double[][] actions)
    {
        int n = Options.Neurons, ticks = traces.Length;
        var grad = new double[4 * n];
        var adam = new Adam(Plasticity.LearningRate.Fixed(Options.ReadoutLearningRate));
        for (int s = 0; s < Options.ReadoutSteps; s++)
        {
            Array.Clear(grad);
            for (int t = 0; t < ticks; t++)
                for (int c = 0; c < 4; c++)
                {
                    double err = actions[t][c] - StoreRecall.Dot(w.AsSpan(c * n, n), traces[t]);
                    if (err == 0) continue;
                    var g = grad.AsSpan(c * n, n);
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(traces[t], err, g, g);
                }
            adam.Step(w, grad);
        }
        return Mse(w, traces, actions);
    }

    /// <summary>Mean of (a*[t][c] − (W·ŝ[t])_c)² over t and c, with the action clipped to [−1, 1] as the walker applies it.</summary>
    public double Mse(double[] w, double[][] traces, double[][] actions)
    {
        int n = Options.Neurons;
        double sum = 0;
        for (int t = 0; t < traces.Length; t++)
            for (int c = 0; c < 4; c++)
            {
                double e = actions[t][c] - Math.Clamp(StoreRecall.Dot(w.AsSpan(c * n, n), traces[t]), -1, 1);
                sum += e * e;
            }
        return sum / (traces.Length * 4.0);
    }

    private double[][] Filter(double[][] z) => SpikeFilter.FilterTrain(z, Options.Neurons, 1.0, Options.TauStarMs);

    private static double DeltaS(double[][] a, double[][] b)
    {
        double s = 0;
        for (int t = 0; t < a.Length; t++) for (int i = 0; i < a[t].Length; i++) s += Math.Abs(a[t][i] - b[t][i]);
        return s;
    }

    /// <summary>The training and validation demonstrations (the user's, or the expert's episodes of the seed).</summary>
    public (Demonstration Train, Demonstration Validation) Demonstrations()
    {
        var o = Options;
        var train = o.Demonstration ?? BipedalExpertRun.Run(o.Seed, o.TrainEpisode, Math.Max(o.TrainSteps, 1)).Demonstration;
        var val = o.ValidationDemonstration ?? BipedalExpertRun.Run(o.Seed, o.ValidationEpisode, Math.Max(o.TrainSteps, 1)).Demonstration;
        if (train.Steps < o.TrainSteps) throw new ArgumentException($"train-steps: the expert's training episode ended after {train.Steps} steps, fewer than {o.TrainSteps}");
        return (train, val);
    }

    /// <summary>
    /// The whole protocol. <paramref name="progress"/> gets each iteration's record as it is made.
    /// </summary>
    public BipedalCloningResult Run(Action<BipedalIteration>? progress = null, CancellationToken cancel = default)
    {
        var o = Options;
        int n = o.Neurons, T = o.TrainSteps;
        var (train, val) = Demonstrations();
        int tv = Math.Min(T, val.Steps);
        var trainActions = train.Actions[..T];
        var valActions = val.Actions[..tv];
        var input = Currents(train, T, teacher: false);
        var valInput = Currents(val, tv, teacher: false);

        // Target spikes and the readout limit.
        var zero = new double[n * n];
        var zStar = Replay(zero, [Currents(train, T, teacher: true)], null, out _)[0];
        var sStar = Filter(zStar);
        var wOut = new double[4 * n];
        double readoutLimit = TrainReadout(wOut, sStar, trainActions);
        double sdOut = Plasticity.Feedback.StandardDeviation(wOut);
        if (!(sdOut > 0)) throw new InvalidOperationException("the pre-trained readout is all zero (no target spikes?); raise input-sd or teacher-sd");
        var b = Plasticity.Feedback.Matrix(wOut, 4, n, o.Seed, FeedbackPurpose);
        var d = Plasticity.Feedback.RankR(b, n, o.Rank);
        double eta0 = o.BaseLearningRate * o.LearningRateFactor / sdOut;
        var rate = o.ScaleBySqrtNOverR ? Plasticity.LearningRate.SqrtNOverR(eta0, n, o.Rank) : Plasticity.LearningRate.Fixed(eta0);

        var expert = TestExpert();
        var w = new double[n * n];
        var iterations = new List<BipedalIteration>();
        BipedalTest last = default!;
        double trainDeltaS = double.NaN;
        for (int k = 0; k <= o.Iterations; k++)
        {
            cancel.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            if (k > 0)
            {
                var zTrain = Replay(w, [input], net => new RankRRule(net, Pop, new NeuronSpaceFeedback(d, n, $"rank-R R={o.Rank}"), o.TauStarMs, new Sgd(rate), sStar), out var rule)[0];
                trainDeltaS = DeltaS(zTrain, zStar);
                var learnt = rule!.Core.Weights;
                for (int q = 0; q < w.Length; q++) w[q] = Math.Clamp(learnt[q], -o.WeightClip, o.WeightClip);
            }
            cancel.ThrowIfCancellationRequested();
            var free = Replay(w, tv == T ? [input, valInput] : [input], null, out _);
            var freeVal = tv == T ? free[1] : Replay(w, [valInput], null, out _)[0];
            var sFree = Filter(free[0]);
            double mse = TrainReadout(wOut, sFree, trainActions);
            double valMse = Mse(wOut, Filter(freeVal), valActions);
            cancel.ThrowIfCancellationRequested();
            last = Test(w, wOut);
            var it = new BipedalIteration(k, last.Returns.Average(), last.Returns, last.Steps.Select(s => (double)s).Average(), last.Distances.Average(),
                trainDeltaS, DeltaS(free[0], zStar), mse, valMse, clock.Elapsed.TotalSeconds);
            iterations.Add(it);
            progress?.Invoke(it);
        }
        return new BipedalCloningResult(o, iterations, last, expert, readoutLimit, rate.Name, rate.Eta, sdOut, train.Metadata.GetValueOrDefault("return") ?? "")
        {
            RecurrentWeights = w, Readout = wOut,
        };
    }

    /// <summary>The key of test episode <paramref name="b"/>'s terrain: the one <see cref="ClosedLoopTask"/> resets instance b with.</summary>
    public ulong TestKey(int b) => CounterRng.Key(Options.Seed, RngStreams.Episodes, (ulong)b, 0);

    /// <summary>Closed-loop test episodes (one per batch instance) with W_rec and W_out.</summary>
    public BipedalTest Test(double[] recurrent, double[] readout)
    {
        var o = Options;
        var net = NetworkCompiler.Compile(BuildNetwork(recurrent, o.TestEpisodes));
        using var engine = _engineFactory(net);
        var envs = new RecordingWalker[o.TestEpisodes];
        try
        {
            var task = new ClosedLoopTask("bipedal", o.TestSteps, o.Seed, k => envs[k - engine.FirstInstance] = new RecordingWalker(o.TestSteps),
                _ => new LinearCurrentEncoder(net, Pop, InputWeights),
                _ => new ClippedDecoder(new FilteredSpikeReadout(net, Pop, o.TauStarMs, readout)));
            var protocol = new TrialProtocol(engine, task);
            var m = protocol.RunTrial(0) ?? throw new InvalidOperationException($"the test stopped: {protocol.Stop?.Reason}");
            return new BipedalTest(m.Values["return"], [.. envs.Select(e => e.Walker.Steps)], [.. envs.Select(e => e.Walker.Distance)],
                [.. envs.Select(e => e.Walker.Outcome)], [.. envs.Select(e => e.HullX.ToArray())], [.. envs.Select(e => e.HullY.ToArray())]);
        }
        finally { foreach (var e in envs) e?.Walker.Dispose(); }
    }

    /// <summary>The expert on the test terrains (the same resets as <see cref="Test"/>).</summary>
    public BipedalTest TestExpert()
    {
        var o = Options;
        var r = new BipedalTest(new double[o.TestEpisodes], new int[o.TestEpisodes], new double[o.TestEpisodes], new BipedalOutcome[o.TestEpisodes],
            new double[o.TestEpisodes][], new double[o.TestEpisodes][]);
        var obs = new double[24];
        var act = new double[4];
        for (int k = 0; k < o.TestEpisodes; k++)
        {
            var env = new RecordingWalker(o.TestSteps);
            using var walker = env.Walker;
            var expert = new BipedalExpert();
            env.Reset(TestKey(k), 0);
            while (true)
            {
                env.Observe(obs);
                expert.Act(obs, act);
                var step = env.Act(act);
                r.Returns[k] += step.Reward;
                if (step.Done) break;
            }
            r.Steps[k] = walker.Steps; r.Distances[k] = walker.Distance; r.Outcomes[k] = walker.Outcome;
            r.HullX[k] = [.. env.HullX]; r.HullY[k] = [.. env.HullY];
        }
        return r;
    }

    /// <summary>The walker, recording the hull's position after the reset and after every step.</summary>
    private sealed class RecordingWalker(int timeLimit) : IEnvironment
    {
        public readonly BipedalWalker Walker = new(timeLimit);
        public readonly List<double> HullX = [], HullY = [];
        public int ObservationSize => 24;
        public int ActionSize => 4;
        public void Reset(ulong seed, int episode)
        {
            Walker.Reset(seed, episode);
            HullX.Clear(); HullY.Clear();
            Record();
        }
        public void Observe(Span<double> observation) => Walker.Observe(observation);
        public EnvironmentStep Act(ReadOnlySpan<double> action)
        {
            var s = Walker.Act(action);
            Record();
            return s;
        }
        private void Record() { var h = Walker.HullState; HullX.Add(h.X); HullY.Add(h.Y); }
    }

    /// <summary>The readout's action clipped to [−1, 1].</summary>
    private sealed class ClippedDecoder(FilteredSpikeReadout inner) : IActionDecoder
    {
        public void Reset() => inner.Reset();
        public void Decode(ReadOnlySpan<int> spikes, IStateReader state, Span<double> action)
        {
            inner.Decode(spikes, state, action);
            for (int k = 0; k < action.Length; k++) action[k] = Math.Clamp(action[k], -1, 1);
        }
    }
}

/// <summary>The closed-loop test episodes of one iteration.</summary>
public sealed record BipedalTest(double[] Returns, int[] Steps, double[] Distances, BipedalOutcome[] Outcomes, double[][] HullX, double[][] HullY);

/// <summary>One training iteration (0: before any recurrent learning).</summary>
/// <param name="Iteration">k.</param>
/// <param name="MeanReturn">Mean test return.</param>
/// <param name="Returns">Return per test episode.</param>
/// <param name="MeanSteps">Mean test episode length.</param>
/// <param name="MeanDistance">Mean forward distance (m).</param>
/// <param name="TrainDeltaS">ΔS = Σ|z* − z| of the learning epoch (NaN at k = 0).</param>
/// <param name="FreeDeltaS">ΔS of the free replay of the training steps after the clip.</param>
/// <param name="ReadoutMse">The retrained readout's MSE on the training steps (open loop, own spikes).</param>
/// <param name="ValidationMse">Its MSE on the validation demonstration (open loop).</param>
/// <param name="Seconds">Wall time of the iteration.</param>
public sealed record BipedalIteration(int Iteration, double MeanReturn, double[] Returns, double MeanSteps, double MeanDistance, double TrainDeltaS,
    double FreeDeltaS, double ReadoutMse, double ValidationMse, double Seconds);

/// <summary>The outcome of one cell.</summary>
public sealed record BipedalCloningResult(BipedalCloningOptions Options, IReadOnlyList<BipedalIteration> Iterations, BipedalTest LastTest, BipedalTest Expert,
    double ReadoutLimit, string LearningRate, double Eta, double ReadoutSd, string TrainingReturn)
{
    /// <summary>The final W_rec (N×N, row-major, clipped).</summary>
    public double[] RecurrentWeights { get; init; } = [];
    /// <summary>The final W_out (4×N).</summary>
    public double[] Readout { get; init; } = [];
}
