using System.Diagnostics;
using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.Plasticity;

namespace Sim.Experiments;

/// <summary>Options of one store-and-recall cell (MODELS.md §4.1, §3.1). Defaults are the paper's.</summary>
public sealed record StoreRecallOptions
{
    /// <summary>N, recurrent GoalLif neurons.</summary>
    public int Neurons { get; init; } = 150;
    /// <summary>T, steps per trial (dt = 1 ms).</summary>
    public int Steps { get; init; } = 150;
    /// <summary>O, outputs.</summary>
    public int Outputs { get; init; } = 3;
    /// <summary>Clock channels.</summary>
    public int ClockChannels { get; init; } = 5;
    /// <summary>Leading target steps set to zero.</summary>
    public int ZeroSteps { get; init; } = 8;
    /// <summary>R, rank of the feedback (O ≤ R ≤ N); ignored when <see cref="Ltts"/>.</summary>
    public int Rank { get; init; } = 150;
    /// <summary>Use the LTTS feedback D = mean(diag(B·Bᵀ))·I instead of the rank-R one.</summary>
    public bool Ltts { get; init; }
    /// <summary>Use the output-space form of the rule (Eq. 8, <see cref="OutputSpaceFeedback"/>) with B⁺ = B[:, :R].</summary>
    public bool OutputSpace { get; init; }
    /// <summary>τ⋆ in units of dt (the filter of target and network spikes and the readout's τ_o).</summary>
    public double TauStarDt { get; init; } = 4.64;
    /// <summary>Epochs of online recurrent learning.</summary>
    public int Epochs { get; init; } = 100;
    /// <summary>Seed of every random draw.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Index of the cell (task instance) in the random streams.</summary>
    public ulong Cell { get; init; }
    /// <summary>σ_in of W_in ~ N(0, σ_in²).</summary>
    public double InputSd { get; init; } = 22;
    /// <summary>σ_trg of W_teach ~ N(0, σ_trg²).</summary>
    public double TeacherSd { get; init; } = 8;
    /// <summary>Readout training: full-batch iterations.</summary>
    public int ReadoutIterations { get; init; } = 5000;
    /// <summary>Readout training: learning rate.</summary>
    public double ReadoutLearningRate { get; init; } = 0.0025;
    /// <summary>η of the recurrent rule and how it was chosen; null: 5/√N.</summary>
    public LearningRate? LearningRate { get; init; }
    /// <summary>
    /// When set (and <see cref="LearningRate"/> is not), η = this/‖D‖₂: every feedback takes the same largest step
    /// (<see cref="Plasticity.LearningRate.PerFeedbackNorm"/>).
    /// </summary>
    public double? StepPerFeedbackNorm { get; init; }
    /// <summary>
    /// Per-trial updates (<see cref="UpdateMode.PerTrial"/>): the rule sums its directions over an epoch and applies them
    /// once at its end; false (the paper's protocol): online, every tick.
    /// </summary>
    public bool PerTrial { get; init; }
    /// <summary>F of the W_rec grid 2^-F, fixed in advance (W_rec starts at 0).</summary>
    public int RecurrentWeightFractionBits { get; init; } = 20;

    /// <summary>Checks the options; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        static void Need(bool ok, string name, string what) { if (!ok) throw new ArgumentException($"{name}: {what}"); }
        Need(Neurons >= 2, nameof(Neurons), "must be ≥ 2");
        Need(Outputs >= 1 && Outputs <= Neurons, nameof(Outputs), "must lie in [1, N]");
        Need(ClockChannels >= 1, nameof(ClockChannels), "must be ≥ 1");
        Need(Steps > ClockChannels, nameof(Steps), "must exceed the number of clock channels");
        Need(ZeroSteps >= 0 && ZeroSteps < Steps, nameof(ZeroSteps), "must lie in [0, T)");
        Need(Ltts || (Rank >= Outputs && Rank <= Neurons), nameof(Rank), $"must lie in [O, N] = [{Outputs}, {Neurons}]");
        Need(!(OutputSpace && Ltts), nameof(OutputSpace), "the output-space form needs a rank R, not the LTTS feedback");
        Need(TauStarDt > 0 && double.IsFinite(TauStarDt), nameof(TauStarDt), "must be finite and > 0");
        Need(Epochs >= 0, nameof(Epochs), "must be ≥ 0");
        Need(ReadoutIterations >= 0 && ReadoutLearningRate > 0, nameof(ReadoutIterations), "iterations ≥ 0 and a positive learning rate");
        Need(StepPerFeedbackNorm is null || (StepPerFeedbackNorm > 0 && double.IsFinite(StepPerFeedbackNorm.Value)), nameof(StepPerFeedbackNorm), "must be finite and > 0");
        Need(StepPerFeedbackNorm is null || LearningRate is null, nameof(StepPerFeedbackNorm), "excludes an explicit LearningRate");
    }
}

/// <summary>Result of one store-and-recall cell.</summary>
/// <param name="ReadoutLimit">MSE of the trained readout on the target traces ŝ* (the best the recurrent learning can reach).</param>
/// <param name="Mse">Per epoch: mean over t, k of (y* − y)², y = W_out·ŝ during the learning pass.</param>
/// <param name="SpikeError">Per epoch: ΔS = Σ_{t,i} |z*_i[t] − z_i[t]|.</param>
/// <param name="TargetSpikes">Σ z* (for scale).</param>
/// <param name="SecondsPerEpoch">Wall time per learning epoch.</param>
/// <param name="Feedback">"rank R", "LTTS" or "output space (Eq. 8), R = …".</param>
/// <param name="Optimizer">Optimizer and learning rate, by name.</param>
public sealed record StoreRecallResult(double ReadoutLimit, double[] Mse, double[] SpikeError, long TargetSpikes, double SecondsPerEpoch,
    string Feedback, string Optimizer)
{
    /// <summary>The engine that ran the learning epochs (<see cref="ISimulationEngine.EngineName"/>).</summary>
    public string Engine { get; init; } = "event";
    /// <summary>The learning rate used (and how it was chosen).</summary>
    public required LearningRate Rate { get; init; }
    /// <summary>‖D‖₂ of the feedback (D = B⁺B⁺ᵀ for the output-space form), see <see cref="Plasticity.Feedback.Norms"/>.</summary>
    public double FeedbackNorm { get; init; }
    /// <summary>tr D.</summary>
    public double FeedbackTrace { get; init; }
    /// <summary>The recalled trajectory y[t][k] = (W_out·ŝ[t])_k of the last epoch run (empty when no epoch ran).</summary>
    public double[][] FinalOutput { get; init; } = [];
}

/// <summary>
/// Store and recall of a 3-D trajectory (Capone, Muratore &amp; Paolucci 2022, Fig. 2; MODELS.md §4.1 with the pipeline
/// of §3.1), one cell (one R, one τ⋆, one seed) on the CPU EventEngine (or any engine from a factory):
/// <list type="number">
/// <item>Target y* (T×O): t = linspace(0, 2π, T), y*_k = Σ_{f∈{1,2,3,5}} A_kf·sin(f·t + φ_kf), A ~ U(0,1), φ ~ U(0, 2π);
/// the first 8 steps zero; divided by the global max of y* over t and k (MODELS.md's "global max", read literally).</item>
/// <item>Network: N GoalLif neurons (paper defaults, dt = 1 ms), a 5-channel clock (span = (T−1)//5 ticks) through
/// W_in ~ N(0, 22²), and the recurrent all-to-all projection without autapses, W_rec = 0, on the fixed grid 2^-20.</item>
/// <item>Target spikes z*: the untrained network with the teacher drive u_i[t] = Σ_k W_teach,ik·y*_k[t], W_teach ~ N(0, 8²).
/// The drive uses the existing current input: O currents, current k with per-neuron amplitude W_teach[:, k] and the
/// piecewise-constant waveform y*_k (one change point per tick), summed by the kernel in k order. ŝ* = filter(z*, τ⋆).</item>
/// <item>Readout: W_out ~ N(0, 1/N), then full-batch gradient descent W_out += lr·Σ_t (y*[t] − W_out·ŝ*[t])·ŝ*[t]ᵀ; the
/// MSE after it is the readout limit.</item>
/// <item>Feedback B and D (<see cref="Plasticity.Feedback"/>), or B⁺ and the targets Y* for the output-space form; then E epochs of free-running online learning with
/// <see cref="RankRRule"/> (SGD, η = 5/√N unless set), each epoch from the initial state, with MSE and ΔS per epoch.</item>
/// </list>
/// Random draws come from the counter RNG keyed by (seed, purpose, cell) (<see cref="PlasticityRandom"/>); W_in from the
/// network compiler's own streams (same seed ⇒ same W_in in the teacher and the learning network).
/// </summary>
public sealed class StoreRecall
{
    private const string Pop = "rec";

    private readonly Func<CompiledNetwork, ISimulationEngine> _engineFactory;

    /// <summary>Creates the protocol.</summary>
    /// <param name="options">The cell.</param>
    /// <param name="engineFactory">
    /// Creates the engine for the teacher run and the learning run from a compiled network (batch of one; it must accept
    /// <see cref="ISimulationEngine.AddPlasticityRule"/>); null: the CPU <see cref="EventEngine"/> with one thread. Engines
    /// that are bit-identical (e.g. the dense engine, DESIGN.md numerics contract) give the same curves bit for bit.
    /// </param>
    public StoreRecall(StoreRecallOptions options, Func<CompiledNetwork, ISimulationEngine>? engineFactory = null)
    {
        options.Validate();
        Options = options;
        Target = MakeTarget(options);
        _engineFactory = engineFactory ?? (net => new EventEngine(net, new EngineOptions { Threads = 1 }));
    }

    /// <summary>The options.</summary>
    public StoreRecallOptions Options { get; }
    /// <summary>y*[t][k].</summary>
    public double[][] Target { get; }

    /// <summary>The target trajectory of §4.1 (T×O).</summary>
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
    public NetworkSpec BuildNetwork(double[][]? teacher)
    {
        var o = Options;
        var b = new NetworkBuilder("store-recall") { Run = new RunOptions { DtMs = 1.0, DurationMs = o.Steps, Seed = o.Seed } };
        b.NeuronGroup(Pop, o.Neurons, new GoalLifParameters());
        b.Clock("clock", o.ClockChannels, (o.Steps - 1) / o.ClockChannels);
        b.Synapses("clock", Pop, new Connectivity.AllToAll(), Value.Normal(0, o.InputSd), projectionName: "w_in");
        b.Synapses(Pop, Pop, new Connectivity.AllToAll(Autapses: false), 0.0, projectionName: "w_rec", weightFractionBits: o.RecurrentWeightFractionBits);
        if (teacher is not null)
        {
            var times = new double[o.Steps];
            for (int t = 0; t < o.Steps; t++) times[t] = t;
            for (int k = 0; k < o.Outputs; k++)
            {
                var scales = new double[o.Steps];
                for (int t = 0; t < o.Steps; t++) scales[t] = Target[t][k];
                b.Current(Pop, Value.PerElement([.. teacher.Select(row => row[k])]), times, scales);
            }
        }
        return b.Build();
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
        return rec.Z;
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

    /// <summary>What every learning run of a cell starts from (steps 1–3 of MODELS.md §3.1).</summary>
    private sealed record Setup(double[][] ZStar, double[] WOut, double ReadoutLimit, ErrorFeedback Feedback,
        double[][] RuleTarget, LearningRate Rate, double FeedbackNorm, double FeedbackTrace)
    {
        public long TargetSpikes => ZStar.Sum(row => row.Sum(z => (long)z));
    }

    private Setup Prepare()
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
        ErrorFeedback feedback;
        double[][] ruleTarget = sStar;
        if (o.OutputSpace)
        {
            var output = new OutputSpaceFeedback(bMat, n, o.Rank);
            ruleTarget = output.Targets(Target, sStar);
            feedback = output;
        }
        else feedback = new NeuronSpaceFeedback(d, n, o.Ltts ? "LTTS" : $"rank {o.Rank}");
        var (dNorm, dTrace) = Plasticity.Feedback.Norms(d, n);
        var rate = o.LearningRate
            ?? (o.StepPerFeedbackNorm is { } step ? LearningRate.PerFeedbackNorm(step, dNorm) : LearningRate.FivePerSqrtN(n));
        return new Setup(zStar, wOut, limit, feedback, ruleTarget, rate, dNorm, dTrace);
    }

    /// <summary>
    /// The network, engine and rank-R rule of this cell as <see cref="Run"/> uses them (target, readout, feedback and
    /// learning rate prepared, the rule attached to the engine): one learning epoch is
    /// <c>engine.ResetState(); rule.ResetTrial(); engine.Run(Steps); rule.EndTrial();</c>. The caller disposes the engine.
    /// </summary>
    public (ISimulationEngine Engine, RankRRule Rule) CreateLearner()
    {
        var (_, engine, rule) = CreateLearner(Prepare());
        return (engine, rule);
    }

    private (CompiledNetwork Network, ISimulationEngine Engine, RankRRule Rule) CreateLearner(Setup setup)
    {
        var o = Options;
        var net = NetworkCompiler.Compile(BuildNetwork(null));
        var engine = _engineFactory(net);
        var rule = new RankRRule(net, Pop, setup.Feedback, o.TauStarDt, new Sgd(setup.Rate)) { Mode = o.PerTrial ? UpdateMode.PerTrial : UpdateMode.Online };
        rule.SetTarget(setup.RuleTarget);
        engine.AddPlasticityRule(rule);
        return (net, engine, rule);
    }

    /// <summary>Runs the whole cell; <paramref name="progress"/> (optional) receives (epoch, MSE, ΔS) after each epoch.</summary>
    public StoreRecallResult Run(Action<int, double, double>? progress = null, CancellationToken cancellationToken = default)
    {
        var o = Options;
        int n = o.Neurons;
        var setup = Prepare();
        var (net, engineMade, rule) = CreateLearner(setup);
        using var engine = engineMade;
        var rec = new TraceRecorder(rule, n, o.Steps, net.Population(Pop).Offset);
        engine.AddSpikeSink(rec);
        return Learn(setup, engine.EngineName, rule.Core.Optimizer.Name, rec.Trace, rec.Z, progress, cancellationToken, () =>
        {
            engine.ResetState();
            rule.ResetTrial();
            rec.Clear();
            engine.Run(o.Steps);
            rule.EndTrial();
        });
    }

    /// <summary>
    /// The same cell learned by a plain float64 transcription of MODELS.md §1.3 and §3.1 instead of an engine: with
    /// <paramref name="quantized"/> it keeps the model's grids (hz and ej rounded to 2^-G, W_rec·hz from the grid
    /// weights Q·2^-F) and reproduces the event engine bit for bit (a spec checks it); without, it is the
    /// **unquantized float64 run** of §1.3: hz and ej unrounded, W_rec·hz = Σ_j W_ij·hz_j (j ascending) with the float64
    /// master weights W, no weight grid. Comparing the two shows whether the grids affect learning.
    /// Supports the neuron-space and output-space forms; the same target, readout, feedback, W_in and learning rate.
    /// </summary>
    public StoreRecallResult RunFloat64Reference(bool quantized, Action<int, double, double>? progress = null, CancellationToken cancellationToken = default)
    {
        var o = Options;
        int n = o.Neurons;
        var setup = Prepare();
        var net = NetworkCompiler.Compile(BuildNetwork(null));
        var pop = net.Population(Pop);
        var c = (GoalLifConstants)pop.Constants;
        var update = new RankRUpdate(setup.Feedback, net.DtMs, o.TauStarDt, new Sgd(setup.Rate), pop.TraceWeightFractionBits)
        {
            Mode = o.PerTrial ? UpdateMode.PerTrial : UpdateMode.Online,
        };
        // Initial v as the engine draws it; W_in·x as the engine delivers it (clock spike at tick t arrives at t + d).
        double[] v0;
        using (var probe = new EventEngine(net, new EngineOptions { Threads = 1 })) v0 = probe.GetVariable(0, Pop, "v");
        var clock = net.Inputs.Single(i => i.ClockSpanTicks > 0);
        var syn = net.Synapses;
        double inScale = Math.ScaleB(1.0, -pop.WeightFractionBits), recScale = Math.ScaleB(1.0, -pop.TraceWeightFractionBits);
        double rowLimit = CompiledNetwork.TraceRowLimit(pop);
        var input = new double[o.Steps][];
        for (int t = 0; t < o.Steps; t++) input[t] = new double[n];
        for (long t = 0; t < o.Steps; t++)
        {
            int ch = clock.ClockChannelAt(t);
            if (ch < 0) continue;
            int src = clock.Offset + ch;
            for (int g = syn.SegmentOffsets[src]; g < syn.SegmentOffsets[src + 1]; g++)
            {
                long at = t + syn.SegmentDelay[g];
                if (at >= o.Steps) continue;
                for (int k = syn.SegmentStart[g]; k < syn.SegmentStart[g + 1]; k++)
                    if (syn.Target[k] >= pop.Offset && syn.Target[k] < pop.Offset + n) input[at][syn.Target[k] - pop.Offset] += syn.Q[k];
            }
        }
        foreach (var row in input) for (int i = 0; i < n; i++) row[i] *= inScale;   // exact: integer sums times 2^-F

        double[] v = new double[n], z = new double[n], hz = new double[n], ej = new double[n], rec = new double[n];
        var trace = new double[o.Steps][];
        var zRec = new double[o.Steps][];
        for (int t = 0; t < o.Steps; t++) { trace[t] = new double[n]; zRec[t] = new double[n]; }
        double Q(double x) => quantized ? Math.Round(x * c.TraceScale, MidpointRounding.ToEven) * c.TraceUnit : x;
        return Learn(setup, quantized ? "float64 reference, grids kept" : "float64 reference, unquantized", update.Optimizer.Name, trace, zRec,
            progress, cancellationToken, () =>
        {
            v0.CopyTo(v, 0);
            Array.Clear(z); Array.Clear(hz); Array.Clear(ej);
            update.Filter.Reset();
            for (int t = 0; t < o.Steps; t++)
            {
                for (int i = 0; i < n; i++)
                {
                    hz[i] = Q(z[i] * c.OneMinusAlphaSyn[i] + hz[i] * c.AlphaSyn[i]);
                    ej[i] = Q(hz[i] * c.OneMinusAlphaMem[i] + ej[i] * c.AlphaMem[i]);
                }
                if (quantized)
                {
                    var q = update.GridWeights;
                    for (int i = 0; i < n; i++)
                    {
                        // The engines refuse a row beyond the exactness bound Σ_j |Q_ij|·2^G < 2^53 (SetTraceRowWeights);
                        // so does the transcription, which relies on it for the exact sum below.
                        ulong abs = FixedPoint.SumAbsSaturating(q.Slice(i * n, n));
                        if (abs >= (ulong)rowLimit)
                            throw new InvalidOperationException($"plastic trace weights into neuron {i} reach {abs:E3} grid units, beyond the exact range {rowLimit:E3} (Σ|q|·2^{pop.TraceInputFractionBits} < 2^53)");
                        double sum = 0;   // exact: Q·hz are multiples of 2^-G below 2^53·2^-G
                        for (int j = 0; j < n; j++) sum += q[i * n + j] * hz[j];
                        rec[i] = (sum + 0.0) * recScale;
                    }
                }
                else
                {
                    var w = update.Weights;
                    for (int i = 0; i < n; i++)
                    {
                        double sum = 0;
                        for (int j = 0; j < n; j++) sum += w[i * n + j] * hz[j];
                        rec[i] = sum;
                    }
                }
                for (int i = 0; i < n; i++)
                {
                    double cur = input[t][i] + rec[i];
                    cur = cur + c.Bias[i];
                    double a = v[i] * c.AlphaMem[i];
                    a = cur * c.OneMinusAlphaMem[i] + a;
                    a = c.ResetJump[i] * z[i] + a;
                    v[i] = a;
                    z[i] = v[i] > c.Threshold[i] ? 1.0 : 0.0;
                }
                update.Update(z, v, ej, setup.RuleTarget[t]);
                update.Filter.Value.CopyTo(trace[t]);
                z.CopyTo(zRec[t], 0);
            }
            update.EndTrial();
        });
    }

    /// <summary>The epoch loop shared by the engine run and the float64 reference: MSE and ΔS per epoch.</summary>
    private StoreRecallResult Learn(Setup setup, string engineName, string optimizerName, double[][] trace, double[][] zRec,
        Action<int, double, double>? progress, CancellationToken cancellationToken, Action epoch)
    {
        var o = Options;
        int n = o.Neurons;
        var mse = new List<double>();
        var ds = new List<double>();
        var clock = Stopwatch.StartNew();
        for (int e = 0; e < o.Epochs && !cancellationToken.IsCancellationRequested; e++)
        {
            epoch();
            double m = Mse(setup.WOut, trace);
            double s = 0;
            for (int t = 0; t < o.Steps; t++)
                for (int i = 0; i < n; i++) s += Math.Abs(setup.ZStar[t][i] - zRec[t][i]);
            mse.Add(m); ds.Add(s);
            progress?.Invoke(e, m, s);
        }
        clock.Stop();
        return new StoreRecallResult(setup.ReadoutLimit, [.. mse], [.. ds], setup.TargetSpikes, mse.Count > 0 ? clock.Elapsed.TotalSeconds / mse.Count : 0,
            setup.Feedback.Name, optimizerName)
        { Engine = engineName, Rate = setup.Rate, FeedbackNorm = setup.FeedbackNorm, FeedbackTrace = setup.FeedbackTrace,
          FinalOutput = mse.Count > 0 ? Readout(setup.WOut, trace) : [] };
    }

    private sealed class SpikeRaster(int steps, int n, int offset) : ISpikeSink
    {
        public readonly double[][] Z = [.. Enumerable.Range(0, steps).Select(_ => new double[n])];

        public void Clear() { foreach (var r in Z) Array.Clear(r); }

        public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
        {
            if (tick >= Z.Length) return;
            foreach (int g in neurons) if (g >= offset && g < offset + n) Z[tick][g - offset] = 1.0;
        }
    }

    /// <summary>
    /// Records z and the rule's ŝ after each tick: ŝ is updated in the Plasticity phase, and every engine calls its spike
    /// sinks after it (Record phase), so a sink suffices (an observer would make the dense engine copy its whole state).
    /// </summary>
    private sealed class TraceRecorder(RankRRule rule, int n, int steps, int offset) : ISpikeSink
    {
        private readonly SpikeRaster _raster = new(steps, n, offset);
        public readonly double[][] Trace = [.. Enumerable.Range(0, steps).Select(_ => new double[n])];
        public double[][] Z => _raster.Z;

        public void Clear() { _raster.Clear(); foreach (var r in Trace) Array.Clear(r); }

        public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
        {
            _raster.OnSpikes(instance, tick, neurons);
            if (tick < Trace.Length) rule.Core.Filter.Value.CopyTo(Trace[tick]);
        }
    }
}
