using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Xunit;

namespace Sim.Specs.Models;

/// <summary>
/// Analytic checks of the double-exponential current LIF (docs/models/lif_exp2.md): after one arrival of weight w the
/// current is w·N·(e^{−t/τ_d} − e^{−t/τ_r}) and peaks at w; the membrane follows the closed form of the linear system
/// exactly (to rounding); rise ≥ decay is refused naming the field; the precise engine refuses the model by name.
/// </summary>
public class LifExp2ModelTests
{
    private const double Dt = 0.01, TauM = 20, TauR = 1.5, TauD = 6, W = 2;

    private static EventEngine OneArrival()
    {
        var b = new NetworkBuilder("psc") { Run = new RunOptions { DtMs = Dt, DurationMs = 50 } };
        b.NeuronGroup("n", 1, new LifExp2Parameters { TauMemMs = TauM, TauRiseExcMs = TauR, TauDecayExcMs = TauD, VThresholdMv = 100, VResetMv = -60 });
        b.SpikeGeneratorGroup("src", 1, [0], [0.0]);
        b.Synapses("src", "n", new Connectivity.PairList([0], [0]), W);
        var e = new EventEngine(NetworkCompiler.Compile(b.Build()));
        e.Run(1);   // the spike of tick 0 arrives at the start of tick 1 (one-tick delay)
        return e;
    }

    [Fact]
    public void ThePscAndTheMembraneFollowTheClosedForm()
    {
        double n = LifExp2Model.PeakNormalisation(TauR, TauD);
        double tp = TauD * TauR / (TauD - TauR) * Math.Log(TauD / TauR);
        Assert.Equal(W, W * n * (Math.Exp(-tp / TauD) - Math.Exp(-tp / TauR)), 12);
        using var e = OneArrival();
        double peak = 0, worstI = 0, worstU = 0;
        for (int m = 1; m <= 3000; m++)
        {
            e.Run(1);
            double t = m * Dt;
            double current = e.GetVariable(0, "n", "d_exc_mv")[0] - e.GetVariable(0, "n", "r_exc_mv")[0];
            double expected = W * n * (Math.Exp(-t / TauD) - Math.Exp(-t / TauR));
            double u = W * n * (TauD / (TauD - TauM) * (Math.Exp(-t / TauD) - Math.Exp(-t / TauM)) - TauR / (TauR - TauM) * (Math.Exp(-t / TauR) - Math.Exp(-t / TauM)));
            worstI = Math.Max(worstI, Math.Abs(current - expected));
            worstU = Math.Max(worstU, Math.Abs(e.GetVariable(0, "n", "v_mv")[0] - (-60 + u)));
            peak = Math.Max(peak, current);
        }
        Assert.True(worstI < 1e-12, $"PSC differs from the closed form by {worstI:E2} mV");
        Assert.True(worstU < 1e-11, $"membrane differs from the closed form by {worstU:E2} mV");
        Assert.InRange(peak, W * (1 - 1e-4), W);   // sampled every 0.01 ms around the peak at t_p
    }

    [Fact]
    public void ARiseNotBelowTheDecayIsRefusedNamingTheField()
    {
        string Yaml(string pars) => $"name: bad\nrun: {{dt_ms: 0.1, duration_ms: 1}}\npopulations:\n  - name: n\n    size: 2\n    model: lif_exp2\n    params: {{{pars}}}\n";
        Assert.Contains(Assert.Throws<SpecException>(() => NetworkFile.Parse(Yaml("tau_rise_exc_ms: 5, tau_decay_exc_ms: 5"))).Errors, x => x.Field == "populations[0].params.tau_rise_exc_ms");
        Assert.Contains(Assert.Throws<SpecException>(() => NetworkFile.Parse(Yaml("tau_decay_inh_ms: -1"))).Errors, x => x.Field == "populations[0].params.tau_decay_inh_ms");
        var perNeuron = Assert.Throws<SpecException>(() => NetworkCompiler.Compile(NetworkFile.Parse(Yaml("tau_rise_inh_ms: [1, 12]"))));
        Assert.Contains("tau_rise_inh_ms", perNeuron.Message);
        Assert.Contains(Sim.EventCore.Precise.PreciseEngine.Unsupported(NetworkFile.Parse(Yaml(""))), e => e.Message.Contains("lif_exp2", StringComparison.Ordinal));
    }
}
