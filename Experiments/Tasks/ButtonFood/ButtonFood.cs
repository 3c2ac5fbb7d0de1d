using System.Diagnostics;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Plasticity;

namespace Sim.Experiments;

/// <summary>
/// Button &amp; Food: closed-loop behavioural cloning with the rank-R / τ⋆ rule (Capone, Muratore &amp; Paolucci 2022,
/// Fig. 3; the authors' code myscience/LTTS-BC; docs/tasks/button_food.md). One seed, several ranks learnt side by side
/// as one batch (instance k learns rank k), on any grid engine:
/// <list type="number">
/// <item>Demonstrations: the expert (<see cref="ButtonFoodGeometry.ExpertActions"/>) run in the environment at the
/// training angles; observations Gaussian-coded (<see cref="GaussianPopulationCode"/>, 20 bumps per coordinate).</item>
/// <item>Target spikes z*: the network without recurrence driven by J_in·φ(o[t]) + J_teach·a*[t] + J_hint·hint[t]
/// (J_in ~ N(0, 5²), J_teach ~ N(0, 3²), J_hint ~ N(0, 5²)); ŝ* = filter(z*, τ⋆).</item>
/// <item>Cloning: from J_rec ~ N(0, σ_rec²) (no self-connections, the same for every rank), E epochs over the
/// demonstrations in a shuffled order, online rank-R updates without pseudo-derivative (g = e), Adam (lr 0.01,
/// ×0.9 every max(E/10, 1)·T steps); feedback D = I/R on the first R neurons, clamped to z* (the authors' default), or
/// D = BᵀB with B ~ N(0, 1/R) (R×N). The input is J_in·φ(o[t]) only (no teacher, no hint).</item>
/// <item>Readout: the free network replays each demonstration; W_out (2×N, from 0) learns by Adam (lr 0.01, ×0.9 every
/// max(E_ro/10, 1) steps), one step per demonstration and epoch: ΔW ∝ Σ_t (a*[t] − W·ŝ_ro[t])·z[t]ᵀ, ŝ_ro = filter(z, τ_ro).</item>
/// <item>Test: closed loop (<see cref="ClosedLoopTask"/>), one episode per test angle as one batch: observation encoded,
/// one network step, action W_out·ŝ_ro[t], environment step. Score = the episode's largest reward.</item>
/// </list>
/// Random draws come from the counter RNG keyed by (seed, purpose) (<see cref="PlasticityRandom"/>): a seed is one of the
/// authors' repetitions (every matrix redrawn); the epoch orders are shared by the ranks of a seed.
/// </summary>
public sealed class ButtonFood
{
    /// <summary>The recurrent population.</summary>
    public const string Pop = "rec";
    /// <summary>Purposes of the task's random streams.</summary>
    public const uint InputPurpose = 0x120, TeacherPurpose = 0x121, HintPurpose = 0x122, RecurrentPurpose = 0x123, FeedbackPurpose = 0x124,
        OrderPurpose = 0x125, ReadoutOrderPurpose = 0x126;

    private readonly Func<CompiledNetwork, ISimulationEngine> _engineFactory;
    private readonly GaussianPopulationCode _code;

    /// <summary>Creates the protocol.</summary>
    /// <param name="options">The options.</param>
    /// <param name="engineFactory">The engine of every run (null: the event engine with one thread).</param>
    public ButtonFood(ButtonFoodOptions options, Func<CompiledNetwork, ISimulationEngine>? engineFactory = null)
    {
        options.Validate();
        Options = options;
        _code = new GaussianPopulationCode(4, options.Bumps);
        _engineFactory = engineFactory ?? EngineFactory.GridFactory("event", new EngineSettings { Threads = 1 });
        InputWeights = Normal(InputPurpose, options.Neurons * _code.Features, options.InputSd);
    }

    /// <summary>The options.</summary>
    public ButtonFoodOptions Options { get; }
    /// <summary>J_in (N × 80, row-major).</summary>
    public double[] InputWeights { get; }

    /// <summary>One expert demonstration.</summary>
    /// <param name="ThetaRad">The target's angle.</param>
    /// <param name="Actions">a*[t] (T × 2).</param>
    /// <param name="InputCurrents">J_in·φ(o[t]) per tick (T × N), in the encoder's summation order.</param>
    /// <param name="Score">The expert's score (largest reward).</param>
    /// <param name="Path">The expert's path (x0, y0, x1, y1, …).</param>
    public sealed record Demonstration(double ThetaRad, double[][] Actions, double[][] InputCurrents, double Score, double[] Path);

    private double[] Normal(uint purpose, int count, double sd)
    {
        ulong key = PlasticityRandom.Key(Options.Seed, purpose, 0);
        var w = new double[count];
        for (int k = 0; k < count; k++) w[k] = sd * PlasticityRandom.Normal(key, k);
        return w;
    }

    /// <summary>The expert's demonstration at <paramref name="thetaDeg"/> degrees (its path through the environment).</summary>
    public Demonstration Demonstrate(double thetaDeg)
    {
        var g = Options.Geometry;
        double theta = thetaDeg * Math.PI / 180;
        var env = new ButtonFoodEnvironment(g, theta);
        var actions = g.ExpertActions(theta);
        var obs = new double[4];
        var features = new double[_code.Features];
        var currents = new double[g.Steps][];
        double score = 0;
        for (int t = 0; t < g.Steps; t++)
        {
            env.Observe(obs);
            _code.Encode(obs, features);
            currents[t] = new double[Options.Neurons];
            LinearCurrentEncoder.Apply(InputWeights, [], features, currents[t]);
            if (env.StepsTaken < g.Steps && !env.Reached)
                score = Math.Max(score, env.Act(actions[t]).Reward);
        }
        return new Demonstration(theta, actions, currents, score, env.Path.ToArray());
    }

    /// <summary>The network: N GoalLif neurons (τ_m, τ_s of the options; bias −4, reset −20, V_o = −4), with J_rec when given.</summary>
    public NetworkSpec BuildNetwork(double[]? recurrent, int batch)
    {
        var o = Options;
        var b = new NetworkBuilder("button-food") { Run = new RunOptions { DtMs = 1.0, DurationMs = o.Geometry.Steps, Seed = o.Seed, Batch = batch } };
        b.NeuronGroup(Pop, o.Neurons, new GoalLifParameters { TauMemMs = o.TauMemMs, TauSynMs = o.TauSynMs });
        if (recurrent is not null)
        {
            int n = o.Neurons;
            var pre = new List<int>(n * n); var post = new List<int>(n * n); var w = new List<double>(n * n);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (i != j) { pre.Add(j); post.Add(i); w.Add(recurrent[i * n + j]); }
            b.Synapses(Pop, Pop, new Connectivity.PairList([.. pre], [.. post]), Value.PerElement([.. w]), projectionName: "w_rec",
                weightFractionBits: o.RecurrentWeightFractionBits);
        }
        return b.Build();
    }

    /// <summary>J_rec at the start of cloning (N×N, row-major, diagonal 0).</summary>
    public double[] InitialRecurrentWeights()
    {
        int n = Options.Neurons;
        var w = Normal(RecurrentPurpose, n * n, Options.RecurrentSd);
        for (int i = 0; i < n; i++) w[i * n + i] = 0;
        return w;
    }

    /// <summary>The target spikes of each demonstration (z*[d][t][i], T − 1 ticks), from one batch run without recurrence.</summary>
    public double[][][] TargetSpikes(IReadOnlyList<Demonstration> demos)
    {
        var o = Options;
        int n = o.Neurons, ticks = o.TrialTicks;
        var teach = Normal(TeacherPurpose, n * 2, o.TeacherSd);
        var hintW = Normal(HintPurpose, n * 2, o.HintSd);
        var drive = new double[demos.Count][][];
        var extra = new double[n];
        for (int d = 0; d < demos.Count; d++)
        {
            drive[d] = new double[ticks][];
            for (int t = 0; t < ticks; t++)
            {
                var row = drive[d][t] = (double[])demos[d].InputCurrents[t].Clone();
                LinearCurrentEncoder.Apply(teach, [], demos[d].Actions[t], extra);
                for (int i = 0; i < n; i++) row[i] += extra[i];
                if (o.Hint)
                {
                    double[] hint = t <= o.Geometry.ExpertButtonSteps ? [1, 0] : [0, 1];
                    LinearCurrentEncoder.Apply(hintW, [], hint, extra);
                    for (int i = 0; i < n; i++) row[i] += extra[i];
                }
            }
        }
        var net = NetworkCompiler.Compile(BuildNetwork(null, demos.Count));
        using var engine = _engineFactory(net);
        var raster = new SpikeRaster(ticks, n, net.Population(Pop).Offset, demos.Count) { FirstInstance = engine.FirstInstance };
        engine.AddSpikeSink(raster);
        engine.AddTickIO(new Replay(drive, engine.FirstInstance));
        engine.Run(ticks);
        return raster.Z;
    }

    /// <summary>Writes row t of instance k's currents.</summary>
    private sealed class Replay(double[][][] currents, int first) : ITickIO
    {
        public IReadOnlyList<string> InputPopulations => [Pop];
        public void BeforeTick(int instance, long tick, ITickInputs inputs) => currents[instance - first][tick].CopyTo(inputs.Current(0));
        public void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state) { }
    }

    /// <summary>The neuron-space feedback D (N×N) of rank <paramref name="rank"/>.</summary>
    public double[] FeedbackMatrix(int rank)
    {
        int n = Options.Neurons;
        var d = new double[n * n];
        if (Options.Feedback == CloningFeedback.Diagonal)
        {
            for (int i = 0; i < rank; i++) d[i * n + i] = 1.0 / rank;
            return d;
        }
        // B ~ N(0, 1/R), R×N, drawn per rank (row r of B is column r of an N×N matrix); D = BᵀB = Feedback.RankR of it.
        var bT = new double[n * n];
        ulong key = PlasticityRandom.Key(Options.Seed, FeedbackPurpose, (ulong)rank);
        double sd = 1.0 / Math.Sqrt(rank);
        for (int r = 0; r < rank; r++)
            for (int i = 0; i < n; i++) bT[i * n + r] = sd * PlasticityRandom.Normal(key, (long)r * n + i);
        return Plasticity.Feedback.RankR(bT, n, rank);
    }

    /// <summary>A permutation of 0…count−1 for (purpose, epoch): Fisher–Yates on the counter stream.</summary>
    public int[] Order(uint purpose, int epoch, int count)
    {
        ulong key = PlasticityRandom.Key(Options.Seed, purpose, (ulong)epoch);
        var p = Enumerable.Range(0, count).ToArray();
        for (int k = count - 1; k > 0; k--)
        {
            int j = (int)(PlasticityRandom.Uniform(key, k) * (k + 1));
            (p[k], p[j]) = (p[j], p[k]);
        }
        return p;
    }

    /// <summary>
    /// Clones, trains the readouts and tests every rank of <paramref name="ranks"/> (one batch instance each).
    /// <paramref name="progress"/> receives (epoch, rank index, mean ΔS of the epoch's trials).
    /// </summary>
    public ButtonFoodResult Run(IReadOnlyList<int> ranks, Action<int, int, double>? progress = null, CancellationToken cancellationToken = default)
    {
        var o = Options;
        if (ranks.Count == 0) throw new ArgumentException("give at least one rank", nameof(ranks));
        foreach (int r in ranks) o.ValidateRank(r);
        int n = o.Neurons, a = o.TrainAnglesDeg.Count;
        var demos = o.TrainAnglesDeg.Select(Demonstrate).ToArray();
        var zStar = TargetSpikes(demos);
        var sStar = zStar.Select(z => SpikeFilter.FilterTrain(z, n, 1.0, o.TauStarMs)).ToArray();

        // Cloning: one learner per rank, from the same J_rec.
        var net = NetworkCompiler.Compile(BuildNetwork(InitialRecurrentWeights(), ranks.Count));
        using var engine = _engineFactory(net);
        var rule = new RankRRule(net, Pop, k => new RankRCell(
            new NeuronSpaceFeedback(FeedbackMatrix(ranks[k - engine.FirstInstance]), n, $"{o.Feedback.ToString().ToLowerInvariant()} R={ranks[k - engine.FirstInstance]}"),
            o.TauStarMs, new Adam(Plasticity.LearningRate.Fixed(o.LearningRate), decayEvery: o.RecurrentDecayEvery, decayFactor: o.DecayFactor), sStar[0])
        { UsePseudoDerivative = false, Prediction = RankRPrediction.Membrane });
        engine.AddPlasticityRule(rule);
        int[] clamped = [.. ranks.Select(r => o.Clamp ? r : 0)];
        var task = new CloningTask(demos, zStar, sStar, clamped, e => Order(OrderPurpose, e, a), rule);
        var protocol = new TrialProtocol(engine, task);
        var deltaS = ranks.Select(_ => new double[o.Epochs]).ToArray();
        var clock = Stopwatch.StartNew();
        for (int e = 0; e < o.Epochs; e++)
        {
            for (int j = 0; j < a; j++)
            {
                var m = protocol.RunTrial(e * a + j, cancellationToken) ?? throw Stopped(protocol, cancellationToken);
                for (int k = 0; k < ranks.Count; k++) deltaS[k][e] += m["delta_s", k] / a;
            }
            for (int k = 0; k < ranks.Count; k++) progress?.Invoke(e, k, deltaS[k][e]);
        }
        double cloneSeconds = clock.Elapsed.TotalSeconds;

        // Free replays of the demonstrations, then the readouts (host side, on the recorded spikes).
        task.Mode = CloningMode.Free;
        var free = new double[ranks.Count][][][];
        for (int k = 0; k < ranks.Count; k++) free[k] = new double[a][][];
        var freeDeltaS = new double[ranks.Count];
        for (int d = 0; d < a; d++)
        {
            var m = protocol.RunTrial(d, cancellationToken) ?? throw Stopped(protocol, cancellationToken);
            for (int k = 0; k < ranks.Count; k++)
            {
                free[k][d] = [.. task.FreeSpikes(k).Select(row => (double[])row.Clone())];
                freeDeltaS[k] += m["delta_s", k] / a;
            }
        }
        var readouts = new double[ranks.Count][];
        var readoutMse = new double[ranks.Count];
        for (int k = 0; k < ranks.Count; k++) (readouts[k], readoutMse[k]) = TrainReadout(free[k], demos);

        // Closed-loop tests, one batch of episodes per rank.
        var expert = o.TestAnglesDeg.Select(Demonstrate).ToArray();
        var perRank = new ButtonFoodRankResult[ranks.Count];
        for (int k = 0; k < ranks.Count; k++)
        {
            var grid = rule.Instances[k].Core.GridWeights;
            double unit = Math.ScaleB(1.0, -rule.Instances[k].Core.WeightFractionBits);
            var w = new double[n * n];
            for (int q = 0; q < w.Length; q++) w[q] = grid[q] * unit;
            var (scores, paths) = Test(w, readouts[k]);
            perRank[k] = new ButtonFoodRankResult(ranks[k], scores, paths, deltaS[k], freeDeltaS[k], readoutMse[k], rule.Instances[k].Core.Feedback.Name)
            {
                RecurrentWeights = w, Readout = readouts[k],
            };
        }
        return new ButtonFoodResult(o, perRank, [.. expert.Select(x => x.Score)], [.. expert.Select(x => x.Path)], demos.Select(x => x.Score).ToArray(),
            cloneSeconds / Math.Max(1, o.Epochs), engine.EngineName, rule.Instances[0].Core.Optimizer.Name);
    }

    private static Exception Stopped(TrialProtocol protocol, CancellationToken ct)
        => ct.IsCancellationRequested ? new OperationCanceledException(ct) : new InvalidOperationException($"stopped by a run guard: {protocol.Stop?.Reason}");

    /// <summary>
    /// Trains W_out (2×N, from 0) on free spikes z[d][t] with Adam: one step per demonstration and epoch (shuffled),
    /// direction Σ_t (a*[t] − W·ŝ[t])·z[t]ᵀ (t ascending), ŝ = filter(z, τ_ro). Returns W_out and its final MSE.
    /// </summary>
    public (double[] Readout, double Mse) TrainReadout(double[][][] spikes, IReadOnlyList<Demonstration> demos)
    {
        var o = Options;
        int n = o.Neurons, ticks = o.TrialTicks;
        var traces = spikes.Select(z => SpikeFilter.FilterTrain(z, n, 1.0, o.TauReadoutMs)).ToArray();
        var w = new double[2 * n];
        var grad = new double[2 * n];
        var adam = new Adam(Plasticity.LearningRate.Fixed(o.ReadoutLearningRate), decayEvery: o.ReadoutDecayEvery, decayFactor: o.DecayFactor);
        for (int e = 0; e < o.ReadoutEpochs; e++)
            foreach (int d in Order(ReadoutOrderPurpose, e, demos.Count))
            {
                Array.Clear(grad);
                for (int t = 0; t < ticks; t++)
                    for (int c = 0; c < 2; c++)
                    {
                        double err = demos[d].Actions[t][c] - StoreRecall.Dot(w.AsSpan(c * n, n), traces[d][t]);
                        var z = spikes[d][t];
                        for (int j = 0; j < n; j++) grad[c * n + j] += err * z[j];
                    }
                adam.Step(w, grad);
            }
        double sum = 0;
        for (int d = 0; d < demos.Count; d++)
            for (int t = 0; t < ticks; t++)
                for (int c = 0; c < 2; c++)
                {
                    double err = demos[d].Actions[t][c] - StoreRecall.Dot(w.AsSpan(c * n, n), traces[d][t]);
                    sum += err * err;
                }
        return (w, sum / (demos.Count * ticks * 2.0));
    }

    /// <summary>Closed-loop episodes at every test angle (one batch): scores and the agents' paths.</summary>
    public (double[] Scores, double[][] Paths) Test(double[] recurrent, double[] readout)
    {
        var o = Options;
        int episodes = o.TestAnglesDeg.Count;
        var net = NetworkCompiler.Compile(BuildNetwork(recurrent, episodes));
        using var engine = _engineFactory(net);
        var envs = new ButtonFoodEnvironment[episodes];
        var task = new ClosedLoopTask("button-food", o.Geometry.Steps, o.Seed,
            b => envs[b] = new ButtonFoodEnvironment(o.Geometry, o.TestAnglesDeg[b] * Math.PI / 180),
            _ => new GaussianPopulationEncoder(net, Pop, _code, InputWeights),
            _ => new FilteredSpikeReadout(net, Pop, o.TauReadoutMs, readout));
        var protocol = new TrialProtocol(engine, task);
        var m = protocol.RunTrial(0) ?? throw new InvalidOperationException($"the test stopped: {protocol.Stop?.Reason}");
        var scores = m.Values["max_reward"].Select(x => Math.Max(0, x)).ToArray();
        return (scores, [.. envs.Select(e => e.Path.ToArray())]);
    }
}

/// <summary>The outcome of one rank.</summary>
/// <param name="Rank">R.</param>
/// <param name="Scores">Score per test angle.</param>
/// <param name="Paths">The agent's path per test angle (x0, y0, x1, y1, …).</param>
/// <param name="DeltaS">Mean ΔS (free prediction vs target spikes, clamped run) per cloning epoch.</param>
/// <param name="FreeDeltaS">Mean ΔS of the free network on the demonstrations after cloning.</param>
/// <param name="ReadoutMse">The readout's MSE on the demonstrations (open loop).</param>
/// <param name="Feedback">The feedback's name.</param>
public sealed record ButtonFoodRankResult(int Rank, double[] Scores, double[][] Paths, double[] DeltaS, double FreeDeltaS, double ReadoutMse, string Feedback)
{
    /// <summary>The learned J_rec as the network uses it (N×N row-major, the grid values Q·2^-F).</summary>
    public double[] RecurrentWeights { get; init; } = [];
    /// <summary>The trained W_out (2×N row-major).</summary>
    public double[] Readout { get; init; } = [];

    /// <summary>Mean score over the test angles.</summary>
    public double MeanScore => Scores.Average();
}

/// <summary>The outcome of one seed.</summary>
public sealed record ButtonFoodResult(ButtonFoodOptions Options, ButtonFoodRankResult[] Ranks, double[] ExpertScores, double[][] ExpertPaths,
    double[] ExpertTrainingScores, double SecondsPerEpoch, string Engine, string Optimizer)
{
    /// <summary>The expert's mean score over the test angles.</summary>
    public double ExpertMeanScore => ExpertScores.Average();
}
