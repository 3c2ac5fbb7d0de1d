using Sim.Plasticity;
using Sim.Plasticity.Controllers;
using Xunit;

namespace Sim.Specs.Plasticity;

/// <summary>The learning-rate controllers (docs/rules/controllers.md): the VKF's recurrences and limits, the particle filter's determinism, lesions and convergence.</summary>
public class LearningRateControllerTests
{
    private static double[] Walk(ulong seed, double v, double s, int trials)
    {
        ulong key = PlasticityRandom.Key(seed, 0x7777, 0);
        var o = new double[trials];
        double x = 0;
        for (int t = 0; t < trials; t++)
        {
            if (t > 0) x += Math.Sqrt(v) * PlasticityRandom.Normal(key, t);
            o[t] = x + Math.Sqrt(s) * PlasticityRandom.Normal(key, trials + t);
        }
        return o;
    }

    /// <summary>With λ = 0 the VKF is a Kalman filter with fixed process variance: its gain tends to the closed form of the Riccati fixed point.</summary>
    [Theory]
    [InlineData(0.5, 1.0)]
    [InlineData(1.5, 3.0)]
    [InlineData(0.01, 2.0)]
    [InlineData(4.0, 0.25)]
    public void TheVkfWithoutVolatilityLearningIsAKalmanFilterWithTheClosedFormSteadyGain(double v, double omega)
    {
        var f = new VolatileKalmanFilter(lambda: 0, v0: v, omega: omega);
        var o = Walk(3, v, omega, 2000);
        ControllerStep last = default;
        foreach (double x in o) last = f.Observe(x);
        double p = (v + Math.Sqrt(v * v + 4 * v * omega)) / 2;
        Assert.Equal(p / (p + omega), last.LearningRate, 12);
        Assert.Equal(VolatileKalmanFilter.SteadyStateGain(v, omega), last.LearningRate, 12);
        Assert.Equal(v, last.Volatility);   // λ = 0: the volatility never moves
        // The gain does not depend on the observations: a constant stream gives the same gains.
        var g = new VolatileKalmanFilter(0, v, omega);
        for (int t = 0; t < 2000; t++) last = g.Observe(1.0);
        Assert.Equal(p / (p + omega), last.LearningRate, 12);
    }

    /// <summary>The VKF's update equals the paper's form v += λ[(m − m_pre)² + w + w_pre − 2(1−k)·w_pre − v] (Piray & Daw 2020), step by step.</summary>
    [Fact]
    public void TheVkfFollowsThePapersVolatilityUpdate()
    {
        const double lambda = 0.2, v0 = 0.7, omega = 1.3;
        var f = new VolatileKalmanFilter(lambda, v0, omega);
        double m = 0, w = omega, v = v0;
        foreach (double o in Walk(5, 1, 1, 300))
        {
            double mPre = m, wPre = w;
            double k = (w + v) / (w + v + omega);
            m += k * (o - m);
            w = (1 - k) * (w + v);
            v += lambda * ((m - mPre) * (m - mPre) + w + wPre - 2 * (1 - k) * wPre - v);
            var step = f.Observe(o);
            Assert.Equal(k, step.LearningRate, 11);   // the two algebraic forms of the v update round differently
            Assert.Equal(m, step.Mean, 10);
            Assert.True(Math.Abs(v - step.Volatility) <= 1e-10 * Math.Max(1, v), $"v {v} vs {step.Volatility}");
            Assert.Equal(omega, step.Stochasticity);
        }
    }

    /// <summary>The same key and observations give the same bits; Reset replays them; another key gives other draws.</summary>
    [Fact]
    public void TheParticleFilterIsAPureFunctionOfItsKey()
    {
        var o = Walk(7, 1, 2, 200);
        var opts = new VolatilityStochasticityOptions();
        ulong key = PlasticityRandom.Key(1, PlasticityRandom.ControllerPurpose, 0);
        var a = new VolatilityStochasticityFilter(opts, key);
        var b = new VolatilityStochasticityFilter(opts, key);
        var c = new VolatilityStochasticityFilter(opts, PlasticityRandom.Key(2, PlasticityRandom.ControllerPurpose, 0));
        var first = o.Select(a.Observe).ToArray();
        Assert.Equal(first, o.Select(b.Observe).ToArray());
        Assert.NotEqual(first, o.Select(c.Observe).ToArray());
        Assert.True(a.Resamplings > 0);
        a.Reset();
        Assert.Equal(first, o.Select(a.Observe).ToArray());
        Assert.All(first, s => Assert.InRange(s.LearningRate, 0, 1));
    }

    /// <summary>A lesioned filter reports its fixed variance; the healthy one starts its estimates at v₀ and s₀ (predict keeps the mean of the precisions).</summary>
    [Fact]
    public void LesionsFixTheirVarianceAtItsInitialValue()
    {
        var o = Walk(9, 1.5, 3, 100);
        var opts = new VolatilityStochasticityOptions { InitialVolatility = 0.8, InitialStochasticity = 2.5 };
        var sl = new VolatilityStochasticityFilter(opts with { Lesion = FilterLesion.Stochasticity }, 11);
        var vl = new VolatilityStochasticityFilter(opts with { Lesion = FilterLesion.Volatility }, 11);
        foreach (double x in o)
        {
            Assert.Equal(2.5, sl.Observe(x).Stochasticity);
            Assert.Equal(0.8, vl.Observe(x).Volatility);
        }
        // A volatility lesion whose stochasticity barely drifts (λ_s → 0) keeps every particle at s₀: a plain Kalman filter.
        var kf = new VolatileKalmanFilter(0, 0.8, 2.5);
        var frozen = new VolatilityStochasticityFilter(opts with { Lesion = FilterLesion.Volatility, StochasticityRate = 1e-12, InitialUncertainty = 2.5 }, 3);
        foreach (double x in o) Assert.Equal(kf.Observe(x).LearningRate, frozen.Observe(x).LearningRate, 6);
    }

    /// <summary>On long sequences with slow drift the healthy filter's estimates approach the true volatility and stochasticity (tolerance measured, see the docs).</summary>
    [Theory]
    [InlineData(0.5, 1.0)]
    [InlineData(1.5, 3.0)]
    [InlineData(0.5, 3.0)]
    public void TheHealthyFilterEstimatesConvergeToTheTrueVariances(double v, double s)
    {
        var opts = new VolatilityStochasticityOptions { VolatilityRate = 0.02, StochasticityRate = 0.02, Particles = 200 };
        const int trials = 2000, sims = 8;
        double ev = 0, es = 0;
        for (int i = 0; i < sims; i++)
        {
            var f = new VolatilityStochasticityFilter(opts, PlasticityRandom.Key(4, PlasticityRandom.ControllerPurpose, (ulong)i));
            var o = Walk(100 + (ulong)i, v, s, trials);
            for (int t = 0; t < trials; t++)
            {
                var step = f.Observe(o[t]);
                if (t >= trials / 2) { ev += step.Volatility; es += step.Stochasticity; }
            }
        }
        ev /= sims * (trials / 2);
        es /= sims * (trials / 2);
        Assert.InRange(ev, 0.75 * v, 1.25 * v);
        Assert.InRange(es, 0.75 * s, 1.25 * s);
    }

    /// <summary>Bad parameters are refused with the parameter named.</summary>
    [Fact]
    public void BadParametersNameThemselves()
    {
        Assert.StartsWith("Particles:", Assert.Throws<ArgumentException>(() => new VolatilityStochasticityFilter(new() { Particles = 1 }, 0)).Message);
        Assert.StartsWith("VolatilityRate:", Assert.Throws<ArgumentException>(() => new VolatilityStochasticityOptions { VolatilityRate = 1 }.Validate()).Message);
        Assert.StartsWith("InitialStochasticity:", Assert.Throws<ArgumentException>(() => new VolatilityStochasticityOptions { InitialStochasticity = double.NaN }.Validate()).Message);
        Assert.Equal("lambda", Assert.Throws<ArgumentOutOfRangeException>(() => new VolatileKalmanFilter(lambda: 1.5)).ParamName);
        Assert.Equal("omega", Assert.Throws<ArgumentOutOfRangeException>(() => new VolatileKalmanFilter(omega: 0)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new VolatileKalmanFilter().Observe(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ControlledLearningRate(new VolatileKalmanFilter(), 0, 0.5));
    }

    /// <summary>A rule's η from a controller: Scale·k_t, named after the controller, back to the initial gain on Reset.</summary>
    [Fact]
    public void AControlledLearningRateIsTheScaledGain()
    {
        var eta = new ControlledLearningRate(new VolatileKalmanFilter(0.1, 1, 2), 0.05, 0.5);
        Assert.Equal(0.025, eta.Current.Eta, 15);
        var next = eta.Next(1.0);
        Assert.Equal(0.05 * (3.0 / 5.0), next.Eta, 15);   // k_1 = (w0 + v0)/(w0 + v0 + ω) = 3/5
        Assert.Contains("vkf(", next.Name);
        eta.Reset();
        Assert.Equal(0.025, eta.Current.Eta, 15);
    }
}
