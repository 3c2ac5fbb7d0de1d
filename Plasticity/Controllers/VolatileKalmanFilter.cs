namespace Sim.Plasticity.Controllers;

/// <summary>
/// The volatile Kalman filter (VKF) of Piray &amp; Daw (2020), "A simple model for learning in volatile environments",
/// PLoS Comput Biol 16(7): e1007963, in its form for continuous (Gaussian) outcomes (the authors' <c>vkf_lin.m</c>). A
/// Kalman filter of a hidden random walk whose per-trial variance, the volatility v, is itself tracked:
/// <code>
///   δ_t = o_t − m_{t−1}
///   k_t = (w_{t−1} + v_{t−1}) / (w_{t−1} + v_{t−1} + ω)          learning rate (Kalman gain)
///   m_t = m_{t−1} + k_t·δ_t
///   w_t = (1 − k_t)·(w_{t−1} + v_{t−1})                          posterior variance
///   v_t = v_{t−1} + λ·[(m_t − m_{t−1})² + w_{t−1} + w_t − 2·w_{t−1,t} − v_{t−1}],   w_{t−1,t} = (1 − k_t)·w_{t−1}
///       = v_{t−1} + λ·(k_t²·δ_t² + k_t·w_{t−1} − k_t·v_{t−1})
/// </code>
/// with m_0 = 0, w_0 = ω, v_0 the initial volatility, λ ∈ [0, 1] the volatility learning rate and ω the (fixed) noise
/// variance: the stochasticity that the VKF does not learn. With λ = 0 it is a Kalman filter with process variance v_0,
/// whose gain tends to k* = P/(P + ω), P = (v_0 + √(v_0² + 4·v_0·ω))/2. Deterministic (no random draws).
/// </summary>
public sealed class VolatileKalmanFilter : ILearningRateController
{
    private double _m, _w, _v;

    /// <summary>A VKF with volatility learning rate <paramref name="lambda"/>, initial volatility <paramref name="v0"/> and noise variance <paramref name="omega"/>.</summary>
    public VolatileKalmanFilter(double lambda = 0.1, double v0 = 1, double omega = 2)
    {
        if (!(lambda >= 0 && lambda <= 1)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "lambda (volatility learning rate) must lie in [0, 1]");
        if (!(v0 > 0) || !double.IsFinite(v0)) throw new ArgumentOutOfRangeException(nameof(v0), v0, "v0 (initial volatility) must be finite and > 0");
        if (!(omega > 0) || !double.IsFinite(omega)) throw new ArgumentOutOfRangeException(nameof(omega), omega, "omega (noise variance) must be finite and > 0");
        Lambda = lambda;
        V0 = v0;
        Omega = omega;
        Reset();
    }

    /// <summary>λ, the volatility learning rate.</summary>
    public double Lambda { get; }
    /// <summary>v_0, the initial volatility.</summary>
    public double V0 { get; }
    /// <summary>ω, the noise variance (fixed stochasticity).</summary>
    public double Omega { get; }

    /// <inheritdoc/>
    public string Name => FormattableString.Invariant($"vkf(lambda={Lambda:G6}, v0={V0:G6}, omega={Omega:G6})");

    /// <summary>The steady-state learning rate of the VKF with λ = 0: a Kalman filter with process variance <paramref name="v"/> and noise variance <paramref name="omega"/>.</summary>
    public static double SteadyStateGain(double v, double omega)
    {
        double p = (v + Math.Sqrt(v * v + 4 * v * omega)) / 2;   // prior variance: P = P·ω/(P + ω) + v
        return p / (p + omega);
    }

    /// <inheritdoc/>
    public ControllerStep Observe(double observation)
    {
        if (!double.IsFinite(observation)) throw new ArgumentOutOfRangeException(nameof(observation), observation, "a controller's observation must be finite");
        double delta = observation - _m;
        double wPre = _w;
        double k = (_w + _v) / (_w + _v + Omega);
        _m += k * delta;
        _w = (1 - k) * (_w + _v);
        _v += Lambda * (k * k * delta * delta + k * wPre - k * _v);
        return new ControllerStep(k, _v, Omega, _m);
    }

    /// <inheritdoc/>
    public void Reset()
    {
        _m = 0;
        _w = Omega;
        _v = V0;
    }
}
