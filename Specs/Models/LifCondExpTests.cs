using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Xunit;

namespace Sim.Specs.Models;

/// <summary>
/// Analytic checks of the conductance-based LIF (docs/models/lif_cond_exp.md): with frozen conductances the Euler map has
/// the exact fixed point v_∞ = (E_L + g_e·E_e + g_i·E_i + I)/(1 + g_e + g_i) and converges to the exponential solution
/// with error of first order in dt; conductances decay exactly by α = e^{−dt/τ} per tick; the inhibitory receptor takes
/// the magnitude of a negative weight. The COBA benchmark runs in its asynchronous irregular regime.
/// </summary>
public class LifCondExpTests
{
    private static NetworkSpec Neuron(double dtMs, double ge, double gi, double iExt, double tauSyn = 1e15, double durationMs = 5)
    {
        var b = new NetworkBuilder("one") { Run = new RunOptions { DtMs = dtMs, DurationMs = durationMs } };
        b.NeuronGroup("n", 1, new LifCondExpParameters
        {
            TauMemMs = 20, TauExcMs = tauSyn, TauInhMs = tauSyn, ELeakMv = -60, EExcMv = 0, EInhMv = -80,
            VThresholdMv = 50, VResetMv = -60, IExtMv = iExt, VInitMv = -70, GExcInit = ge, GInhInit = gi,
        });
        return b.Build();
    }

    private static double V(NetworkSpec spec, long ticks)
    {
        using var e = new EventEngine(NetworkCompiler.Compile(spec));
        e.Run(ticks);
        return e.GetVariable(0, "n", "v_mv")[0];
    }

    [Fact]
    public void FrozenConductancesRelaxToTheExactFixedPoint()
    {
        const double ge = 0.5, gi = 0.3, i = 4;
        double vInf = (-60 + ge * 0 + gi * -80 + i) / (1 + ge + gi) + 0.0;   // v_∞ in absolute mV, E_L = −60
        // In the frame u = v − E_L: u_∞ = (g_e·(E_e − E_L) + g_i·(E_i − E_L) + I)/(1 + g_e + g_i).
        double uInf = (ge * 60 + gi * -20 + i) / (1 + ge + gi);
        Assert.Equal(vInf, uInf - 60, 12);
        Assert.Equal(vInf, V(Neuron(0.1, ge, gi, i, durationMs: 2000), 20000), 8);
    }

    [Fact]
    public void EulerConvergesToTheExponentialWithFirstOrderError()
    {
        const double ge = 2, gi = 0.5, i = 0, t = 5;
        double rate = (1 + ge + gi) / 20.0;   // 1/ms
        double vInf = (-60 + gi * -80) / (1 + ge + gi);
        double exact = vInf + (-70 - vInf) * Math.Exp(-rate * t);
        double Error(double dt) => Math.Abs(V(Neuron(dt, ge, gi, i), (long)Math.Round(t / dt)) - exact);
        double e1 = Error(0.1), e2 = Error(0.05), e3 = Error(0.025);
        Assert.InRange(e1 / e2, 1.8, 2.2);
        Assert.InRange(e2 / e3, 1.8, 2.2);
        Assert.True(e1 < 0.2, $"error {e1} mV at dt = 0.1 ms");   // 0.13 mV for this 10 mV step at g_e + g_i = 2.5 (Euler: first order)
    }

    [Fact]
    public void ConductancesDecayExactlyAndInhibitionTakesTheMagnitude()
    {
        var b = new NetworkBuilder("decay") { Run = new RunOptions { DtMs = 0.1, DurationMs = 10 } };
        b.NeuronGroup("n", 1, new LifCondExpParameters { TauExcMs = 5, TauInhMs = 10, VThresholdMv = 50, VResetMv = -60 });
        b.SpikeGeneratorGroup("src", 2, [0, 1], [0.0, 0.0]);
        b.Synapses("src", "n", new Connectivity.PairList([0], [0]), 0.75);
        b.Synapses("src", "n", new Connectivity.PairList([1], [0]), -2.5);
        var net = NetworkCompiler.Compile(b.Build());
        using var e = new EventEngine(net);
        e.Run(2);   // the spikes of tick 0 arrive in tick 1 (delay one tick) and decay once in it
        double ae = Math.Exp(-0.1 / 5), ai = Math.Exp(-0.1 / 10);
        double ge = 0.75 * ae, gi = 2.5 * ai;
        Assert.Equal(ge, e.GetVariable(0, "n", "g_exc")[0]);
        Assert.Equal(gi, e.GetVariable(0, "n", "g_inh")[0]);
        for (int k = 0; k < 50; k++) { ge *= ae; gi *= ai; }
        e.Run(50);
        Assert.Equal(ge, e.GetVariable(0, "n", "g_exc")[0]);
        Assert.Equal(gi, e.GetVariable(0, "n", "g_inh")[0]);
    }

    /// <summary>
    /// What the Euler scheme and the receptors cannot take is refused by field and neuron: τ_m ≤ dt (even the leak alone
    /// overshoots) and E_i ≥ E_e drawn per neuron (a constant pair is refused by the validator before compilation).
    /// </summary>
    [Fact]
    public void AnEulerStepBeyondTauAndInvertedReversalsAreRefused()
    {
        static NetworkSpec One(LifCondExpParameters p)
        {
            var b = new NetworkBuilder("bad") { Run = new RunOptions { DtMs = 0.1, DurationMs = 1 } };
            b.NeuronGroup("n", 4, p);
            return b.Build();
        }
        var tau = Assert.Throws<SpecException>(() => NetworkCompiler.Compile(One(new LifCondExpParameters { TauMemMs = Value.Uniform(0.05, 0.2) })));
        Assert.Contains("tau_mem_ms", tau.Message);
        Assert.Contains("dt/τ_m < 1", tau.Message);
        var rev = Assert.Throws<SpecException>(() => NetworkCompiler.Compile(One(new LifCondExpParameters { EInhMv = Value.PerElement([-80.0, -80.0, 5.0, -80.0]) })));
        Assert.Contains("e_inh_mv", rev.Message);
        Assert.Contains("not below e_exc", rev.Message);
        Assert.Contains("e_inh_mv", Assert.Throws<SpecException>(() => NetworkCompiler.Compile(One(new LifCondExpParameters { EInhMv = 10 }))).Message);
        NetworkCompiler.Compile(One(new LifCondExpParameters { TauMemMs = 0.11 }));   // just above dt: accepted
    }
}
