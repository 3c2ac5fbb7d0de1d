using Sim.Plasticity;
using Sim.Plasticity.Perturbation;
using Xunit;

namespace Sim.Specs.Plasticity;

/// <summary>The perturbation rules of a linear readout (docs/rules/perturbation.md): the implementation against a naive transcription of the update rules, determinism, bad input.</summary>
public class PerturbationRuleTests
{
    private const int M = 3, N = 7, T = 9;

    /// <summary>Random inputs with rows 2 and 5 zero for the whole trial (what WP0 and NP must leave alone), a random target.</summary>
    private static (double[] X, double[] Target) Case(ulong seed, int trial)
    {
        ulong key = PlasticityRandom.Key(seed, 0x7001, (ulong)trial);
        var x = new double[N * T];
        for (int i = 0; i < N; i++)
            if (i != 2 && i != 5)
                for (int t = 0; t < T; t++) x[i * T + t] = PlasticityRandom.Normal(key, i * T + t);
        var y = new double[M * T];
        for (int k = 0; k < y.Length; k++) y[k] = PlasticityRandom.Normal(key, 1000 + k);
        return (x, y);
    }

    /// <summary>
    /// The rules as the paper states them, written out with full matrices: two runs, R = −Σ(y* − y)²/(2T),
    /// ΔR = R_pert − R_unpert, the update, then the decay. ξ is normal deviate k of the trial's key, times σ.
    /// </summary>
    private static (double Ru, double Rp) Naive(PerturbationRule rule, double[] w, double[] x, double[] target, double eta, double sigma, double decay, ulong key)
    {
        double[] Out(double[] weights)
        {
            var y = new double[M * T];
            for (int m = 0; m < M; m++)
                for (int t = 0; t < T; t++)
                    for (int i = 0; i < N; i++) y[m * T + t] += weights[m * N + i] * x[i * T + t];
            return y;
        }
        double Reward(double[] y)
        {
            double s = 0;
            for (int k = 0; k < y.Length; k++) s += (target[k] - y[k]) * (target[k] - y[k]);
            return -s / (2.0 * T);
        }
        var yu = Out(w);
        double[] yp;
        double[] xi;
        if (rule == PerturbationRule.Np)
        {
            xi = [.. Enumerable.Range(0, M * T).Select(k => sigma * PlasticityRandom.Normal(key, k))];
            yp = [.. yu.Select((v, k) => v + xi[k])];
        }
        else
        {
            xi = [.. Enumerable.Range(0, M * N).Select(k => sigma * PlasticityRandom.Normal(key, k))];
            yp = Out([.. w.Select((v, k) => v + xi[k])]);
        }
        double ru = Reward(yu), rp = Reward(yp), dr = rp - ru;
        for (int m = 0; m < M; m++)
            for (int i = 0; i < N; i++)
            {
                bool nonzero = Enumerable.Range(0, T).Any(t => x[i * T + t] != 0);
                double dw = rule switch
                {
                    PerturbationRule.Wp => eta * dr * xi[m * N + i] / (sigma * sigma),
                    PerturbationRule.Wp0 => nonzero ? eta * dr * xi[m * N + i] / (sigma * sigma) : 0,
                    // Σ_t ξ(t)·x(t)ᵀ with ξ the output perturbation of the perturbed run.
                    _ => eta * dr * Enumerable.Range(0, T).Sum(t => (yp[m * T + t] - yu[m * T + t]) * x[i * T + t]) / (sigma * sigma),
                };
                w[m * N + i] = (1 - decay) * (w[m * N + i] + dw);
            }
        return (ru, rp);
    }

    [Theory]
    [InlineData(PerturbationRule.Wp, 0.0)]
    [InlineData(PerturbationRule.Np, 0.0)]
    [InlineData(PerturbationRule.Wp0, 0.0)]
    [InlineData(PerturbationRule.Hybrid, 0.0)]
    [InlineData(PerturbationRule.Wp, 0.05)]
    [InlineData(PerturbationRule.Np, 0.05)]
    [InlineData(PerturbationRule.Wp0, 0.05)]
    [InlineData(PerturbationRule.Hybrid, 0.05)]
    public void TheReadoutFollowsANaiveTranscriptionOfTheRules(PerturbationRule rule, double decay)
    {
        const double sigma = 0.3;
        double eta = rule == PerturbationRule.Hybrid ? 0.002 : 0.02;   // hybrid's update carries Σ_t x(t)x(t)ᵀ
        var readout = new LinearPerturbationReadout(rule, M, N, T, eta, sigma, decay);
        var w = new double[M * N];
        ulong init = PlasticityRandom.Key(4, 0x7002, 0);
        for (int k = 0; k < w.Length; k++) w[k] = readout.Weights[k] = 0.5 * PlasticityRandom.Normal(init, k);
        for (int trial = 0; trial < 6; trial++)
        {
            var (x, y) = Case(9, trial);
            ulong key = PlasticityRandom.Key(9, PlasticityRandom.PerturbationPurpose, (ulong)trial);
            var (ru, rp) = Naive(rule, w, x, y, eta, sigma, decay, key);
            var got = readout.Trial(x, y, key);
            static void Close(double want, double got, string what) => Assert.True(Math.Abs(want - got) <= 1e-12 * (1 + Math.Abs(want)), $"{what}: {want} vs {got}");
            Close(ru, got.Unperturbed, "R_unpert");
            Close(rp, got.Perturbed, "R_pert");
            Close(rp - ru, got.Difference, "dR");
            Close(-ru, got.Error, "error");
            for (int k = 0; k < w.Length; k++) Assert.True(Math.Abs(w[k] - readout.Weights[k]) <= 1e-12 * (1 + Math.Abs(w[k])), $"{rule}, trial {trial}, weight {k}: {w[k]} vs {readout.Weights[k]}");
        }
        // WP0 and NP never move the weights of the two silent inputs (without decay); WP does.
        if (decay == 0)
        {
            bool moved = false;
            for (int m = 0; m < M; m++)
                foreach (int i in new[] { 2, 5 }) moved |= readout.Weights[m * N + i] != 0.5 * PlasticityRandom.Normal(init, m * N + i);
            Assert.Equal(rule == PerturbationRule.Wp, moved);
        }
    }

    /// <summary>ΔR is evaluated without cancellation: at σ = 1e-10 it is the first-order term ∇R·δ to many digits, not rounding noise.</summary>
    [Fact]
    public void TheRewardDifferenceIsAccurateAtTinySigma()
    {
        var (x, y) = Case(3, 0);
        var r = new LinearPerturbationReadout(PerturbationRule.Np, M, N, T, 0, 1e-10);
        ulong key = PlasticityRandom.Key(3, PlasticityRandom.PerturbationPurpose, 0);
        var trial = r.Trial(x, y, key);
        double first = 0;   // (1/T)·Σ (y* − y)·ξ with W = 0
        for (int k = 0; k < M * T; k++) first += y[k] * 1e-10 * PlasticityRandom.Normal(key, k);
        first /= T;
        Assert.Equal(first, trial.Difference, Math.Abs(first) * 1e-8);
    }

    [Fact]
    public void TheSameKeyGivesTheSameBitsAndAnotherKeyOthers()
    {
        double[] Run(ulong seed)
        {
            var r = new LinearPerturbationReadout(PerturbationRule.Wp, M, N, T, 0.01, 0.2, 0.01);
            for (int trial = 0; trial < 5; trial++)
            {
                var (x, y) = Case(1, trial);
                r.Trial(x, y, PlasticityRandom.Key(seed, PlasticityRandom.PerturbationPurpose, (ulong)trial));
            }
            return r.Weights.ToArray();
        }
        Assert.Equal(Run(5), Run(5));
        Assert.NotEqual(Run(5), Run(6));
    }

    [Fact]
    public void BadArgumentsAreRefusedNamingTheQuantity()
    {
        Assert.Contains("sigma", Assert.Throws<ArgumentOutOfRangeException>(() => new LinearPerturbationReadout(PerturbationRule.Wp, 1, 1, 1, 0.1, 0)).Message);
        Assert.Contains("sigma", Assert.Throws<ArgumentOutOfRangeException>(() => new LinearPerturbationReadout(PerturbationRule.Np, 1, 1, 1, 0.1, -1)).Message);
        Assert.Contains("eta", Assert.Throws<ArgumentOutOfRangeException>(() => new LinearPerturbationReadout(PerturbationRule.Wp, 1, 1, 1, -0.1, 1)).Message);
        Assert.Contains("decay", Assert.Throws<ArgumentOutOfRangeException>(() => new LinearPerturbationReadout(PerturbationRule.Wp, 1, 1, 1, 0.1, 1, 1)).Message);
        Assert.Contains("outputs", Assert.Throws<ArgumentOutOfRangeException>(() => new LinearPerturbationReadout(PerturbationRule.Wp, 0, 1, 1, 0.1, 1)).Message);
        var r = new LinearPerturbationReadout(PerturbationRule.Wp, 2, 3, 4, 0.1, 1);
        Assert.Contains("inputs", Assert.Throws<ArgumentException>(() => r.Trial(new double[11], new double[8], 1)).Message);
        Assert.Contains("target", Assert.Throws<ArgumentException>(() => r.Trial(new double[12], new double[7], 1)).Message);
        Assert.Equal(["wp", "np", "wp0", "hybrid"], PerturbationRules.All.Select(PerturbationRules.Name));
        Assert.Null(PerturbationRules.Parse("xp"));
        Assert.Equal(PerturbationRule.Wp0, PerturbationRules.Parse("wp0"));
    }
}
