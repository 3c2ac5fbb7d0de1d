using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.GpuBridge;
using Sim.Specs.EventCore;
using Sim.Specs.GpuBridge;
using Xunit;

namespace Sim.Specs.Models;

/// <summary>
/// Analytic checks of e-prop's neurons (docs/models/alif.md, docs/models/lif_eprop.md; Bellec et al. 2020): a single
/// ALIF neuron under constant drive, tick by tick on both grid engines, against a hand computation (the threshold
/// adaptation's jump of 1 after each spike and its decay ρ^k in between, the reset by subtraction of v_th, the spike
/// rule v &gt; v_th + β·a outside the refractory ticks); ψ against its formula; ζ = 1 − α; adaptation lowers the rate of
/// a driven population; β = 0 is lif_eprop bit for bit; bad parameters are refused by field.
/// </summary>
public class AlifModelTests
{
    private const double Dt = 1.0;

    private static CompiledNetwork Single(NeuronParameters p, int size = 1, double durationMs = 300)
    {
        var b = new NetworkBuilder("alif") { Run = new RunOptions { DtMs = Dt, DurationMs = durationMs, Seed = 9 } };
        b.NeuronGroup("n", size, p);
        return NetworkCompiler.Compile(b.Build());
    }

    private static readonly AlifParameters Driven = new()
    {
        TauMemMs = 20, VThresholdMv = 0.6, RefractoryMs = 3, TauAdaptMs = 100, BetaMv = 0.1, IExtMv = 0.06, VInitMv = 0.0,
    };

    /// <summary>The per-tick trace (v, z, a, ψ) of neuron 0 on an engine.</summary>
    private static (double[] V, double[] Z, double[] A, double[] Psi) Trace(ISimulationEngine e, int ticks)
    {
        var v = new double[ticks]; var z = new double[ticks]; var a = new double[ticks]; var psi = new double[ticks];
        for (int t = 0; t < ticks; t++)
        {
            e.Run(1);
            v[t] = e.GetVariable(0, "n", "v_mv")[0];
            z[t] = e.GetVariable(0, "n", "z")[0];
            a[t] = e.GetVariable(0, "n", "a")[0];
            psi[t] = e.GetVariable(0, "n", "psi")[0];
        }
        return (v, z, a, psi);
    }

    /// <summary>
    /// ρ = e^{−1/100}, α = e^{−1/20}, n_ref = 3: after each spike at t_s, a[t_s + 1] = ρ·a[t_s] + 1 and then
    /// a[t_s + 1 + k] = a[t_s + 1]·ρ^k until the next spike; v[t_s + 1] = α·v[t_s] + I − v_th; no spike at t_s + 1, t_s + 2;
    /// z[t] = 1 exactly when v[t] &gt; 0.6 + 0.1·a[t] outside them. The same on the dense engine, bit for bit.
    /// </summary>
    [Fact]
    public void TheAdaptiveThresholdJumpsByBetaAndDecaysWithRho()
    {
        const int Ticks = 300;
        var net = Single(Driven);
        (double[] V, double[] Z, double[] A, double[] Psi) ev, dense;
        using (var e = new EventEngine(net)) ev = Trace(e, Ticks);
        using (var d = new DenseEngine(net)) dense = Trace(d, Ticks);
        Assert.Equal(ev.V, dense.V);
        Assert.Equal(ev.A, dense.A);
        Assert.Equal(ev.Psi, dense.Psi);

        double rho = Math.Exp(-Dt / 100), alpha = Math.Exp(-Dt / 20);
        var spikes = Enumerable.Range(0, Ticks).Where(t => ev.Z[t] == 1).ToList();
        Assert.True(spikes.Count >= 5, $"{spikes.Count} spikes");
        long last = -1000;
        for (int t = 0; t < Ticks; t++)
        {
            double aPrev = t == 0 ? 0 : ev.A[t - 1], zPrev = t == 0 ? 0 : ev.Z[t - 1], vPrev = t == 0 ? 0 : ev.V[t - 1];
            Assert.Equal(rho * aPrev + zPrev, ev.A[t], 12);
            Assert.Equal(alpha * vPrev + 0.06 - zPrev * 0.6, ev.V[t], 12);
            bool refractory = t - last < 3;
            bool above = ev.V[t] > 0.6 + 0.1 * ev.A[t];
            Assert.True(ev.Z[t] == (above && !refractory ? 1 : 0), $"tick {t}: z {ev.Z[t]}, v {ev.V[t]}, A {0.6 + 0.1 * ev.A[t]}, refractory {refractory}");
            if (ev.Z[t] == 1) last = t;
            if (refractory) Assert.Equal(0.0, ev.Psi[t]);
        }
        // Between two spikes the adaptation decays geometrically from its jump (closed form, not the recursion).
        for (int s = 0; s + 1 < spikes.Count; s++)
        {
            int ts = spikes[s];
            double jump = (ts == 0 ? 0 : ev.A[ts]) * rho + 1;
            Assert.Equal(jump, ev.A[ts + 1], 12);
            for (int k = 0; ts + 1 + k <= spikes[s + 1]; k++)
                Assert.Equal(jump * Math.Pow(rho, k), ev.A[ts + 1 + k], 11);
        }
        // The adaptation slows firing: inter-spike intervals grow from the first to the last.
        Assert.True(spikes[^1] - spikes[^2] > spikes[1] - spikes[0], $"intervals {spikes[1] - spikes[0]} then {spikes[^1] - spikes[^2]}");
    }

    /// <summary>
    /// ψ = (γ_pd/v_th)·max(0, 1 − |v − A|/v_th) at chosen potentials (no input: v = α·v_init after one tick, A = v_th),
    /// on both engines: 0 far below and far above, γ_pd/v_th at the threshold, linear in between; 0 in the tick after
    /// a spike (refractory).
    /// </summary>
    [Fact]
    public void ThePseudoDerivativeIsTheTriangleOfEprop()
    {
        double alpha = Math.Exp(-Dt / 20);
        double[] targets = [-0.5, 0.0, 0.2, 0.45, 0.6, 0.75, 1.0, 1.2, 1.5];
        var p = new LifEpropParameters { TauMemMs = 20, VThresholdMv = 0.6, RefractoryMs = 2, PseudoDerivativeGain = 0.3, VInitMv = Value.PerElement([.. targets.Select(v => v / alpha)]) };
        var net = Single(p, targets.Length);
        foreach (var engine in new Func<ISimulationEngine>[] { () => new EventEngine(net), () => new DenseEngine(net) })
        {
            using var e = engine();
            e.Run(1);
            double[] v = e.GetVariable(0, "n", "v_mv"), psi = e.GetVariable(0, "n", "psi"), z = e.GetVariable(0, "n", "z");
            for (int i = 0; i < targets.Length; i++)
            {
                Assert.Equal(targets[i], v[i], 12);
                double want = 0.3 / 0.6 * Math.Max(0, 1 - Math.Abs(v[i] - 0.6) / 0.6);
                Assert.Equal(want, psi[i], 14);
                Assert.Equal(v[i] > 0.6 ? 1.0 : 0.0, z[i]);
            }
            Assert.Equal(0.5, psi[Array.IndexOf(targets, 0.6)], 14);
            e.Run(1);   // the spiking neurons are refractory now: ψ = 0 although v is near threshold
            psi = e.GetVariable(0, "n", "psi");
            for (int i = 0; i < targets.Length; i++)
                if (z[i] == 1) Assert.Equal(0.0, psi[i]);
                else Assert.True(psi[i] >= 0);
            Assert.True(psi[Array.IndexOf(targets, 0.45)] > 0);
        }
    }

    /// <summary>The model's pseudo-derivative for rules is the stored ψ of the tick.</summary>
    [Fact]
    public void RulesReadTheStoredPsi()
    {
        var net = Single(Driven, 4);
        using var e = new EventEngine(net);
        e.Run(40);
        var psi = new double[4];
        double[][] state = [e.GetVariable(0, "n", "v_mv"), e.GetVariable(0, "n", "z"), e.GetVariable(0, "n", "psi"), e.GetVariable(0, "n", "a")];
        AlifModel.Instance.PseudoDerivative(net.Populations[0].Constants, state, psi);
        Assert.Equal(state[2], psi);
        Assert.True(AlifModel.Instance.HasPseudoDerivative && LifEpropModel.Instance.HasPseudoDerivative);
    }

    /// <summary>input_filter 1: ζ = 1 − α, so one tick of input I from rest gives v = (1 − α)·I; input_filter 0: v = I.</summary>
    [Fact]
    public void TheInputFilterScalesTheInputByOneMinusAlpha()
    {
        double alpha = Math.Exp(-Dt / 30);
        foreach (int filter in new[] { 0, 1 })
        {
            using var e = new EventEngine(Single(new LifEpropParameters { TauMemMs = 30, VThresholdMv = 0.03, IExtMv = 0.01, InputFilter = filter }));
            e.Run(1);
            Assert.Equal(filter == 1 ? (1 - alpha) * 0.01 : 0.01, e.GetVariable(0, "n", "v_mv")[0], 15);
        }
    }

    private static (int Spikes, string Digest) Population(NeuronParameters p)
    {
        var b = new NetworkBuilder("drive") { Run = new RunOptions { DtMs = Dt, DurationMs = 2000, Seed = 4 } };
        b.NeuronGroup("n", 50, p);
        b.PoissonGroup("in", 40, 20);
        b.Synapses("in", "n", new Connectivity.FixedProbability(0.5), Value.Uniform(0, 0.4));
        var net = NetworkCompiler.Compile(b.Build());
        var run = ReferenceModelTests.RunEngine(net, net.DurationTicks);
        var v = run.State[0]["n.v_mv"];
        return (run.Spikes[0].Count, string.Join(",", run.Spikes[0]) + "|" + string.Join(",", v.Select(BitConverter.DoubleToInt64Bits)));
    }

    /// <summary>
    /// The same Poisson drive into 50 neurons: with β = 0.3 mV (τ_a = 500 ms) the population fires markedly less than
    /// with β = 0; and ALIF with β = 0 is lif_eprop bit for bit (spikes and potentials), since A = 0·a + v_th = v_th.
    /// </summary>
    [Fact]
    public void AdaptationLowersTheRateAndBetaZeroIsTheEpropLif()
    {
        var lif = new LifEpropParameters { TauMemMs = 20, VThresholdMv = 0.6, RefractoryMs = 2 };
        var plain = Population(new AlifParameters { TauMemMs = 20, VThresholdMv = 0.6, RefractoryMs = 2, TauAdaptMs = 500, BetaMv = 0 });
        var adaptive = Population(new AlifParameters { TauMemMs = 20, VThresholdMv = 0.6, RefractoryMs = 2, TauAdaptMs = 500, BetaMv = 0.3 });
        Console.WriteLine($"50 neurons, 2 s: {plain.Spikes} spikes with β = 0, {adaptive.Spikes} with β = 0.3 mV");
        Assert.True(plain.Spikes > 2000, $"{plain.Spikes} spikes without adaptation (2 s, 50 neurons)");
        Assert.True(adaptive.Spikes < 0.6 * plain.Spikes, $"{adaptive.Spikes} spikes with β = 0.3 vs {plain.Spikes} with β = 0");
        Assert.Equal(Population(lif).Digest, plain.Digest);
    }

    [Fact]
    public void BadParametersAreRefusedNamingTheField()
    {
        string Yaml(string model, string pars) => $"name: bad\nrun: {{dt_ms: 1, duration_ms: 1}}\npopulations:\n  - name: n\n    size: 2\n    model: {model}\n    params: {{{pars}}}\n";
        void Refused(string model, string pars, string field)
            => Assert.Contains(Assert.Throws<SpecException>(() => NetworkFile.Parse(Yaml(model, pars))).Errors, x => x.Field == $"populations[0].params.{field}");
        Refused("alif", "tau_mem_ms: 0", "tau_mem_ms");
        Refused("alif", "tau_adapt_ms: -1", "tau_adapt_ms");
        Refused("alif", "v_threshold_mv: 0", "v_threshold_mv");
        Refused("alif", "beta_mv: -0.1", "beta_mv");
        Refused("alif", "refractory_ms: -1", "refractory_ms");
        Refused("lif_eprop", "input_filter: 2", "input_filter");
        Refused("lif_eprop", "pseudo_derivative_gain: -1", "pseudo_derivative_gain");
        // lif_eprop has no adaptation parameters.
        Assert.Contains(Assert.Throws<SpecException>(() => NetworkFile.Parse(Yaml("lif_eprop", "beta_mv: 0.1"))).Errors, x => x.Field.StartsWith("populations[0].params", StringComparison.Ordinal));
        var drawn = Assert.Throws<SpecException>(() => NetworkCompiler.Compile(NetworkFile.Parse(Yaml("alif", "beta_mv: {uniform: [-1, 1]}"))));
        Assert.Contains("beta_mv", drawn.Message);
        foreach (string model in new[] { "alif", "lif_eprop" })
            Assert.Contains(Sim.EventCore.Precise.PreciseEngine.Unsupported(NetworkFile.Parse(Yaml(model, ""))), e => e.Message.Contains(model, StringComparison.Ordinal));
    }
}
