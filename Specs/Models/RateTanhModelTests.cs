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
/// Checks of the leaky tanh rate unit (docs/models/rate_tanh.md; Murray 2019): the fixed tanh sequence against
/// <c>Math.Tanh</c> and its symmetries; relaxation to tanh of a constant input with leak dt/τ against the closed form;
/// the exact coupling u_B = w·h_A through weights; φ'(u) = 1 − tanh² u; a recurrent rate network (Murray's scale
/// 1.5/√N) the same on both grid engines and not silent; no spikes ever; refusals by field.
/// </summary>
public class RateTanhModelTests
{
    [Fact]
    public void TheTanhSequenceMatchesTheLibrary()
    {
        double worst = 0, worstRelative = 0;
        for (int k = -250_000; k <= 250_000; k++)
        {
            double x = k * 1e-4;
            double t = FixedTanh.Of(x);
            worst = Math.Max(worst, Math.Abs(t - Math.Tanh(x)));
            if (x != 0) worstRelative = Math.Max(worstRelative, Math.Abs(t - Math.Tanh(x)) / Math.Abs(Math.Tanh(x)));
            Assert.Equal(BitConverter.DoubleToInt64Bits(-t), BitConverter.DoubleToInt64Bits(FixedTanh.Of(-x)));   // odd, bit for bit
            Assert.True(Math.Abs(t) <= 1);
        }
        Console.WriteLine($"FixedTanh vs Math.Tanh on [-25, 25]: {worst:E2} absolute, {worstRelative:E2} relative");
        Assert.True(worst < 1e-15 && worstRelative < 2e-15, $"largest difference {worst:E2}, relative {worstRelative:E2}");
        Assert.Equal(1.0, FixedTanh.Of(1e300));
        Assert.Equal(-1.0, FixedTanh.Of(double.NegativeInfinity));
        Assert.True(double.IsNaN(FixedTanh.Of(double.NaN)));
        // The span form is the scalar one, element for element.
        double[] xs = [.. Enumerable.Range(-500, 1001).Select(i => i * 0.0517)], got = new double[xs.Length];
        FixedTanh.Of(xs, got, new double[xs.Length], new double[xs.Length]);
        for (int i = 0; i < xs.Length; i++) Assert.Equal(BitConverter.DoubleToInt64Bits(FixedTanh.Of(xs[i])), BitConverter.DoubleToInt64Bits(got[i]));
    }

    /// <summary>
    /// A unit with constant input I = 0.7, τ = 10 ms, dt = 1 ms (k = 0.1), h_0 = −0.5 on the grid 2^-40:
    /// h[t] = tanh I + (1 − k)^(t+1)·(h_0 − tanh I) within the grid's rounding (≤ 2^-41 per tick, damped by 1 − k:
    /// below 10^-11 in all), on both engines; u = I every tick.
    /// </summary>
    [Fact]
    public void AConstantInputRelaxesToItsTanhWithLeakOneOverTau()
    {
        var b = new NetworkBuilder("relax") { Run = new RunOptions { DtMs = 1, DurationMs = 100 } };
        b.NeuronGroup("r", 1, new RateTanhParameters { TauMs = 10, IExt = 0.7, HInit = -0.5, RateFractionBits = 40 });
        var net = NetworkCompiler.Compile(b.Build());
        foreach (var engine in new Func<ISimulationEngine>[] { () => new EventEngine(net), () => new DenseEngine(net) })
        {
            using var e = engine();
            for (int t = 0; t < 100; t++)
            {
                e.Run(1);
                double want = Math.Tanh(0.7) + Math.Pow(0.9, t + 1) * (-0.5 - Math.Tanh(0.7));
                Assert.True(Math.Abs(e.GetVariable(0, "r", "h")[0] - want) < 1e-11, $"tick {t}: h = {e.GetVariable(0, "r", "h")[0]}, closed form {want}");
                Assert.Equal(0.7, e.GetVariable(0, "r", "u")[0]);
            }
        }
    }

    /// <summary>
    /// Unit A (constant input) drives unit B through one weight w = 0.75 (exactly on the weight grid): in every tick
    /// u_B = w·h_A of the previous tick, exactly; a lif_exp target of a rate unit is refused (it emits no spikes).
    /// </summary>
    [Fact]
    public void RatesReachOtherUnitsThroughWeightsWithoutSpikes()
    {
        var b = new NetworkBuilder("pair") { Run = new RunOptions { DtMs = 1, DurationMs = 50 } };
        b.NeuronGroup("a", 1, new RateTanhParameters { TauMs = 5, IExt = 1.3 });
        b.NeuronGroup("b", 1, new RateTanhParameters { TauMs = 5 });
        b.Synapses("a", "b", new Connectivity.OneToOne(), 0.75);
        var net = NetworkCompiler.Compile(b.Build());
        using var e = new EventEngine(net);
        var rec = new Sim.Specs.Reference.SpikeRecorder();
        e.AddSpikeSink(rec);
        double hA = 0;
        for (int t = 0; t < 50; t++)
        {
            e.Run(1);
            Assert.Equal(0.75 * hA, e.GetVariable(0, "b", "u")[0]);
            hA = e.GetVariable(0, "a", "h")[0];
        }
        Assert.True(hA > 0.8 && e.GetVariable(0, "b", "h")[0] > 0.5);
        Assert.Empty(rec.Of(0));

        var bad = new NetworkBuilder("bad") { Run = new RunOptions { DtMs = 1, DurationMs = 5 } };
        bad.NeuronGroup("a", 1, new RateTanhParameters());
        bad.NeuronGroup("l", 1, new LifExpParameters());
        bad.Synapses("a", "l", new Connectivity.OneToOne(), 1.0);
        var error = Assert.Throws<SpecException>(() => bad.Build());
        Assert.Contains(error.Errors, x => x.Field == "projections[0].target" && x.Message.Contains("emits no spikes", StringComparison.Ordinal));
    }

    /// <summary>ψ = φ'(u) = 1 − tanh² u from the stored u (for RFLO), against <c>Math.Tanh</c>.</summary>
    [Fact]
    public void ThePseudoDerivativeIsOneMinusTanhSquared()
    {
        double[] u = [-30, -2, -0.5, 0, 0.1, 1, 3.5, 19];
        var psi = new double[u.Length];
        RateTanhModel.Instance.PseudoDerivative(null!, [new double[u.Length], u], psi);
        for (int i = 0; i < u.Length; i++) Assert.True(Math.Abs(1 - Math.Tanh(u[i]) * Math.Tanh(u[i]) - psi[i]) < 2e-15, $"u = {u[i]}: ψ = {psi[i]:R}");
        Assert.Equal(1.0, psi[3]);
    }

    /// <summary>
    /// Murray's recurrent network: 40 units, W_rec ~ 1.5·N(0, 1)/√N (all to all), τ = 10 ms, a sinusoid-free kick of
    /// h_init uniform in [−0.5, 0.5]: 500 ticks give the same bits on the event engine, the dense engine and in a batch
    /// of 2 on the dense engine, and the activity stays alive (the gain 1.5 exceeds the edge of chaos at 1).
    /// </summary>
    [Fact]
    public void ARecurrentRateNetworkIsTheSameOnBothEngines()
    {
        var b = new NetworkBuilder("rflo") { Run = new RunOptions { DtMs = 1, DurationMs = 500, Seed = 12, Batch = 2 } };
        b.NeuronGroup("r", 40, new RateTanhParameters { TauMs = 10, HInit = Value.Uniform(-0.5, 0.5) });
        b.Synapses("r", "r", new Connectivity.AllToAll(false), Value.Normal(0, 1.5 / Math.Sqrt(40)));
        var net = NetworkCompiler.Compile(b.Build());
        var ev = ReferenceModelTests.RunEngine(net, 500);
        var dense = DenseEquivalenceTests.RunDense(net, 500);
        Assert.Null(DenseEquivalenceTests.FirstDifference(ev, dense));
        var h = ev.State[0]["r.h"];
        Assert.True(h.Select(Math.Abs).Max() > 0.1, $"max |h| = {h.Select(Math.Abs).Max()} after 500 ticks");
        Assert.All(ev.Spikes, s => Assert.Empty(s));
    }

    /// <summary>A checkpoint whose h is off its grid or outside [−1, 1] is refused (the exact coupling relies on both).</summary>
    [Fact]
    public void ACheckpointWithAnOffGridRateIsRefused()
    {
        var b = new NetworkBuilder("ck") { Run = new RunOptions { DtMs = 1, DurationMs = 10 } };
        b.NeuronGroup("r", 3, new RateTanhParameters { IExt = 0.4, RateFractionBits = 12 });
        var net = NetworkCompiler.Compile(b.Build());
        Checkpoint saved;
        using (var e = new EventEngine(net)) { e.Run(5); saved = e.SaveCheckpoint(); }
        foreach (double bad in new[] { 0.1 + Math.ScaleB(1.0, -14), 1.5 })
        {
            saved.Instances[0].State["r.h"][1] = bad;
            using var e = new EventEngine(net);
            var error = Assert.Throws<InvalidDataException>(() => e.Restore(saved));
            Assert.Contains("rate grid", error.Message);
        }
    }

    [Fact]
    public void BadParametersAreRefusedNamingTheField()
    {
        string Yaml(string pars, string extra = "") => $"name: bad\nrun: {{dt_ms: 1, duration_ms: 1}}\npopulations:\n  - name: n\n    size: 2\n    model: rate_tanh\n    params: {{{pars}}}\n{extra}";
        void Refused(string pars, string field, string extra = "")
            => Assert.Contains(Assert.Throws<SpecException>(() => NetworkFile.Parse(Yaml(pars, extra))).Errors, x => x.Field == field);
        Refused("tau_ms: 0", "populations[0].params.tau_ms");
        Refused("h_init: 1.5", "populations[0].params.h_init");
        Refused("rate_fraction_bits: 4", "populations[0].params.rate_fraction_bits");
        Refused("", "populations[0].escape_noise", "    escape_noise: {delta_v: 0.5}\n");
        Refused("", "monitors[0].population", "monitors:\n  - {kind: rate, population: n, bin_ms: 1}\n");
        var leak = Assert.Throws<SpecException>(() => NetworkCompiler.Compile(NetworkFile.Parse(Yaml("tau_ms: 0.5"))));
        Assert.Contains("tau_ms", leak.Message);
        Assert.Contains(Sim.EventCore.Precise.PreciseEngine.Unsupported(NetworkFile.Parse(Yaml(""))), e => e.Message.Contains("rate_tanh", StringComparison.Ordinal));
    }
}
