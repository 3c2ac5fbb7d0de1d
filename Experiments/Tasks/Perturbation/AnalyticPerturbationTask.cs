using Sim.Plasticity;
using Sim.Plasticity.Perturbation;

namespace Sim.Experiments;

/// <summary>
/// The analytically tractable task of Züge, Klos &amp; Memmesheimer (PRX 2023; docs/tasks/perturbation.md):
/// a linear readout of N inputs onto M outputs over T time bins. The inputs are K = <see cref="TaskDimension"/> latent
/// inputs x_i(t) = √(T·α²)·b_i(t) on orthonormal sinusoidal basis functions b_i (Σ_t b_i(t)b_j(t) = δ_ij), of which each
/// trial switches on n = <see cref="TrialDimension"/> drawn at random (the others, and the inputs K..N−1, are 0);
/// α² = N/n keeps the total input strength Σ_i‖x_i‖²/T = N. The target is y*_m(t) = Σ_i W*_mi·x_i(t) + d(t) with
/// W*_mi = w* on the K task inputs and d = √(2·E_opt·T/M)·b_K, a component no input carries, whose error
/// Σ_m‖d‖²/(2T) = E_opt is irreducible.
/// </summary>
public sealed record AnalyticTaskOptions
{
    /// <summary>N, the inputs (the paper: 100).</summary>
    public int Inputs { get; init; } = 100;
    /// <summary>M, the outputs (10).</summary>
    public int Outputs { get; init; } = 10;
    /// <summary>T, time bins per trial (100).</summary>
    public int Duration { get; init; } = 100;
    /// <summary>K = N_task, the latent inputs of the whole task (50).</summary>
    public int TaskDimension { get; init; } = 50;
    /// <summary>n = N_trial, the latent inputs one trial switches on (10).</summary>
    public int TrialDimension { get; init; } = 10;
    /// <summary>E_opt, the irreducible error (2).</summary>
    public double IrreducibleError { get; init; } = 2;
    /// <summary>w*, the target weight of every task input (0.1).</summary>
    public double TargetWeight { get; init; } = 0.1;

    /// <summary>Throws an <see cref="ArgumentException"/> whose message starts with the quantity at fault ("duration: …").</summary>
    public void Validate()
    {
        if (Inputs < 1) throw new ArgumentException($"inputs: must be at least 1 (got {Inputs})");
        if (Outputs < 1) throw new ArgumentException($"outputs: must be at least 1 (got {Outputs})");
        if (TrialDimension < 1) throw new ArgumentException($"trial-dim: must be at least 1 (got {TrialDimension})");
        if (TaskDimension < TrialDimension) throw new ArgumentException($"task-dim: must be at least the trial dimension {TrialDimension} (got {TaskDimension})");
        if (TaskDimension > Inputs) throw new ArgumentException($"task-dim: must be at most the {Inputs} inputs (got {TaskDimension})");
        if (Duration < TaskDimension + 2) throw new ArgumentException($"duration: must be at least task-dim + 2 = {TaskDimension + 2} (the task inputs and the irreducible component need that many orthogonal sinusoids; got {Duration})");
        if (!(IrreducibleError >= 0) || !double.IsFinite(IrreducibleError)) throw new ArgumentException($"irreducible-error: must be finite and >= 0 (got {IrreducibleError})");
        if (!double.IsFinite(TargetWeight)) throw new ArgumentException($"target-weight: must be finite (got {TargetWeight})");
    }
}

/// <summary>The analytic task of <see cref="AnalyticTaskOptions"/>: the trials' inputs and targets, and the closed-form learning curves.</summary>
public sealed class AnalyticPerturbationTask : IPerturbationTask
{
    private readonly double[] _basis;   // (K + 1) × T, row i = b_i
    private readonly double _inputScale, _dScale;

    /// <summary>The task of <paramref name="options"/>.</summary>
    public AnalyticPerturbationTask(AnalyticTaskOptions options)
    {
        options.Validate();
        Options = options;
        int T = options.Duration, k = options.TaskDimension;
        _basis = Basis(k + 1, T);
        InputStrength = (double)options.Inputs / options.TrialDimension;
        _inputScale = Math.Sqrt(T * InputStrength);
        _dScale = Math.Sqrt(2 * options.IrreducibleError * T / options.Outputs);
    }

    /// <summary>The options.</summary>
    public AnalyticTaskOptions Options { get; }
    /// <summary>α² = N/n, the strength Σ_t x_i(t)²/T of an active latent input.</summary>
    public double InputStrength { get; }
    /// <summary>N.</summary>
    public int Inputs => Options.Inputs;
    /// <summary>M.</summary>
    public int Outputs => Options.Outputs;
    /// <summary>T.</summary>
    public int Duration => Options.Duration;
    /// <inheritdoc/>
    public double IrreducibleError => Options.IrreducibleError;
    /// <inheritdoc/>
    public string Description => FormattableString.Invariant(
        $"analytic task: N = {Inputs}, M = {Outputs}, T = {Duration}, N_task = {Options.TaskDimension}, N_trial = {Options.TrialDimension}, alpha^2 = {InputStrength:G4}, E_opt = {IrreducibleError:G4}, initial error {InitialError:G4}");

    /// <summary>
    /// The first <paramref name="count"/> of T orthonormal sinusoids on t = 0..T−1: b_0 ∝ 1, b_{2j−1} ∝ sin(2πjt/T),
    /// b_{2j} ∝ cos(2πjt/T), normalised and orthonormalised again by modified Gram–Schmidt (count ≤ T − 1).
    /// </summary>
    public static double[] Basis(int count, int duration)
    {
        int T = duration;
        if (count < 1 || count >= T) throw new ArgumentOutOfRangeException(nameof(count), count, "need 1 <= count < T");
        var b = new double[count * T];
        for (int i = 0; i < count; i++)
        {
            int order = (i + 1) / 2;
            for (int t = 0; t < T; t++)
            {
                double ph = 2 * Math.PI * order * t / T;
                b[i * T + t] = i % 2 == 1 ? Math.Sin(ph) : Math.Cos(ph);
            }
        }
        for (int i = 0; i < count; i++)
        {
            var bi = b.AsSpan(i * T, T);
            for (int j = 0; j < i; j++)
            {
                var bj = b.AsSpan(j * T, T);
                double dot = 0;
                for (int t = 0; t < T; t++) dot += bi[t] * bj[t];
                for (int t = 0; t < T; t++) bi[t] -= dot * bj[t];
            }
            double norm = 0;
            foreach (double v in bi) norm += v * v;
            norm = Math.Sqrt(norm);
            for (int t = 0; t < T; t++) bi[t] /= norm;
        }
        return b;
    }

    /// <summary>The latent inputs trial <paramref name="trial"/> of <paramref name="seed"/> switches on: n distinct indices in [0, K), drawn under (seed, <see cref="PlasticityRandom.PerturbationTaskPurpose"/>, trial).</summary>
    public int[] ActiveInputs(ulong seed, long trial)
    {
        int k = Options.TaskDimension, n = Options.TrialDimension;
        ulong key = PlasticityRandom.Key(seed, PlasticityRandom.PerturbationTaskPurpose, (ulong)trial);
        var idx = new int[k];
        for (int i = 0; i < k; i++) idx[i] = i;
        for (int j = 0; j < n; j++)   // partial Fisher–Yates
        {
            int r = j + (int)Math.Min(k - j - 1, Math.Floor(PlasticityRandom.Uniform(key, j) * (k - j)));
            (idx[j], idx[r]) = (idx[r], idx[j]);
        }
        return idx[..n];
    }

    /// <summary>Writes the inputs x (N × T) and the target y* (M × T) of trial <paramref name="trial"/> of <paramref name="seed"/>.</summary>
    public void Trial(ulong seed, long trial, Span<double> x, Span<double> target)
    {
        int T = Duration, m = Outputs;
        if (x.Length != Inputs * T || target.Length != m * T) throw new ArgumentException("x must hold N·T and target M·T values");
        x.Clear();
        target.Clear();
        var active = ActiveInputs(seed, trial);
        foreach (int i in active)
        {
            var xi = x.Slice(i * T, T);
            var bi = _basis.AsSpan(i * T, T);
            for (int t = 0; t < T; t++) xi[t] = _inputScale * bi[t];
        }
        var bd = _basis.AsSpan(Options.TaskDimension * T, T);
        var row = target[..T];
        foreach (int i in active)
        {
            var xi = x.Slice(i * T, T);
            for (int t = 0; t < T; t++) row[t] += Options.TargetWeight * xi[t];
        }
        for (int t = 0; t < T; t++) row[t] += _dScale * bd[t];
        for (int o = 1; o < m; o++) row.CopyTo(target.Slice(o * T, T));   // W* has the same row for every output
    }

    /// <summary>The error of weights W = 0 (the initial weights): E_opt + α²·(n/K)·‖W*‖²/2 = E_opt + N·w*²·M/2.</summary>
    public double InitialError => Options.IrreducibleError + Kappa * TargetNorm;

    private double Kappa => InputStrength * Options.TrialDimension / (2.0 * Options.TaskDimension);
    private double TargetNorm => (double)Options.Outputs * Options.TaskDimension * Options.TargetWeight * Options.TargetWeight;
    private int TrialPerturbationDimension => Options.Outputs * Options.TrialDimension;

    /// <summary>D: the dimension of the task-relevant weight space a rule's update moves in (M·K for WP, M·n for WP0, NP, hybrid).</summary>
    public int UpdateDimension(PerturbationRule rule) => rule == PerturbationRule.Wp ? Options.Outputs * Options.TaskDimension : TrialPerturbationDimension;

    /// <summary>η_e: the learning rate in the rule's WP-like form (hybrid: η·T·α², since Σ_t (ξ_W x(t)) x(t)ᵀ = T·α²·ξ_W on the active columns here).</summary>
    private double EffectiveRate(PerturbationRule rule, double eta) => rule == PerturbationRule.Hybrid ? eta * Duration * InputStrength : eta;

    /// <summary>
    /// The optimal learning rate at σ → 0, the η that makes the error decay fastest: 1/(α²·(D + 2)) with D of
    /// <see cref="UpdateDimension"/>; hybrid 1/(α²·(M·n + 2)·T·α²).
    /// </summary>
    public double OptimalLearningRate(PerturbationRule rule)
    {
        double eta = 1 / (InputStrength * (UpdateDimension(rule) + 2));
        return rule == PerturbationRule.Hybrid ? eta / (Duration * InputStrength) : eta;
    }

    /// <summary>
    /// The rule's own perturbation strength for the equalised strength σ_eff, the s.d. of the output perturbation per
    /// output and time bin: NP σ = σ_eff; WP, WP0, hybrid σ_W = σ_eff/√(α²·n) (ξ_W·x(t) has variance σ_W²·Σ_i x_i(t)²,
    /// α²·n on average over t).
    /// </summary>
    public double PerturbationStrength(PerturbationRule rule, double sigmaEff)
        => PerturbationRules.PerturbsWeights(rule) ? sigmaEff / Math.Sqrt(InputStrength * Options.TrialDimension) : sigmaEff;

    /// <summary>
    /// The expected error E[E_t] of trials t = 0..trials−1 (the unperturbed error before trial t's update) from W = 0,
    /// by the exact recursion of docs/rules/perturbation.md ("The closed form") for learning rate <paramref name="eta"/>,
    /// the rule's own perturbation strength <paramref name="sigma"/> and weight decay <paramref name="weightDecay"/>.
    /// With λ = 0 it is E_t = E_∞ + (E_0 − E_∞)·aᵗ.
    /// </summary>
    public double[] PredictedError(PerturbationRule rule, double eta, double sigma, double weightDecay, int trials)
    {
        var (a, c, b) = Coefficients(rule, eta, sigma);
        double g = 1 - weightDecay, s = TargetNorm, q = s, r = s;
        var e = new double[trials];
        for (int t = 0; t < trials; t++)
        {
            e[t] = Options.IrreducibleError + Kappa * q;
            double qn = g * g * (a * q + c) + 2 * g * (1 - g) * b * r + (1 - g) * (1 - g) * s;
            r = g * b * r + (1 - g) * s;
            q = qn;
        }
        return e;
    }

    /// <summary>The limit of <see cref="PredictedError"/> without weight decay, E_∞ = E_opt + κ·c/(1 − a) (∞ where a ≥ 1: no convergence).</summary>
    public double PredictedFinalError(PerturbationRule rule, double eta, double sigma)
    {
        var (a, c, _) = Coefficients(rule, eta, sigma);
        return a < 1 ? Options.IrreducibleError + Kappa * c / (1 - a) : double.PositiveInfinity;
    }

    /// <summary>
    /// Q' = a·Q + c in expectation, Q = ‖W* − W‖² on the task inputs; b the factor of the mean E[W* − W] per update.
    /// a = 1 − (n/K)·(2η_eα² − η_e²α⁴(D + 2)); c = η_e²α⁴σ²·p(p + 2)(D + 4)/4 for WP, WP0, hybrid and
    /// c = η²α²·[2p·E_opt + σ²·p(MT + 2)(MT + 4)/(4T)] for NP, p = M·n.
    /// </summary>
    private (double A, double C, double B) Coefficients(PerturbationRule rule, double eta, double sigma)
    {
        double al = InputStrength, fr = (double)Options.TrialDimension / Options.TaskDimension, he = EffectiveRate(rule, eta);
        int d = UpdateDimension(rule);
        double p = TrialPerturbationDimension;
        double a = 1 - fr * (2 * he * al - he * he * al * al * (d + 2));
        double c;
        if (rule == PerturbationRule.Np)
        {
            double mt = (double)Options.Outputs * Duration;
            c = eta * eta * al * (2 * p * Options.IrreducibleError + sigma * sigma * p * (mt + 2) * (mt + 4) / (4.0 * Duration));
        }
        else c = he * he * al * al * sigma * sigma * p * (p + 2) * (d + 4) / 4;
        return (a, c, 1 - he * al * fr);
    }
}
