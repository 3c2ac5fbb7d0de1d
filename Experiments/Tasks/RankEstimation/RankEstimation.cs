using MathNet.Numerics.LinearAlgebra;
using Sim.EventCore.Engine;
using Sim.Plasticity;

namespace Sim.Experiments;

/// <summary>Options of the feedback-rank estimation (docs/tasks/rank_estimation.md).</summary>
public sealed record RankEstimationOptions
{
    /// <summary>The learning network and its task: a store-and-recall cell (its <see cref="StoreRecallOptions.Rank"/> is the true R).</summary>
    public StoreRecallOptions Cell { get; init; } = new() { Neurons = 60, Steps = 60, Epochs = 20, ReadoutIterations = 1000 };
    /// <summary>Probed neurons P (the first P; at most N).</summary>
    public int Probes { get; init; } = 60;
    /// <summary>The ticks of the probing trial at which every neuron is probed (default T/4, T/2, 3T/4).</summary>
    public int[]? ProbeTicks { get; init; }

    /// <summary>The probe ticks, ascending.</summary>
    public int[] ProbeTicksOrDefault() => ProbeTicks ?? [.. new[] { Cell.Steps / 4, Cell.Steps / 2, 3 * Cell.Steps / 4 }.Where(t => t >= 1).Distinct()];
    /// <summary>
    /// Recording noise: every recorded weight change gets Gaussian noise of this s.d., relative to the r.m.s. of the
    /// weight changes that the probes cause (0: exact recordings).
    /// </summary>
    public double RelativeNoise { get; init; }
    /// <summary>Relative threshold of the noise-free estimator: singular values above this × the largest count.</summary>
    public double Tolerance { get; init; } = 1e-8;

    /// <summary>Checks the options (names the option).</summary>
    public void Validate()
    {
        Cell.Validate();
        if (Cell.OutputSpace) throw new ArgumentException("the rank estimation probes the neuron-space rule (D = B_R B_R^T or LTTS)");
        if (Cell.PerTrial) throw new ArgumentException("the rank estimation probes the online rule");
        if (Probes < 1 || Probes > Cell.Neurons) throw new ArgumentException($"probes: must lie in [1, {Cell.Neurons}] (N), got {Probes}");
        var ticks = ProbeTicksOrDefault();
        if (ticks.Length == 0) throw new ArgumentException("probe ticks: give at least one");
        foreach (int t in ticks) if (t < 1 || t >= Cell.Steps) throw new ArgumentException($"probe ticks: each must lie in [1, {Cell.Steps - 1}], got {t}");
        for (int k = 1; k < ticks.Length; k++) if (ticks[k] <= ticks[k - 1]) throw new ArgumentException("probe ticks: must be ascending");
        if (!(RelativeNoise >= 0) || !double.IsFinite(RelativeNoise)) throw new ArgumentException($"noise: must be finite and >= 0, got {RelativeNoise}");
        if (!(Tolerance > 0 && Tolerance < 1)) throw new ArgumentException($"tolerance: must lie in (0, 1), got {Tolerance}");
    }
}

/// <summary>One estimate.</summary>
/// <param name="TrueRank">rank(D) as built (N for LTTS).</param>
/// <param name="Estimated">The probe estimator: singular values of the probe responses above the noise floor (or the tolerance).</param>
/// <param name="ParticipationRatio">(Σs²)²/Σs⁴ of the probe responses.</param>
/// <param name="PassiveEstimate">The passive estimator on the same threshold rule: the per-tick postsynaptic factors of an unperturbed trial.</param>
/// <param name="PassiveParticipationRatio">Its participation ratio.</param>
/// <param name="SingularValues">Of the probe responses, descending, normalised to the largest.</param>
/// <param name="Floor">The threshold used, relative to the largest singular value.</param>
public sealed record RankEstimate(int TrueRank, int Estimated, double ParticipationRatio, int PassiveEstimate, double PassiveParticipationRatio, double[] SingularValues, double Floor);

/// <summary>
/// Estimating the rank R of the feedback that drives learning from what an experimenter could record
/// (Capone, Muratore &amp; Paolucci 2022, whose abstract claims such a protocol; the protocol here is Sim's own design,
/// docs/tasks/rank_estimation.md). A network learns a store-and-recall cell online with the rank-R rule for E epochs.
/// Then, in one more learning trial, at tick t0 the state is saved (a checkpoint, with the rule's state) and one tick is
/// run from it P + 1 times: unperturbed, and with neuron k's spike flipped for that tick (the spike clamp), k = 0…P−1.
/// What is recorded is the change of every recurrent weight over that tick. The response to probe k (perturbed minus
/// unperturbed change) is exactly rank one, −η(1 − α⋆)·(ψ ∘ D[:, k])·ejᵀ·s_k (s_k = ±1), because the flip changes only
/// neuron k's filtered spike, hence its error, at that tick; its row sums u_k ∝ diag(ψ_i·Σ_{j≠i} ej_j)·D[:, k] are a
/// fixed row scaling of column k of D. Divided by the flip s_k and stacked over the probe ticks (rows of neurons whose ψ
/// is tiny at one tick are large at another), U (ticks·N × P) = M·D[:, :P] has rank min(R, P). The estimate counts the singular
/// values of U above the noise floor: with recording noise of s.d. σ on every weight change, u_k's entries carry
/// noise of s.d. σ·√(2(N−1)) and an N×P matrix of such noise has its largest singular value near σ_u(√N + √P)
/// (Davidson &amp; Szarek 2001), so the floor is 1.2·σ_u(√N + √P); without noise, a relative tolerance. The passive
/// estimator (no perturbation: the per-tick postsynaptic factors of an unperturbed trial, row sums of each tick's
/// weight change) is reported beside it: ψ(v) changes from tick to tick, which breaks its low rank.
/// </summary>
public sealed class RankEstimation(RankEstimationOptions options)
{
    /// <summary>The options.</summary>
    public RankEstimationOptions Options { get; } = options;

    /// <summary>Flips one neuron's spike at one tick (or does nothing).</summary>
    private sealed class Probe : ITickIO
    {
        public int Neuron = -1;
        public long Tick = -1;
        public double Value;
        public IReadOnlyList<string> InputPopulations => [];
        public IReadOnlyList<string> ClampedPopulations => [StoreRecall.Pop];
        public void BeforeTick(int instance, long tick, ITickInputs inputs)
        {
            var c = inputs.Clamp(0);
            c.Fill(double.NaN);
            if (Neuron >= 0 && tick == Tick) c[Neuron] = Value;
        }
        public void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state) { }
    }

    /// <summary>Trains the cell, probes it and estimates R.</summary>
    public RankEstimate Run(CancellationToken cancellationToken = default)
    {
        var o = Options;
        o.Validate();
        var cell = o.Cell;
        int n = cell.Neurons;
        var (engineMade, rule) = new StoreRecall(cell).CreateLearner();
        using var engine = engineMade;
        var probe = new Probe();
        engine.AddTickIO(probe);
        var learner = rule.Core;
        for (int e = 0; e < cell.Epochs; e++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            engine.ResetState();
            engine.Run(cell.Steps);
            engine.EndTrial();
        }

        // The passive recording: the weight change of every tick of one unperturbed learning trial, its row sums per tick.
        engine.ResetState();
        var passive = Matrix<double>.Build.Dense(n, cell.Steps);
        var before = learner.Weights.ToArray();
        for (int t = 0; t < cell.Steps; t++)
        {
            engine.Run(1);
            var after = learner.Weights;
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int j = 0; j < n; j++) s += after[i * n + j] - before[i * n + j];
                passive[i, t] = s;
            }
            after.CopyTo(before);
        }
        engine.EndTrial();

        // The probing trial: at each probe tick, from a checkpoint, one tick unperturbed and one per probe with neuron
        // k's spike of that tick flipped; each probe has its own unperturbed control recording (independent noise).
        var ticks = o.ProbeTicksOrDefault();
        int m = ticks.Length;
        var exact = new double[m][][];
        var controls = new double[m][];
        var flips = new double[m][];   // the change the experimenter made: z_new − z_old = ±1
        engine.ResetState();
        long now = 0;
        for (int q = 0; q < m; q++)
        {
            engine.Run(ticks[q] - now);
            now = ticks[q];
            var checkpoint = engine.SaveCheckpoint();
            var w0 = learner.Weights.ToArray();
            double[] Tick(int k, double value)
            {
                engine.Restore(checkpoint);
                probe.Neuron = k; probe.Tick = now; probe.Value = value;
                engine.Run(1);
                var dw = learner.Weights.ToArray();
                for (int x = 0; x < dw.Length; x++) dw[x] -= w0[x];
                return dw;
            }
            controls[q] = Tick(-1, 0);
            var z = engine.GetVariable(0, StoreRecall.Pop, "z");
            exact[q] = new double[o.Probes][];
            flips[q] = new double[o.Probes];
            for (int k = 0; k < o.Probes; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                exact[q][k] = Tick(k, 1 - z[k]);
                flips[q][k] = 1 - 2 * z[k];
            }
            engine.Restore(checkpoint);   // go on unperturbed
            probe.Neuron = -1;
        }

        // Recording noise (counter stream of the cell's seed), relative to the r.m.s. of the probes' effects.
        double sq = 0;
        for (int q = 0; q < m; q++)
            foreach (var r in exact[q])
                for (int x = 0; x < r.Length; x++) sq += (r[x] - controls[q][x]) * (r[x] - controls[q][x]);
        double sigma = o.RelativeNoise * Math.Sqrt(sq / (m * o.Probes * (double)n * n));
        ulong key = PlasticityRandom.Key(cell.Seed, RankNoisePurpose, cell.Cell);
        long draw = 0;
        double Noisy(double x) => sigma > 0 ? x + sigma * PlasticityRandom.Normal(key, draw++) : x;
        var u = Matrix<double>.Build.Dense(m * n, o.Probes);
        for (int q = 0; q < m; q++)
            for (int k = 0; k < o.Probes; k++)
                for (int i = 0; i < n; i++)
                {
                    double s = 0;
                    for (int j = 0; j < n; j++) s += Noisy(exact[q][k][i * n + j]) - Noisy(controls[q][i * n + j]);
                    u[q * n + i, k] = s / flips[q][k];   // the response per unit of spike change
                }
        var sv = u.Svd(computeVectors: false).S.ToArray();
        double top = sv.Length > 0 ? sv[0] : 0;
        double floor = sigma > 0 ? 1.2 * sigma * Math.Sqrt(2.0 * (n - 1)) * (Math.Sqrt(m * n) + Math.Sqrt(o.Probes)) : o.Tolerance * top;
        int estimated = top > 0 ? sv.Count(s => s > floor) : 0;
        var pv = passive.Svd(computeVectors: false).S.ToArray();
        int passiveEstimate = pv.Length > 0 && pv[0] > 0 ? pv.Count(s => s > o.Tolerance * pv[0]) : 0;
        return new RankEstimate(cell.Ltts ? n : cell.Rank, estimated, Participation(sv), passiveEstimate, Participation(pv),
            [.. sv.Select(s => top > 0 ? s / top : 0)], top > 0 ? floor / top : 0);
    }

    /// <summary>Purpose of the recording noise's stream.</summary>
    public const uint RankNoisePurpose = 0x130;

    /// <summary>(Σs²)²/Σs⁴: the effective number of dimensions of a spectrum.</summary>
    public static double Participation(IReadOnlyList<double> s)
    {
        double a = 0, b = 0;
        foreach (double x in s) { a += x * x; b += x * x * x * x; }
        return b > 0 ? a * a / b : 0;
    }
}
