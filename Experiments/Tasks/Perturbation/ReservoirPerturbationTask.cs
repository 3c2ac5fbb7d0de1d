using MathNet.Numerics.LinearAlgebra;
using Sim.Plasticity;
using Sim.Plasticity.Perturbation;

namespace Sim.Experiments;

/// <summary>
/// The reservoir task of Züge, Klos &amp; Memmesheimer (PRX 2023; docs/tasks/perturbation.md): a fixed
/// random network of tanh rate units driven by sinusoidal inputs, whose activity a linear readout maps onto a 2-D
/// "butterfly" trajectory; the same input and target in every trial.
/// </summary>
public sealed record ReservoirTaskOptions
{
    /// <summary>N, the reservoir units the readout reads (the paper: 500).</summary>
    public int Units { get; init; } = 500;
    /// <summary>External inputs, the first sinusoids of the analytic task's basis times √T (5).</summary>
    public int ExternalInputs { get; init; } = 5;
    /// <summary>T, time bins per trial (500).</summary>
    public int Duration { get; init; } = 500;
    /// <summary>τ of the units in time bins (10).</summary>
    public double TimeConstant { get; init; } = 10;
    /// <summary>Steps before t = 0, on the periodic input (99: the authors' loop from t = 1 − 100).</summary>
    public int Warmup { get; init; } = 99;
    /// <summary>The seed of the reservoir's random weights.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Throws an <see cref="ArgumentException"/> whose message starts with the quantity at fault.</summary>
    public void Validate()
    {
        if (Units < 2) throw new ArgumentException($"units: must be at least 2 (got {Units})");
        if (ExternalInputs < 1) throw new ArgumentException($"external-inputs: must be at least 1 (got {ExternalInputs})");
        if (Duration < ExternalInputs + 1 || Duration < 3) throw new ArgumentException($"duration: must be at least {Math.Max(3, ExternalInputs + 1)} (got {Duration})");
        if (!(TimeConstant >= 1) || !double.IsFinite(TimeConstant)) throw new ArgumentException($"time-constant: must be finite and >= 1 (got {TimeConstant})");
        if (Warmup < 0) throw new ArgumentException($"warmup: must be >= 0 (got {Warmup})");
    }
}

/// <summary>
/// The reservoir task of <see cref="ReservoirTaskOptions"/>. The reservoir: W_in ~ N(0, 1/N_ext), W_rec ~ N(0, 1)
/// divided by the largest real part of its eigenvalues (the authors' code), h ← γh + (1 − γ)(W_in·u(t) + W_rec·tanh h),
/// γ = e^{−1/τ}, from h = 0 through <see cref="ReservoirTaskOptions.Warmup"/> steps of the periodic input, then the
/// readout's inputs x(t) = tanh h(t), t = 0..T−1. Target: Rosenbaum's butterfly, τ = 2πt/(T − 1),
/// r = 0.1·(9 − sin τ + 2 sin 3τ + 2 sin 5τ − sin 7τ + 3 cos 2τ − 2 cos 4τ), y* = (r cos τ, r sin τ). The weights are
/// drawn under (seed, <see cref="PlasticityRandom.ReservoirPurpose"/>).
/// <para>
/// Its closed form: with S = XXᵀ/T = Σ_k λ_k v_k v_kᵀ and b = Y·Xᵀ·V/T, the error of W (w = W·V in the eigenbasis) is
/// E(W) = E_0 − Σ_{m,k} b_mk·w_mk + ½·Σ λ_k·w_mk², and the first and second moments of every w_mk obey a closed
/// linear recursion (docs/rules/perturbation.md, "General inputs"), exact for every η and σ.
/// </para>
/// </summary>
public sealed class ReservoirPerturbationTask : IPerturbationTask
{
    private readonly double[] _x, _y, _lambda, _b;
    private readonly double _e0, _eMin;

    /// <summary>The task of <paramref name="options"/> (draws the reservoir, runs it, and diagonalises S).</summary>
    public ReservoirPerturbationTask(ReservoirTaskOptions options)
    {
        options.Validate();
        Options = options;
        int n = options.Units, ne = options.ExternalInputs, T = options.Duration;
        var basis = AnalyticPerturbationTask.Basis(ne, T);
        double su = Math.Sqrt(T);
        ulong kin = PlasticityRandom.Key(options.Seed, PlasticityRandom.ReservoirPurpose, 0), krec = PlasticityRandom.Key(options.Seed, PlasticityRandom.ReservoirPurpose, 1);
        var win = new double[n * ne];
        for (int k = 0; k < win.Length; k++) win[k] = PlasticityRandom.Normal(kin, k) / Math.Sqrt(ne);
        var rec = Matrix<double>.Build.Dense(n, n, (i, j) => PlasticityRandom.Normal(krec, (long)i * n + j));
        double radius = rec.Evd().EigenValues.Max(c => c.Real);
        if (!(radius > 0)) throw new ArgumentException("seed: the recurrent weights have no eigenvalue with a positive real part");
        var wrec = (rec / radius).ToRowMajorArray();
        SpectralRadius = radius;

        _x = new double[n * T];
        var h = new double[n];
        var r = new double[n];
        var next = new double[n];
        double g = Math.Exp(-1 / options.TimeConstant);
        for (int step = 0; step < options.Warmup + T; step++)
        {
            int t = ((step - options.Warmup) % T + T) % T;
            for (int i = 0; i < n; i++) r[i] = Math.Tanh(h[i]);
            for (int i = 0; i < n; i++)
            {
                double drive = 0;
                for (int k = 0; k < ne; k++) drive += win[i * ne + k] * su * basis[k * T + t];
                for (int j = 0; j < n; j++) drive += wrec[i * n + j] * r[j];
                next[i] = g * h[i] + (1 - g) * drive;
            }
            (h, next) = (next, h);
            if (step >= options.Warmup)
                for (int i = 0; i < n; i++) _x[i * T + t] = Math.Tanh(h[i]);
        }

        _y = new double[2 * T];
        for (int t = 0; t < T; t++)
        {
            double tau = 2 * Math.PI * t / (T - 1);
            double rr = 0.1 * (9 - Math.Sin(tau) + 2 * Math.Sin(3 * tau) + 2 * Math.Sin(5 * tau) - Math.Sin(7 * tau) + 3 * Math.Cos(2 * tau) - 2 * Math.Cos(4 * tau));
            _y[t] = rr * Math.Cos(tau);
            _y[T + t] = rr * Math.Sin(tau);
        }

        // S = X Xᵀ / T, its eigenvalues λ_k and b = Y Xᵀ V / T.
        var xm = Matrix<double>.Build.Dense(n, T, (i, t) => _x[i * T + t]);
        var ym = Matrix<double>.Build.Dense(2, T, (m, t) => _y[m * T + t]);
        var evd = (xm * xm.Transpose() / T).Evd(Symmetricity.Symmetric);
        _lambda = [.. evd.EigenValues.Select(c => Math.Max(0, c.Real))];
        var bm = ym * xm.Transpose() * evd.EigenVectors / T;
        _b = new double[2 * n];
        for (int m = 0; m < 2; m++) for (int k = 0; k < n; k++) _b[m * n + k] = bm[m, k];
        _e0 = _y.Sum(v => v * v) / (2.0 * T);
        double cut = 1e-10 * _lambda.Max(), gain = 0;
        for (int m = 0; m < 2; m++) for (int k = 0; k < n; k++) if (_lambda[k] > cut) gain += _b[m * n + k] * _b[m * n + k] / _lambda[k];
        _eMin = _e0 - gain / 2;
        double tr = _lambda.Sum(), tr2 = _lambda.Sum(l => l * l);
        ParticipationRatio = tr * tr / tr2;
        EffectiveStrength = tr / ParticipationRatio;
        TraceS = tr;
    }

    /// <summary>The options.</summary>
    public ReservoirTaskOptions Options { get; }
    /// <inheritdoc/>
    public int Inputs => Options.Units;
    /// <inheritdoc/>
    public int Outputs => 2;
    /// <inheritdoc/>
    public int Duration => Options.Duration;
    /// <inheritdoc/>
    public double InitialError => _e0;
    /// <summary>The least-squares error min_W E(W) (modes with λ_k ≤ 1e-10·λ_max left out).</summary>
    public double IrreducibleError => _eMin;
    /// <summary>The largest real part of the raw recurrent weights' eigenvalues, which W_rec was divided by.</summary>
    public double SpectralRadius { get; }
    /// <summary>PR = (Σλ)²/Σλ², the effective dimension of the reservoir activity.</summary>
    public double ParticipationRatio { get; }
    /// <summary>α²_eff = Σλ/PR, the strength of PR equal latent inputs with the same total.</summary>
    public double EffectiveStrength { get; }
    /// <summary>tr S = Σ_i Σ_t x_i(t)²/T.</summary>
    public double TraceS { get; }
    /// <summary>The eigenvalues λ_k of S (ascending).</summary>
    public IReadOnlyList<double> Eigenvalues => _lambda;
    /// <inheritdoc/>
    public string Description => FormattableString.Invariant(
        $"reservoir task: N = {Inputs} tanh units (tau = {Options.TimeConstant:G3}, seed {Options.Seed}), {Options.ExternalInputs} sinusoidal inputs, M = 2 (butterfly), T = {Duration}, PR = {ParticipationRatio:G4}, alpha^2_eff = {EffectiveStrength:G4}, least-squares error E_opt = {IrreducibleError:G4}, initial error {InitialError:G4}");

    /// <inheritdoc/>
    public void Trial(ulong seed, long trial, Span<double> x, Span<double> target)
    {
        _x.CopyTo(x);
        _y.CopyTo(target);
    }

    /// <summary>The authors' estimate: S replaced by PR equal latent inputs of strength α²_eff, η = 1/((M·PR + 2)·α²_eff); hybrid divided by α²_eff·T.</summary>
    public double OptimalLearningRate(PerturbationRule rule)
    {
        double eta = 1 / ((Outputs * ParticipationRatio + 2) * EffectiveStrength);
        return rule == PerturbationRule.Hybrid ? eta / (EffectiveStrength * Duration) : eta;
    }

    /// <summary>NP σ = σ_eff; WP, WP0, hybrid σ_W = σ_eff/√(tr S), so that ξ_W·x(t) has variance σ_eff² per output and time bin on average.</summary>
    public double PerturbationStrength(PerturbationRule rule, double sigmaEff) => PerturbationRules.PerturbsWeights(rule) ? sigmaEff / Math.Sqrt(TraceS) : sigmaEff;

    /// <inheritdoc/>
    /// <remarks>WP0 is WP here: every unit's activity is nonzero.</remarks>
    public double[] PredictedError(PerturbationRule rule, double eta, double sigma, double weightDecay, int trials)
    {
        int n = Inputs, m = Outputs, T = Duration, len = m * n;
        var mean = new double[len];
        var sq = new double[len];
        var e = new double[trials];
        double lam1 = m * _lambda.Sum(), lam2 = m * _lambda.Sum(l => l * l), p = (double)m * T, g = 1 - weightDecay;
        double npNoise = sigma * sigma * (p + 2) * (p + 4) / (4.0 * T);
        for (int t = 0; t < trials; t++)
        {
            double err = _e0, sumG = 0;
            for (int i = 0; i < len; i++)
            {
                double l = _lambda[i % n], b = _b[i];
                err += -b * mean[i] + 0.5 * l * sq[i];
                sumG += b * b - 2 * b * l * mean[i] + l * l * sq[i];
            }
            e[t] = err;
            for (int i = 0; i < len; i++)
            {
                double l = _lambda[i % n], b = _b[i], mi = mean[i], si = sq[i];
                double gi = b * b - 2 * b * l * mi + l * l * si;
                double rate = rule == PerturbationRule.Hybrid ? eta * T * l : eta;
                double m1 = mi + rate * (b - l * mi);
                double s2 = si + 2 * rate * (b * mi - l * si);
                if (rule == PerturbationRule.Np)
                    s2 += eta * eta * l * (2 * err + npNoise) + 2 * eta * eta * gi;
                else
                    s2 += rate * rate * (sumG + 2 * gi + sigma * sigma / 4 * (lam1 * lam1 + 2 * lam2 + 4 * l * lam1 + 8 * l * l));
                mean[i] = g * m1;
                sq[i] = g * g * s2;
            }
        }
        return e;
    }

    /// <summary>Not available (NaN): the modes of the smallest λ_k relax over far more trials than any run; the predicted curve over the run's trials is what the measurement is compared with.</summary>
    public double PredictedFinalError(PerturbationRule rule, double eta, double sigma) => double.NaN;
}
