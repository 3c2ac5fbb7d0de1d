using Sim.EventCore.Numerics;

namespace Sim.Plasticity.Controllers;

/// <summary>Which of the particle filter's two noise variances are learned (Piray &amp; Daw 2021, "lesioned" models).</summary>
public enum FilterLesion
{
    /// <summary>Both volatility and stochasticity are inferred.</summary>
    None,
    /// <summary>Stochasticity-lesioned: the stochasticity is fixed at its initial value s_0; only the volatility is inferred.</summary>
    Stochasticity,
    /// <summary>Volatility-lesioned: the volatility is fixed at its initial value v_0; only the stochasticity is inferred.</summary>
    Volatility,
}

/// <summary>
/// Parameters of <see cref="VolatilityStochasticityFilter"/>; the defaults are those of the authors' 2×2 simulations
/// (<c>sim_2x2.m</c>: 100 particles, x0_unc = 100, λ_v = λ_s = 0.1, v_0 = 1, s_0 = 2).
/// </summary>
public sealed record VolatilityStochasticityOptions
{
    /// <summary>Number of particles.</summary>
    public int Particles { get; init; } = 100;
    /// <summary>w_0, the prior variance of the hidden state (x0_unc).</summary>
    public double InitialUncertainty { get; init; } = 100;
    /// <summary>λ_v ∈ (0, 1): the volatility update rate (how fast the volatility may drift).</summary>
    public double VolatilityRate { get; init; } = 0.1;
    /// <summary>λ_s ∈ (0, 1): the stochasticity update rate.</summary>
    public double StochasticityRate { get; init; } = 0.1;
    /// <summary>v_0: the initial volatility (and the fixed volatility of the volatility-lesioned model).</summary>
    public double InitialVolatility { get; init; } = 1;
    /// <summary>s_0: the initial stochasticity (and the fixed stochasticity of the stochasticity-lesioned model).</summary>
    public double InitialStochasticity { get; init; } = 2;
    /// <summary>Which variance is fixed (<see cref="FilterLesion.None"/>: the healthy model).</summary>
    public FilterLesion Lesion { get; init; } = FilterLesion.None;

    /// <summary>Throws an <see cref="ArgumentException"/> whose message starts with the property at fault ("Particles: …").</summary>
    public void Validate()
    {
        if (Particles < 2) throw new ArgumentException($"{nameof(Particles)}: must be at least 2 (got {Particles})");
        Positive(nameof(InitialUncertainty), InitialUncertainty);
        Rate(nameof(VolatilityRate), VolatilityRate);
        Rate(nameof(StochasticityRate), StochasticityRate);
        Positive(nameof(InitialVolatility), InitialVolatility);
        Positive(nameof(InitialStochasticity), InitialStochasticity);
        if (!Enum.IsDefined(Lesion)) throw new ArgumentException($"{nameof(Lesion)}: unknown lesion {Lesion}");
    }

    private static void Positive(string name, double x)
    {
        if (!(x > 0) || !double.IsFinite(x)) throw new ArgumentException(FormattableString.Invariant($"{name}: must be a finite number > 0 (got {x})"));
    }

    private static void Rate(string name, double x)
    {
        if (!(x > 0 && x < 1)) throw new ArgumentException(FormattableString.Invariant($"{name}: must lie in (0, 1) (got {x})"));
    }
}

/// <summary>
/// The model of Piray &amp; Daw (2021), "A model for learning based on the joint estimation of stochasticity and
/// volatility", Nature Communications 12: 6587: a Rao–Blackwellised particle filter over the volatility v and the
/// stochasticity s, with one Kalman filter of the hidden state per particle (the authors' <c>pf_core.m</c>,
/// <c>pf_core_stc_lesioned.m</c>, <c>pf_core_vol_lesioned.m</c>). Generative model: x_t = x_{t−1} + √v_t·ε,
/// o_t = x_t + √s_t·ε', with the precisions z = 1/v and y = 1/s drifting multiplicatively:
/// <code>
///   z_t = z_{t−1}·ε_t/η_v,  ε_t ~ Beta(η_v·ν_v, (1 − η_v)·ν_v),  η_v = 1 − λ_v,  ν_v = 0.5/λ_v   (E[z_t] = z_{t−1})
///   y_t likewise with λ_s
/// </code>
/// One trial, per particle i (weights π_i): (1) predict: draw z_i, y_i as above; the reported estimates are
/// v̂_t = 1/Σπ_i·z_i and ŝ_t = 1/Σπ_i·y_i under the weights before the observation; (2) correct: π_i ∝ π_i·(N(o_t; m_i,
/// w_i + v_i + s_i) + 2⁻⁵²), systematic resampling (weights back to 1/P, m and w follow their particles) when the effective
/// sample size 1/Σπ_i² falls below P/2; (3) Kalman step of each particle: k_i = (w_i + v_i)/(w_i + v_i + s_i),
/// m_i += k_i·(o_t − m_i), w_i = (1 − k_i)·(w_i + v_i). The learning rate is k_t = Σπ_i·k_i, the mean Σπ_i·m_i. Start:
/// all particles at z = 1/v_0, y = 1/s_0, m = 0, w = w_0. A lesioned model keeps one variance at its initial value and
/// draws only the other (the authors set the lesioned value to the initial one, <c>sim_lesioned.m</c>).
/// Draws: Beta variates as X/(X+Y) of Gamma variates (Marsaglia–Tsang; shape &lt; 1 by Gamma(a+1)·U^{1/a}) and the
/// resampling offset, all from the counter-based RNG under the key given at construction, in a fixed order: a run is a
/// pure function of (options, key, observations).
/// </summary>
public sealed class VolatilityStochasticityFilter : ILearningRateController
{
    private readonly ulong _key;
    private readonly double[] _z, _y, _m, _w, _pi, _k, _scratch;
    private readonly int[] _index;
    private readonly double _aV, _aS, _etaV, _etaS;
    private ulong _draw;

    /// <summary>A filter with <paramref name="options"/> whose draws come from the counter-based RNG under <paramref name="key"/> (e.g. <see cref="PlasticityRandom.Key"/> with <see cref="PlasticityRandom.ControllerPurpose"/>).</summary>
    public VolatilityStochasticityFilter(VolatilityStochasticityOptions options, ulong key)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _key = key;
        int p = options.Particles;
        _z = new double[p]; _y = new double[p]; _m = new double[p]; _w = new double[p];
        _pi = new double[p]; _k = new double[p]; _scratch = new double[p]; _index = new int[p];
        _etaV = 1 - options.VolatilityRate;
        _etaS = 1 - options.StochasticityRate;
        _aV = _etaV * 0.5 / options.VolatilityRate;   // the second shape is (1 − η)·ν = 0.5 for both
        _aS = _etaS * 0.5 / options.StochasticityRate;
        Reset();
    }

    /// <summary>The parameters.</summary>
    public VolatilityStochasticityOptions Options { get; }

    /// <inheritdoc/>
    public string Name => FormattableString.Invariant(
        $"pf({Options.Lesion switch { FilterLesion.Stochasticity => "stochasticity-lesioned", FilterLesion.Volatility => "volatility-lesioned", _ => "healthy" }}, particles={Options.Particles}, lambda_v={Options.VolatilityRate:G6}, lambda_s={Options.StochasticityRate:G6}, v0={Options.InitialVolatility:G6}, s0={Options.InitialStochasticity:G6}, w0={Options.InitialUncertainty:G6})");

    /// <summary>How many resampling steps happened since the last <see cref="Reset"/>.</summary>
    public int Resamplings { get; private set; }

    /// <inheritdoc/>
    public void Reset()
    {
        Array.Fill(_z, 1 / Options.InitialVolatility);
        Array.Fill(_y, 1 / Options.InitialStochasticity);
        Array.Fill(_m, 0.0);
        Array.Fill(_w, Options.InitialUncertainty);
        Array.Fill(_pi, 1.0 / Options.Particles);
        _draw = 0;
        Resamplings = 0;
    }

    /// <inheritdoc/>
    public ControllerStep Observe(double observation)
    {
        if (!double.IsFinite(observation)) throw new ArgumentOutOfRangeException(nameof(observation), observation, "a controller's observation must be finite");
        int n = _z.Length;
        bool learnV = Options.Lesion != FilterLesion.Volatility, learnS = Options.Lesion != FilterLesion.Stochasticity;

        // (1) Predict: the precisions drift; the estimates under the weights before the observation.
        if (learnV) for (int i = 0; i < n; i++) _z[i] *= (Beta(_aV) + Eps) / _etaV;
        if (learnS) for (int i = 0; i < n; i++) _y[i] *= (Beta(_aS) + Eps) / _etaS;
        double ez = 0, ey = 0;
        for (int i = 0; i < n; i++) { ez += _pi[i] * _z[i]; ey += _pi[i] * _y[i]; }
        double vol = learnV ? 1 / ez : Options.InitialVolatility;
        double stc = learnS ? 1 / ey : Options.InitialStochasticity;

        // (2) Correct: weights by the predictive likelihood of each particle's Kalman filter.
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double var = _w[i] + 1 / _z[i] + 1 / _y[i];
            double d = observation - _m[i];
            double lik = Math.Exp(-0.5 * d * d / var) / Math.Sqrt(2 * Math.PI * var) + Eps;
            _pi[i] *= lik;
            sum += _pi[i];
        }
        double sq = 0;
        for (int i = 0; i < n; i++) { _pi[i] /= sum; sq += _pi[i] * _pi[i]; }
        if (1 / sq < 0.5 * n) Resample();

        // (3) Kalman step of every particle.
        double lr = 0, mean = 0;
        for (int i = 0; i < n; i++)
        {
            double v = 1 / _z[i], s = 1 / _y[i];
            double k = (_w[i] + v) / (_w[i] + v + s);
            _m[i] += k * (observation - _m[i]);
            _w[i] = (1 - k) * (_w[i] + v);
            _k[i] = k;
            lr += _pi[i] * k;
            mean += _pi[i] * _m[i];
        }
        return new ControllerStep(lr, vol, stc, mean);
    }

    private const double Eps = 2.220446049250313e-16;   // MATLAB's eps, added as the authors' code does

    /// <summary>Systematic resampling: points (u + j)/P, u ~ U[0, 1), each taking the particle whose cumulative-weight interval holds it.</summary>
    private void Resample()
    {
        int n = _z.Length;
        double u = CounterRng.Uniform01(CounterRng.Word(_key, _draw++));
        double cum = _pi[0];
        int src = 0;
        for (int j = 0; j < n; j++)
        {
            double point = (u + j) / n;
            while (point >= cum && src < n - 1) cum += _pi[++src];
            _index[j] = src;
        }
        Gather(_z); Gather(_y); Gather(_m); Gather(_w);
        Array.Fill(_pi, 1.0 / n);
        Resamplings++;
    }

    private void Gather(double[] a)
    {
        for (int j = 0; j < a.Length; j++) _scratch[j] = a[_index[j]];
        Array.Copy(_scratch, a, a.Length);
    }

    /// <summary>Beta(a, 0.5) as X/(X + Y), X ~ Gamma(a), Y ~ Gamma(0.5).</summary>
    private double Beta(double a)
    {
        double x = Gamma(a), y = Gamma(0.5);
        return x / (x + y);
    }

    /// <summary>Gamma(a, 1) by Marsaglia &amp; Tsang (2000); a &lt; 1 through Gamma(a + 1)·U^{1/a}.</summary>
    private double Gamma(double a)
    {
        if (a < 1)
        {
            double g = Gamma(a + 1);
            return g * Math.Pow(CounterRng.UniformOpen0(CounterRng.Word(_key, _draw++)), 1 / a);
        }
        double d = a - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x = CounterRng.Normal(CounterRng.Word(_key, _draw++), CounterRng.Word(_key, _draw++));
            double v = 1 + c * x;
            if (v <= 0) continue;
            v = v * v * v;
            double u = CounterRng.UniformOpen0(CounterRng.Word(_key, _draw++));
            if (u < 1 - 0.0331 * x * x * x * x) return d * v;
            if (Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }
}
