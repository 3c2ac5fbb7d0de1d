using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sim.Plasticity.Perturbation;

/// <summary>The perturbation learning rules of Züge, Klos &amp; Memmesheimer (PRX 2023; docs/rules/perturbation.md).</summary>
public enum PerturbationRule
{
    /// <summary>Weight perturbation: every weight perturbed by ξ_W ~ N(0, σ²), frozen for the trial; ΔW = η·ΔR·ξ_W/σ².</summary>
    Wp,
    /// <summary>Node perturbation: every output and time bin perturbed by ξ(t) ~ N(0, σ²); ΔW = η·ΔR·Σ_t ξ(t)·x(t)ᵀ/σ².</summary>
    Np,
    /// <summary>WP that leaves the weights of inputs that are zero for the whole trial unchanged ("WP0").</summary>
    Wp0,
    /// <summary>Hybrid perturbation: weights perturbed as in WP, the update as in NP with the output perturbation ξ_W·x(t): ΔW = η·ΔR·Σ_t (ξ_W·x(t))·x(t)ᵀ/σ².</summary>
    Hybrid,
}

/// <summary>Names of the perturbation rules on the command line and in files.</summary>
public static class PerturbationRules
{
    /// <summary>Every rule, in the order of <see cref="PerturbationRule"/>.</summary>
    public static IReadOnlyList<PerturbationRule> All { get; } = Enum.GetValues<PerturbationRule>();

    /// <summary>The name: wp, np, wp0, hybrid.</summary>
    public static string Name(PerturbationRule r) => r switch
    {
        PerturbationRule.Wp => "wp",
        PerturbationRule.Np => "np",
        PerturbationRule.Wp0 => "wp0",
        PerturbationRule.Hybrid => "hybrid",
        _ => throw new ArgumentOutOfRangeException(nameof(r)),
    };

    /// <summary>The rule of a name, or null.</summary>
    public static PerturbationRule? Parse(string name) => All.Cast<PerturbationRule?>().FirstOrDefault(r => Name(r!.Value) == name);

    /// <summary>True for the rules that perturb weights (WP, WP0, hybrid), false for NP, which perturbs the outputs.</summary>
    public static bool PerturbsWeights(PerturbationRule r) => r != PerturbationRule.Np;
}

/// <summary>The rewards of one trial: R = −Σ_{m,t}(y*_m(t) − y_m(t))²/(2T) of the unperturbed and the perturbed run, and ΔR = R_pert − R_unpert.</summary>
/// <param name="Unperturbed">R of the unperturbed run (its error is −R).</param>
/// <param name="Perturbed">R of the perturbed run.</param>
/// <param name="Difference">ΔR = R_pert − R_unpert, evaluated as Σ δ·(2e − δ)/(2T) (e = y* − y_unpert, δ the output perturbation), which equals the difference without its cancellation at small σ.</param>
public readonly record struct PerturbationTrial(double Unperturbed, double Perturbed, double Difference)
{
    /// <summary>The error of the unperturbed run, −R_unpert.</summary>
    public double Error => -Unperturbed;
}

/// <summary>
/// A linear readout y(t) = W·x(t) (M outputs, N inputs, T time bins per trial) trained by a perturbation rule
/// (docs/rules/perturbation.md). Each <see cref="Trial"/> is two runs on the same input: the unperturbed one (reward
/// R_unpert) and the perturbed one (R_pert), then one update from ΔR = R_pert − R_unpert:
/// <code>
///   WP:     ΔW = η·ΔR·ξ_W/σ²                     ξ_W ~ N(0, σ²) per weight, frozen for the trial
///   WP0:    as WP on the columns of inputs that are nonzero somewhere in the trial, 0 elsewhere
///   NP:     ΔW = η·ΔR·Σ_t ξ(t)·x(t)ᵀ/σ²          ξ(t) ~ N(0, σ²) per output and time bin, added to y(t)
///   hybrid: ΔW = η·ΔR·Σ_t (ξ_W·x(t))·x(t)ᵀ/σ²    weights perturbed as in WP, the update as in NP
///   then W ← (1 − λ)·(W + ΔW)                   λ the optional multiplicative weight decay (0: none)
/// </code>
/// The perturbations are drawn from the counter-based RNG with the key the caller gives the trial: ξ_W[m, n] is normal
/// deviate m·N + n of the key, ξ[m, t] deviate m·T + t, so that a (seed, trial) gives the same bits on every machine,
/// thread count and run. Allocation-free per trial.
/// </summary>
public sealed class LinearPerturbationReadout
{
    private readonly double[] _w, _xi, _y, _delta;
    private readonly bool[] _active;
    private readonly int _m, _n, _t;

    /// <summary>A readout of <paramref name="outputs"/> × <paramref name="inputs"/> weights (all 0) for trials of <paramref name="duration"/> time bins.</summary>
    /// <param name="rule">The rule.</param>
    /// <param name="outputs">M.</param>
    /// <param name="inputs">N.</param>
    /// <param name="duration">T, time bins per trial.</param>
    /// <param name="learningRate">η ≥ 0.</param>
    /// <param name="sigma">σ &gt; 0: the s.d. of the weight perturbations (WP, WP0, hybrid) or of the output perturbations (NP).</param>
    /// <param name="weightDecay">λ ∈ [0, 1): W ← (1 − λ)·(W + ΔW) after each update.</param>
    public LinearPerturbationReadout(PerturbationRule rule, int outputs, int inputs, int duration, double learningRate, double sigma, double weightDecay = 0)
    {
        if (!Enum.IsDefined(rule)) throw new ArgumentOutOfRangeException(nameof(rule), rule, "unknown perturbation rule");
        if (outputs < 1) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "outputs (M) must be at least 1");
        if (inputs < 1) throw new ArgumentOutOfRangeException(nameof(inputs), inputs, "inputs (N) must be at least 1");
        if (duration < 1) throw new ArgumentOutOfRangeException(nameof(duration), duration, "duration (T) must be at least 1");
        if (!(learningRate >= 0) || !double.IsFinite(learningRate)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learning rate (eta) must be finite and >= 0");
        if (!(sigma > 0) || !double.IsFinite(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "perturbation strength (sigma) must be finite and > 0");
        if (!(weightDecay >= 0 && weightDecay < 1)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weight decay must lie in [0, 1)");
        Rule = rule;
        LearningRate = learningRate;
        Sigma = sigma;
        WeightDecay = weightDecay;
        _m = outputs; _n = inputs; _t = duration;
        _w = new double[outputs * inputs];
        _xi = new double[PerturbationRules.PerturbsWeights(rule) ? outputs * inputs : outputs * duration];
        _y = new double[outputs * duration];
        _delta = new double[outputs * duration];
        _active = new bool[inputs];
    }

    /// <summary>The rule.</summary>
    public PerturbationRule Rule { get; }
    /// <summary>η.</summary>
    public double LearningRate { get; }
    /// <summary>σ (of the weights for WP, WP0 and hybrid; of the outputs for NP).</summary>
    public double Sigma { get; }
    /// <summary>λ, the multiplicative weight decay per update.</summary>
    public double WeightDecay { get; }
    /// <summary>M.</summary>
    public int Outputs => _m;
    /// <summary>N.</summary>
    public int Inputs => _n;
    /// <summary>T.</summary>
    public int Duration => _t;

    /// <summary>The weights W, row-major M × N (W[m, n] at m·N + n); writable, e.g. to set the initial weights.</summary>
    public Span<double> Weights => _w;

    /// <summary>The perturbation of the last trial: ξ_W (M × N) for WP, WP0 and hybrid, ξ (M × T) for NP.</summary>
    public ReadOnlySpan<double> LastPerturbation => _xi;

    /// <summary>The unperturbed outputs y = W·x of the last trial (M × T, before its update).</summary>
    public ReadOnlySpan<double> LastOutput => _y;

    /// <summary>
    /// One trial: the unperturbed and the perturbed run on <paramref name="x"/> (N × T, row-major, x[n, t] at n·T + t)
    /// against <paramref name="target"/> (M × T), then the update. The perturbation comes from <paramref name="key"/>.
    /// </summary>
    public PerturbationTrial Trial(ReadOnlySpan<double> x, ReadOnlySpan<double> target, ulong key)
    {
        int m = _m, n = _n, T = _t;
        if (x.Length != n * T) throw new ArgumentException($"inputs: {x.Length} values, not N·T = {n * T}", nameof(x));
        if (target.Length != m * T) throw new ArgumentException($"target: {target.Length} values, not M·T = {m * T}", nameof(target));
        for (int i = 0; i < n; i++)
        {
            bool a = false;
            foreach (double v in x.Slice(i * T, T)) if (v != 0) { a = true; break; }
            _active[i] = a;
        }

        // The unperturbed run.
        Product(_w, x, _y);

        // The perturbation of the outputs, δ = ξ_W·x (weights) or ξ (nodes).
        for (int k = 0; k < _xi.Length; k++) _xi[k] = Sigma * PlasticityRandom.Normal(key, k);
        if (PerturbationRules.PerturbsWeights(Rule)) Product(_xi, x, _delta);
        else _xi.CopyTo(_delta, 0);

        // The rewards of both runs and their difference.
        double su = 0, sp = 0, sd = 0;
        for (int k = 0; k < _y.Length; k++)
        {
            double e = target[k] - _y[k], d = _delta[k], ep = e - d;
            su += e * e;
            sp += ep * ep;
            sd += d * (2 * e - d);
        }
        double ru = -su / (2.0 * T), rp = -sp / (2.0 * T), dr = sd / (2.0 * T);

        // The update.
        double f = LearningRate * dr / (Sigma * Sigma);
        switch (Rule)
        {
            case PerturbationRule.Wp:
                for (int k = 0; k < _w.Length; k++) _w[k] += f * _xi[k];
                break;
            case PerturbationRule.Wp0:
                for (int o = 0; o < m; o++)
                    for (int i = 0; i < n; i++)
                        if (_active[i]) _w[o * n + i] += f * _xi[o * n + i];
                break;
            case PerturbationRule.Np:
            case PerturbationRule.Hybrid:
                // Σ_t δ(t)·x(t)ᵀ: δ = ξ for NP, ξ_W·x for hybrid; rows of zero input contribute nothing.
                for (int o = 0; o < m; o++)
                {
                    var d = _delta.AsSpan(o * T, T);
                    for (int i = 0; i < n; i++)
                    {
                        if (!_active[i]) continue;
                        _w[o * n + i] += f * Dot(d, x.Slice(i * T, T));
                    }
                }
                break;
        }
        if (WeightDecay > 0)
        {
            double g = 1 - WeightDecay;
            for (int k = 0; k < _w.Length; k++) _w[k] *= g;
        }
        return new PerturbationTrial(ru, rp, dr);
    }

    /// <summary>out = a·x (a: M × N, x: N × T, out: M × T), skipping inputs that are zero for the whole trial.</summary>
    private void Product(ReadOnlySpan<double> a, ReadOnlySpan<double> x, Span<double> result)
    {
        int n = _n, T = _t;
        result.Clear();
        for (int o = 0; o < _m; o++)
        {
            var r = result.Slice(o * T, T);
            for (int i = 0; i < n; i++)
            {
                if (!_active[i]) continue;
                Axpy(a[o * n + i], x.Slice(i * T, T), r);
            }
        }
    }

    /// <summary>y += a·x elementwise (the same bits vectorised or not: one multiply and one add per element).</summary>
    private static void Axpy(double a, ReadOnlySpan<double> x, Span<double> y)
    {
        int i = 0, n = x.Length;
        if (Vector256.IsHardwareAccelerated)
        {
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double yr = ref MemoryMarshal.GetReference(y);
            var va = Vector256.Create(a);
            for (; i <= n - 4; i += 4)
                (Vector256.LoadUnsafe(ref yr, (nuint)i) + va * Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < n; i++) y[i] += a * x[i];
    }

    /// <summary>Σ x·y with four partial sums over the lanes i mod 4, combined as (s0 + s1) + (s2 + s3), then the tail: the same bits on every machine.</summary>
    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int i = 0, n = x.Length;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double yr = ref MemoryMarshal.GetReference(y);
            var acc = Vector256<double>.Zero;
            for (; i <= n - 4; i += 4) acc += Vector256.LoadUnsafe(ref xr, (nuint)i) * Vector256.LoadUnsafe(ref yr, (nuint)i);
            (s0, s1, s2, s3) = (acc[0], acc[1], acc[2], acc[3]);
        }
        else
            for (; i <= n - 4; i += 4) { s0 += x[i] * y[i]; s1 += x[i + 1] * y[i + 1]; s2 += x[i + 2] * y[i + 2]; s3 += x[i + 3] * y[i + 3]; }
        double s = (s0 + s1) + (s2 + s3);
        for (; i < n; i++) s += x[i] * y[i];
        return s;
    }
}
