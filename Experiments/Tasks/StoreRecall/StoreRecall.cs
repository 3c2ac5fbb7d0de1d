using System.Diagnostics;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Plasticity;

namespace Sim.Experiments;

/// <summary>
/// Store and recall of a 3-D trajectory (Capone, Muratore &amp; Paolucci 2022, Fig. 2; docs/tasks/store_recall.md with the
/// pipeline of docs/rules/rank_r.md), one cell (one R, one τ⋆, one seed) or a batch of cells on one engine:
/// <list type="number">
/// <item>Target y* (T×O): t = linspace(0, 2π, T), y*_k = Σ_{f∈{1,2,3,5}} A_kf·sin(f·t + φ_kf), A ~ U(0,1), φ ~ U(0, 2π);
/// the first 8 steps zero; divided by the global max of y* over t and k (the "global max", read literally).</item>
/// <item>Network: N GoalLif neurons (paper defaults, dt = 1 ms), a 5-channel clock (span = (T−1)//5 ticks) through
/// W_in ~ N(0, 22²), and the recurrent all-to-all projection without autapses, W_rec = 0, on the fixed grid 2^-20.</item>
/// <item>Target spikes z*: the untrained network with the teacher drive u_i[t] = Σ_k W_teach,ik·y*_k[t], W_teach ~ N(0, 8²).
/// The drive uses the existing current input: O currents, current k with per-neuron amplitude W_teach[:, k] and the
/// piecewise-constant waveform y*_k (one change point per tick), summed by the kernel in k order. ŝ* = filter(z*, τ⋆).</item>
/// <item>Readout: W_out ~ N(0, 1/N), then full-batch gradient descent W_out += lr·Σ_t (y*[t] − W_out·ŝ*[t])·ŝ*[t]ᵀ; the
/// MSE after it is the readout limit.</item>
/// <item>Feedback B and D (<see cref="Plasticity.Feedback"/>), or B⁺ and the targets Y* for the output-space form; then E
/// epochs of free-running online learning with <see cref="RankRRule"/> (SGD, η = 5/√N unless set), each epoch a trial of
/// the <see cref="TrialProtocol"/> (from the initial state), with MSE and ΔS per epoch (<see cref="StoreRecallTask"/>).</item>
/// </list>
/// Random draws come from the counter RNG keyed by (seed, purpose, cell) (<see cref="PlasticityRandom"/>); W_in from the
/// network compiler's own streams (same seed ⇒ same W_in in the teacher and the learning network). Cells that share the
/// seed and the network options (N, T, O, clock, σ_in) share the learning network and can run as one batch
/// (<see cref="RunBatch"/>): each instance is its own learner with its own feedback, τ⋆, learning rate and targets.
/// </summary>
public sealed class StoreRecall
{
    /// <summary>The name of the recurrent population.</summary>
    public const string Pop = "rec";

    private readonly Func<CompiledNetwork, ISimulationEngine> _engineFactory;

    /// <summary>Creates the protocol.</summary>
    /// <param name="options">The cell.</param>
    /// <param name="engineFactory">
    /// Creates the engine for the teacher run and the learning run from a compiled network (e.g.
    /// <see cref="EngineFactory.GridFactory"/>); null: the CPU event engine with one thread. Engines that are bit-identical
    /// (the dense engine) give the same curves bit for bit.
    /// </param>
    public StoreRecall(StoreRecallOptions options, Func<CompiledNetwork, ISimulationEngine>? engineFactory = null)
    {
        options.Validate();
        Options = options;
        Target = MakeTarget(options);
        _engineFactory = engineFactory ?? EngineFactory.GridFactory("event", new EngineSettings { Threads = 1 });
    }

    /// <summary>The options.</summary>
    public StoreRecallOptions Options { get; }
    /// <summary>y*[t][k].</summary>
    public double[][] Target { get; }

    /// <summary>The target trajectory (T×O).</summary>
    public static double[][] MakeTarget(StoreRecallOptions o)
    {
        int[] freqs = [1, 2, 3, 5];
        ulong key = PlasticityRandom.Key(o.Seed, PlasticityRandom.TargetPurpose, o.Cell);
        var amp = new double[o.Outputs, freqs.Length];
        var phase = new double[o.Outputs, freqs.Length];
        for (int k = 0; k < o.Outputs; k++)
            for (int f = 0; f < freqs.Length; f++)
            {
                amp[k, f] = PlasticityRandom.Uniform(key, 2L * (k * freqs.Length + f));
                phase[k, f] = 2 * Math.PI * PlasticityRandom.Uniform(key, 2L * (k * freqs.Length + f) + 1);
            }
        var y = new double[o.Steps][];
        double max = 0;
        for (int t = 0; t < o.Steps; t++)
        {
            y[t] = new double[o.Outputs];
            double time = 2 * Math.PI * t / (o.Steps - 1);
            for (int k = 0; k < o.Outputs; k++)
            {
                double s = 0;
                if (t >= o.ZeroSteps)
                    for (int f = 0; f < freqs.Length; f++) s += amp[k, f] * Math.Sin(freqs[f] * time + phase[k, f]);
                y[t][k] = s;
                max = Math.Max(max, s);
            }
        }
        if (max > 0) foreach (var row in y) for (int k = 0; k < row.Length; k++) row[k] /= max;
        return y;
    }

    /// <summary>The network of the task; with the teacher currents when <paramref name="teacher"/> (W_teach, N rows of O) is given.</summary>
    public NetworkSpec BuildNetwork(double[][]? teacher, int batch = 1)
    {
        var o = Options;
        var b = new NetworkBuilder("store-recall") { Run = new RunOptions { DtMs = 1.0, DurationMs = o.Steps, Seed = o.Seed, Batch = batch } };
        b.NeuronGroup(Pop, o.Neurons, new GoalLifParameters { TraceFractionBits = o.Unquantized ? 0 : new GoalLifParameters().TraceFractionBits });
        b.Clock("clock", o.ClockChannels, (o.Steps - 1) / o.ClockChannels);
        b.Synapses("clock", Pop, new Connectivity.AllToAll(), Value.Normal(0, o.InputSd), projectionName: "w_in");
        if (o.InitialRecurrentSd > 0)
        {
            // Explicit pairs, row by row (post i, pre j ascending): the teacher run keeps the self-connections.
            var w = InitialRecurrentWeights();
            int n = o.Neurons;
            bool autapses = teacher is not null;
            var pre = new List<int>(n * n); var post = new List<int>(n * n); var weights = new List<double>(n * n);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (autapses || i != j) { pre.Add(j); post.Add(i); weights.Add(w[i * n + j]); }
            b.Synapses(Pop, Pop, new Connectivity.PairList([.. pre], [.. post]), Value.PerElement([.. weights]), projectionName: "w_rec",
                weightFractionBits: o.RecurrentWeightFractionBits);
        }
        else
            b.Synapses(Pop, Pop, new Connectivity.AllToAll(Autapses: false), 0.0, projectionName: "w_rec", weightFractionBits: o.RecurrentWeightFractionBits);
        if (teacher is not null)
        {
            var times = new double[o.Steps];
            for (int t = 0; t < o.Steps; t++) times[t] = t;
            for (int k = 0; k < o.Outputs; k++)
            {
                var scales = new double[o.Steps];
                for (int t = 0; t < o.Steps; t++) scales[t] = TeacherScale(t, k);
                b.Current(Pop, Value.PerElement([.. teacher.Select(row => row[k])]), times, scales);
            }
        }
        return b.Build();
    }

    /// <summary>The teacher waveform of output k at tick t: y*_k[t], or y*_k[t−1] (0 at t = 0) with <see cref="StoreRecallOptions.TeacherLag"/>.</summary>
    public double TeacherScale(int t, int k) => !Options.TeacherLag ? Target[t][k] : t == 0 ? 0.0 : Target[t - 1][k];

    /// <summary>
    /// The initial W_rec (N×N row-major, [i, j] from j to i, diagonal included) ~ N(0, σ_rec²), element i·N + j of the
    /// counter stream (seed, <see cref="PlasticityRandom.InitialRecurrentPurpose"/>, cell); all zeros when σ_rec = 0.
    /// </summary>
    public double[] InitialRecurrentWeights()
    {
        var o = Options;
        int n = o.Neurons;
        var w = new double[n * n];
        if (o.InitialRecurrentSd == 0) return w;
        ulong key = PlasticityRandom.Key(o.Seed, PlasticityRandom.InitialRecurrentPurpose, o.Cell);
        for (int k = 0; k < w.Length; k++) w[k] = o.InitialRecurrentSd * PlasticityRandom.Normal(key, k);
        return w;
    }

    /// <summary>W_teach (N×O, rows per neuron) ~ N(0, σ_trg²).</summary>
    public double[][] TeacherWeights()
    {
        var o = Options;
        ulong key = PlasticityRandom.Key(o.Seed, PlasticityRandom.TeacherPurpose, o.Cell);
        var w = new double[o.Neurons][];
        for (int i = 0; i < o.Neurons; i++)
        {
            w[i] = new double[o.Outputs];
            for (int k = 0; k < o.Outputs; k++) w[i][k] = o.TeacherSd * PlasticityRandom.Normal(key, (long)i * o.Outputs + k);
        }
        return w;
    }

    /// <summary>Target spikes z*[t][i] of the untrained network under the teacher drive.</summary>
    public double[][] TargetSpikes()
    {
        var net = NetworkCompiler.Compile(BuildNetwork(TeacherWeights()));
        using var engine = _engineFactory(net);
        var rec = new SpikeRaster(Options.Steps, Options.Neurons, net.Population(Pop).Offset);
        engine.AddSpikeSink(rec);
        engine.Run(Options.Steps);
        return rec.Z[0];
    }

    /// <summary>
    /// Trains W_out (O×N, row-major) on the target traces: W_out ~ N(0, 1/N), then <see cref="StoreRecallOptions.ReadoutIterations"/>
    /// full-batch steps W_out += lr·Σ_t (y*[t] − W_out·ŝ*[t])·ŝ*[t]ᵀ (sums: t ascending; W_out·ŝ: j ascending).
    /// </summary>
    public double[] TrainReadout(double[][] targetTrace)
    {
        var o = Options;
        int n = o.Neurons, m = o.Outputs;
        ulong key = PlasticityRandom.Key(o.Seed, PlasticityRandom.ReadoutPurpose, o.Cell);
        var w = new double[m * n];
        double sd = 1.0 / Math.Sqrt(n);
        for (int k = 0; k < w.Length; k++) w[k] = sd * PlasticityRandom.Normal(key, k);
        var grad = new double[m * n];
        var err = new double[m];
        for (int it = 0; it < o.ReadoutIterations; it++)
        {
            Array.Clear(grad);
            for (int t = 0; t < o.Steps; t++)
            {
                var s = targetTrace[t];
                for (int k = 0; k < m; k++) err[k] = Target[t][k] - Dot(w.AsSpan(k * n, n), s);
                for (int k = 0; k < m; k++)
                {
                    double e = err[k];
                    for (int j = 0; j < n; j++) grad[k * n + j] += e * s[j];
                }
            }
            for (int k = 0; k < w.Length; k++) w[k] += o.ReadoutLearningRate * grad[k];
        }
        return w;
    }

    /// <summary>Σ_j a_j·b_j, j ascending from +0.0 (the canonical order of the readout).</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int j = 0; j < a.Length; j++) s += a[j] * b[j];
        return s;
    }

    /// <summary>The readout y[t][k] = (W_out·ŝ[t])_k (same sums as <see cref="Mse"/>).</summary>
    public double[][] Readout(double[] wOut, IReadOnlyList<double[]> trace)
    {
        int n = Options.Neurons, m = Options.Outputs;
        var y = new double[Options.Steps][];
        for (int t = 0; t < Options.Steps; t++)
        {
            y[t] = new double[m];
            for (int k = 0; k < m; k++) y[t][k] = Dot(wOut.AsSpan(k * n, n), trace[t]);
        }
        return y;
    }

    /// <summary>MSE = mean over t, k of (y*[t][k] − (W_out·ŝ[t])_k)².</summary>
    public double Mse(double[] wOut, IReadOnlyList<double[]> trace)
    {
        int n = Options.Neurons, m = Options.Outputs;
        double sum = 0;
        for (int t = 0; t < Options.Steps; t++)
            for (int k = 0; k < m; k++)
            {
                double e = Target[t][k] - Dot(wOut.AsSpan(k * n, n), trace[t]);
                sum += e * e;
            }
        return sum / ((double)Options.Steps * m);
    }

    /// <summary>What every learning run of a cell starts from (steps 1–3 of the pipeline).</summary>
    internal sealed record Setup(StoreRecall Task, double[][] ZStar, double[] WOut, double ReadoutLimit, double[] B, double[] D,
        double[][] RuleTarget, LearningRate Rate, double FeedbackNorm, double FeedbackTrace)
    {
        public long TargetSpikes => ZStar.Sum(row => row.Sum(z => (long)z));

        /// <summary>A fresh learner cell for one engine instance (its own feedback and optimizer objects).</summary>
        public RankRCell Cell()
        {
            var o = Task.Options;
            ErrorFeedback feedback = o.OutputSpace ? new OutputSpaceFeedback(B, o.Neurons, o.Rank) : new NeuronSpaceFeedback(D, o.Neurons, o.Ltts ? "LTTS" : $"rank {o.Rank}");
            IOptimizer optimizer = o.EtaController is { } kind
                ? new Plasticity.Controllers.ControlledSgd(Plasticity.Controllers.ControlledSgd.CreateController(kind, o.Seed, o.Cell), Rate)
                : new Sgd(Rate);
            return new RankRCell(feedback, o.TauStarDt, optimizer, RuleTarget) { Mode = o.PerTrial ? UpdateMode.PerTrial : UpdateMode.Online };
        }
    }

    internal Setup Prepare()
    {
        var o = Options;
        int n = o.Neurons;
        var zStar = TargetSpikes();
        var sStar = SpikeFilter.FilterTrain(zStar, n, 1.0, o.TauStarDt);   // dt = 1 ms
        var wOut = TrainReadout(sStar);
        double limit = Mse(wOut, sStar);
        var bMat = Plasticity.Feedback.Matrix(wOut, o.Outputs, n, o.Seed, o.Cell);
        // D = B⁺B⁺ᵀ (rank R) or the LTTS form: the neuron-space feedback, and ‖D‖₂, tr D (reported; η per ‖D‖₂).
        var d = o.Ltts ? Plasticity.Feedback.Ltts(bMat, n) : Plasticity.Feedback.RankR(bMat, n, o.Rank);
        double[][] ruleTarget = o.OutputSpace ? new OutputSpaceFeedback(bMat, n, o.Rank).Targets(Target, sStar) : sStar;
        var (dNorm, dTrace) = Plasticity.Feedback.Norms(d, n);
        var rate = o.LearningRate
            ?? (o.StepPerFeedbackNorm is { } step ? LearningRate.PerFeedbackNorm(step, dNorm) : LearningRate.FivePerSqrtN(n));
        return new Setup(this, zStar, wOut, limit, bMat, d, ruleTarget, rate, dNorm, dTrace);
    }

    /// <summary>
    /// The engine and rank-R rule of this cell as <see cref="Run"/> sets them up (target, readout, feedback and learning
    /// rate prepared, the rule attached): one learning epoch is <c>engine.ResetState(); engine.Run(Steps); engine.EndTrial();</c>.
    /// The caller disposes the engine.
    /// </summary>
    public (ISimulationEngine Engine, RankRRule Rule) CreateLearner()
    {
        var setup = Prepare();
        return CreateLearner([setup], _engineFactory);
    }

    private static (ISimulationEngine Engine, RankRRule Rule) CreateLearner(IReadOnlyList<Setup> setups, Func<CompiledNetwork, ISimulationEngine> factory)
    {
        var net = NetworkCompiler.Compile(setups[0].Task.BuildNetwork(null, setups.Count));
        var engine = factory(net);
        try
        {
            var rule = new RankRRule(net, Pop, instance => setups[instance - engine.FirstInstance].Cell());
            engine.AddPlasticityRule(rule);
            return (engine, rule);
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    /// <summary>Runs the whole cell; <paramref name="progress"/> (optional) receives (epoch, MSE, ΔS) after each epoch.</summary>
    public StoreRecallResult Run(Action<int, double, double>? progress = null, CancellationToken cancellationToken = default)
        => RunBatch([this], (e, _, mse, ds) => progress?.Invoke(e, mse, ds), cancellationToken)[0];

    /// <summary>
    /// Runs several cells as one batch on one engine (instance k learns cell k), with the engine factory of the first.
    /// The cells must share the learning network: the same seed and the same N, T, O, clock channels, σ_in, weight grid
    /// and quantization. Each result equals the cell run alone, bit for bit. <paramref name="progress"/> receives
    /// (epoch, cell index, MSE, ΔS).
    /// </summary>
    public static StoreRecallResult[] RunBatch(IReadOnlyList<StoreRecall> cells, Action<int, int, double, double>? progress = null, CancellationToken cancellationToken = default)
    {
        if (cells.Count == 0) return [];
        var first = cells[0].Options;
        foreach (var c in cells)
        {
            var o = c.Options;
            if (o.Seed != first.Seed || o.Neurons != first.Neurons || o.Steps != first.Steps || o.Outputs != first.Outputs || o.ClockChannels != first.ClockChannels
                || o.InputSd != first.InputSd || o.RecurrentWeightFractionBits != first.RecurrentWeightFractionBits || o.Unquantized != first.Unquantized
                || o.InitialRecurrentSd != first.InitialRecurrentSd || o.Cell != first.Cell && o.InitialRecurrentSd > 0)
                throw new ArgumentException("cells of one batch must share the learning network (seed, N, T, O, clock channels, σ_in, weight grid, quantization, initial W_rec)", nameof(cells));
            if (o.Epochs != first.Epochs) throw new ArgumentException("cells of one batch run the same number of epochs", nameof(cells));
        }
        var setups = cells.Select(c => c.Prepare()).ToArray();
        var (engineMade, rule) = CreateLearner(setups, cells[0]._engineFactory);
        using var engine = engineMade;
        var task = new StoreRecallTask(setups, rule);
        var protocol = new TrialProtocol(engine, task);
        var clock = Stopwatch.StartNew();
        var curves = new List<TrialMetrics>(first.Epochs);
        string? failure = null;
        try
        {
            protocol.Run(first.Epochs, m =>
            {
                curves.Add(m);
                for (int k = 0; k < setups.Length; k++)
                {
                    // A controlled η sees the epoch's MSE and sets the next epoch's η (before the next trial starts).
                    if (rule.Instances[k].Core.Optimizer is Plasticity.Controllers.ControlledSgd controlled) controlled.EndTrial(m[StoreRecallTask.MseMetric, k]);
                    progress?.Invoke(m.Trial, k, m[StoreRecallTask.MseMetric, k], m[StoreRecallTask.SpikeErrorMetric, k]);
                }
            }, cancellationToken);
        }
        catch (Sim.EventCore.Plasticity.PlasticWeightException e)
        {
            // A rule's write refused (e.g. beyond the grid's exact range): keep the epochs completed before it.
            failure = $"learning stopped in epoch {curves.Count}: {e.Message}";
        }
        clock.Stop();
        if (failure is null && protocol.Stop is { } stop) failure = $"stopped by a run guard in epoch {curves.Count}: {stop.Reason}";
        bool complete = failure is null && curves.Count == first.Epochs;
        double perEpoch = curves.Count > 0 ? clock.Elapsed.TotalSeconds / curves.Count : 0;
        var results = new StoreRecallResult[setups.Length];
        for (int k = 0; k < setups.Length; k++)
        {
            var s = setups[k];
            results[k] = new StoreRecallResult(s.ReadoutLimit, [.. curves.Select(m => m[StoreRecallTask.MseMetric, k])],
                [.. curves.Select(m => m[StoreRecallTask.SpikeErrorMetric, k])], s.TargetSpikes, perEpoch, rule.Instances[k].Core.Feedback.Name, rule.Instances[k].Core.Optimizer.Name)
            {
                Engine = s.Task.Options.Unquantized ? engine.EngineName + ", unquantized float64" : engine.EngineName,
                Rate = s.Rate, FeedbackNorm = s.FeedbackNorm, FeedbackTrace = s.FeedbackTrace,
                FinalOutput = complete && curves.Count > 0 ? s.Task.Readout(s.WOut, task.Trace(k)) : [],
                Failure = failure,
                EtaPerEpoch = rule.Instances[k].Core.Optimizer is Plasticity.Controllers.ControlledSgd c
                    ? [.. c.EtaPerTrial.Take(curves.Count)] : [.. Enumerable.Repeat(s.Rate.Eta, curves.Count)],
            };
        }
        return results;
    }
}
