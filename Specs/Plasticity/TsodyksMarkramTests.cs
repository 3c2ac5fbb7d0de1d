using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Plasticity;
using Sim.Plasticity;
using Xunit;

namespace Sim.Specs.Plasticity;

/// <summary>
/// Tsodyks–Markram short-term plasticity (docs/rules/tsodyks_markram.md): the efficacy computed at each presynaptic
/// spike is the one delivered d ticks later, even when the source fires again before it arrives, on both engines, and
/// it equals an independent transcription of NEST's <c>tsodyks2_synapse</c> recursion.
/// </summary>
public class TsodyksMarkramTests
{
    /// <summary>Reads u of neuron 0 of population 0 after every tick.</summary>
    private sealed class MembraneLog : IPlasticityRule, IRuleInstance
    {
        public readonly List<double> U = [];
        public void Bind(PlasticityBinding binding) { }
        public IRuleInstance CreateInstance(IPlasticityContext context) => this;
        public void OnStep(IPlasticityContext c) => U.Add(c.Variable(0, "u_mv")[0]);
    }

    /// <summary>The efficacies of NEST's recursion for spikes at <paramref name="ticks"/> (dt in ms), Math.Exp per interval.</summary>
    private static List<double> Efficacies(IReadOnlyList<long> ticks, double dtMs, TsodyksMarkramParameters p, double w)
    {
        var result = new List<double>();
        double u = p.U, x = 1;
        for (int n = 0; n < ticks.Count; n++)
        {
            if (n > 0)
            {
                double h = (ticks[n] - ticks[n - 1]) * dtMs;
                x = 1 + (x - x * u - 1) * Math.Exp(-h / p.TauRecMs);
                u = p.U + u * (1 - p.U) * (p.TauFacMs == 0 ? 0 : Math.Exp(-h / p.TauFacMs));
            }
            result.Add(w * x * u);
        }
        return result;
    }

    [Theory]
    [InlineData(0.5, 100.0, 0.0, 6)]      // depressing
    [InlineData(0.1, 50.0, 300.0, 9)]     // facilitating
    [InlineData(0.3, 200.0, 60.0, 3)]
    public void EachSpikeDeliversTheEfficacyOfItsEmission(double bigU, double tauRec, double tauFac, int delayTicks)
    {
        const double Dt = 1.0, W = 2.0;
        const int Bits = 20;
        var r = new Random(delayTicks);
        var times = new List<long>();
        for (long t = 3; t < 250; t += r.Next(1, delayTicks)) times.Add(t);   // intervals shorter than the delay: several in flight
        var b = new NetworkBuilder("tm-delay") { Run = new RunOptions { DtMs = Dt, DurationMs = 300 } };
        b.SpikeGeneratorGroup("pre", 1, [.. times.Select(_ => 0)], [.. times.Select(t => t * Dt)]);
        // τ_m so long that e^{−dt/τ_m} is 1.0 exactly: u is the exact sum of the arrivals, and never reaches the threshold.
        b.NeuronGroup("post", 1, new LifDeltaParameters { TauMemMs = 1e20, ELeakMv = 0, VResetMv = 0, VThresholdMv = 1e6, VInitMv = 0 });
        b.Synapses("pre", "post", new Connectivity.AllToAll(), W, delayTicks * Dt, projectionName: "stp", weightFractionBits: Bits);
        var net = NetworkCompiler.Compile(b.Build());
        var p = new TsodyksMarkramParameters { U = bigU, TauRecMs = tauRec, TauFacMs = tauFac };
        var expected = Efficacies(times, Dt, p, W);
        var traces = new List<List<double>>();
        foreach (var make in StdpTests.Engines)
        {
            using var engine = make(net);
            engine.AddPlasticityRule(new TsodyksMarkramRule("stp", p));
            var log = new MembraneLog();
            engine.AddPlasticityRule(log);
            engine.ResetState();
            engine.Run(300);
            traces.Add(log.U);
            double unit = Math.ScaleB(1.0, -Bits);
            int differsFromLatest = 0;
            for (int n = 0; n < times.Count; n++)
            {
                long arrival = times[n] + delayTicks;
                double delivered = log.U[(int)arrival] - log.U[(int)arrival - 1];
                Assert.True(Math.Abs(delivered - expected[n]) <= unit,
                    $"{engine.GetType().Name}: spike {n} at tick {times[n]} delivered {delivered:R} at {arrival}, efficacy {expected[n]:R}");
                // The latest spike before this arrival is a later one: delivering "the current weight" would be wrong.
                int latest = times.FindLastIndex(t => t < arrival);
                if (latest > n && Math.Abs(expected[latest] - expected[n]) > 4 * unit) differsFromLatest++;
            }
            Assert.True(differsFromLatest > times.Count / 3, $"only {differsFromLatest} of {times.Count} arrivals overtaken by a spike of another efficacy");
        }
        Assert.Equal(traces[0], traces[1]);
    }

    [Fact]
    public void BadParametersNameTheirField()
    {
        var e = Assert.Throws<ArgumentException>(() => new TsodyksMarkramRule("x", new TsodyksMarkramParameters { U = 0, TauRecMs = -1, TauFacMs = double.NaN }));
        Assert.Contains("u must be in (0, 1]", e.Message);
        Assert.Contains("tau_rec_ms", e.Message);
        Assert.Contains("tau_fac_ms", e.Message);
        var s = Assert.Throws<ArgumentException>(() => new StdpRule("x", new StdpParameters { TauPlusMs = 0, WMax = 0, MuMinus = -1 }));
        Assert.Contains("tau_plus_ms", s.Message);
        Assert.Contains("w_max", s.Message);
        Assert.Contains("mu_minus", s.Message);
        var t = Assert.Throws<ArgumentException>(() => new TripletStdpRule("x", new TripletStdpParameters { TauYMs = 0, A3Plus = -1 }));
        Assert.Contains("tau_y_ms", t.Message);
        Assert.Contains("a3_plus", t.Message);
    }
}
