using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Specs.Reference;
using Xunit;

namespace Sim.Specs.EventCore;

/// <summary>Single neurons against closed-form solutions.</summary>
public class AnalyticTests
{
    private static double Rel(double a, double b) => Math.Abs(a - b) / Math.Max(1e-300, Math.Abs(b));

    [Theory]
    [InlineData(5.0, 20.0)]
    [InlineData(20.0, 20.0)]   // τ_e = τ_m: the limit propagator h/τ_m·α_m
    [InlineData(1.0, 10.0)]
    public void LifExpPostsynapticPotentialMatchesClosedForm(double tauExc, double tauMem)
    {
        // One input spike (weight 2 mV, exactly on the weight grid) arrives at tick 10; after tick k ≥ 10 the
        // state is at time (k + 1)·dt and v − E_L = w·τ_e/(τ_e − τ_m)·(e^{−s/τ_e} − e^{−s/τ_m}), s = (k + 1 − 10)·dt.
        const double dt = 0.1, w = 2.0;
        var b = new NetworkBuilder { Run = new RunOptions { DtMs = dt } };
        var n = b.NeuronGroup("n", 1, new LifExpParameters { TauMemMs = tauMem, TauExcMs = tauExc, ELeakMv = -70, VThresholdMv = -40 });
        var inp = b.SpikeGeneratorGroup("in", 1, [0], [0.9]);
        b.Synapses(inp, n, new Connectivity.OneToOne(), w, 0.1);
        var net = NetworkCompiler.Compile(b.Build());
        using var engine = new EventEngine(net);
        engine.Run(10);
        Assert.Equal(-70.0, engine.GetVariable(0, "n", "v_mv")[0]);
        double worst = 0, peak = 0;
        for (int k = 10; k < 600; k++)
        {
            engine.Run(1);
            double s = (k + 1 - 10) * dt;
            double expected = tauExc == tauMem
                ? w * s / tauMem * Math.Exp(-s / tauMem)
                : w * tauExc / (tauExc - tauMem) * (Math.Exp(-s / tauExc) - Math.Exp(-s / tauMem));
            double got = engine.GetVariable(0, "n", "v_mv")[0] + 70.0;
            worst = Math.Max(worst, Math.Abs(got - expected));
            peak = Math.Max(peak, Math.Abs(expected));
            double g = engine.GetVariable(0, "n", "g_exc_mv")[0];
            Assert.True(Rel(g, w * Math.Exp(-s / tauExc)) < 1e-12, $"g_exc at tick {k}: {g}");
        }
        Assert.True(worst < 1e-12 * peak, $"worst error of the PSP {worst:E2} mV, peak {peak:F4} mV");
    }

    [Fact]
    public void LifExpConstantCurrentApproachesSteadyState()
    {
        // v(t) = E_L + I·(1 − e^{−t/τ_m}) from v(0) = E_L.
        const double dt = 0.1, current = 7.5;
        var b = new NetworkBuilder { Run = new RunOptions { DtMs = dt } };
        b.NeuronGroup("n", 1, new LifExpParameters { TauMemMs = 20, ELeakMv = -70, VThresholdMv = -50, IExtMv = current });
        using var engine = new EventEngine(NetworkCompiler.Compile(b.Build()));
        for (int k = 1; k <= 2000; k++)
        {
            engine.Run(1);
            double expected = current * (1 - Math.Exp(-k * dt / 20));
            Assert.True(Rel(engine.GetVariable(0, "n", "v_mv")[0] + 70, expected) < 1e-11, $"tick {k}");
        }
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.01)]
    public void LifDeltaSpikeTimesUnderConstantDriveMatchTheFormula(double dt)
    {
        // u(t) = Iτ(1 − e^{−t/τ}) reaches θ = V_t − E_L at t* = −τ ln(1 − θ/(Iτ)); after a spike u restarts at
        // u_r = V_r − E_L once t_ref has passed: t_n+1 = t_n + t_ref + τ ln((Iτ − u_r)/(Iτ − θ)).
        // The grid labels a spike with the end of its tick, so each time is within one dt of the exact one (after
        // the refractory period, which rounds to whole ticks).
        const double tau = 10, current = 2.0, tRef = 2.0, el = -65, vt = -50, vr = -70;
        var b = new NetworkBuilder { Run = new RunOptions { DtMs = dt } };
        b.NeuronGroup("n", 1, new LifDeltaParameters { TauMemMs = tau, ELeakMv = el, VThresholdMv = vt, VResetMv = vr, RefractoryMs = tRef, IExtMvPerMs = current });
        var net = NetworkCompiler.Compile(b.Build());
        using var engine = new EventEngine(net);
        var rec = new SpikeRecorder();
        engine.AddSpikeSink(rec);
        engine.RunMs(200);
        var times = rec.Of(0).Select(s => (s.Tick + 1) * dt).ToArray();
        double theta = vt - el, ur = vr - el, drive = current * tau;
        double first = -tau * Math.Log(1 - theta / drive);
        double isi = tRef + tau * Math.Log((drive - ur) / (drive - theta));
        Assert.True(times.Length > 5);
        for (int k = 0; k < times.Length; k++)
        {
            // The error of the k-th spike accumulates at most one dt per spike (each restart is on the grid).
            double expected = first + k * isi;
            Assert.True(Math.Abs(times[k] - expected) <= (k + 1) * dt + 1e-9, $"spike {k}: {times[k]} vs {expected}");
        }
        for (int k = 1; k < times.Length; k++)
            Assert.True(Math.Abs(times[k] - times[k - 1] - isi) <= dt + 1e-9, $"ISI {k}: {times[k] - times[k - 1]} vs {isi}");
    }

    [Fact]
    public void GoalLifStepMatchesTheAuthorsLoop() => GoalLifAgainstLiteralLoop(quantized: true);

    [Fact]
    public void GoalLifTraceGridIsFineEnoughForTheUnquantizedDynamics() => GoalLifAgainstLiteralLoop(quantized: false);

    /// <summary>
    /// The literal loop with the traces on the 2^-20 grid (as the engine) must match bit for bit; without the grid
    /// (plain float64, as the authors' code) it must give the same spikes and voltages within 1e-4.
    /// </summary>
    private static void GoalLifAgainstLiteralLoop(bool quantized)
    {
        // docs/models/goal_lif.md transcribed literally for two neurons driven by one clock channel, coupled to each other
        // through hz (the paper has no self-connections).
        const double dt = 1.0;
        var b = new NetworkBuilder { Run = new RunOptions { DtMs = dt } };
        var g = b.NeuronGroup("g", 2, new GoalLifParameters());
        var clock = b.Clock("clock", 1, 60);
        b.Synapses(clock, g, new Connectivity.AllToAll(), Value.PerElement(12.0, 9.5), 1.0);
        b.Synapses(g, g, new Connectivity.PairList([0, 1], [1, 0]), Value.PerElement(3.25, -2.5), 1.0);
        var net = NetworkCompiler.Compile(b.Build());
        using var engine = new EventEngine(net);
        var rec = new SpikeRecorder();
        engine.AddSpikeSink(rec);
        engine.Run(100);

        double am = Math.Exp(-1.0 / 8), asyn = Math.Exp(-1.0 / 2);
        double grid = Math.Pow(2, 20);
        double Q(double x) => quantized ? Math.Round(x * grid, MidpointRounding.ToEven) / grid : x;
        double[] v = [-4, -4], z = [0, 0], hz = [0, 0], ej = [0, 0];
        double[] win = [12.0, 9.5];
        var spikes = new List<(long, int)>();
        for (int t = 0; t < 100; t++)
        {
            double x = t >= 1 && t <= 60 ? 1 : 0;   // the clock fires in ticks 0..59; delay one tick
            for (int i = 0; i < 2; i++) hz[i] = Q(asyn * hz[i] + (1 - asyn) * z[i]);
            for (int i = 0; i < 2; i++) ej[i] = Q(am * ej[i] + (1 - am) * hz[i]);
            double[] current = [win[0] * x + 3.25 * 0 + -2.5 * hz[1] + -4, win[1] * x + 3.25 * hz[0] + -4];
            for (int i = 0; i < 2; i++)
            {
                v[i] = am * v[i] + (1 - am) * current[i] + -20 * z[i];
                z[i] = v[i] > 0 ? 1 : 0;
                if (z[i] > 0) spikes.Add((t, i));
            }
        }
        Assert.True(spikes.Count > 10, $"the literal loop produced only {spikes.Count} spikes");
        Assert.Equal(spikes, rec.Of(0));
        if (quantized)
        {
            Assert.True(Rel(engine.GetVariable(0, "g", "v")[0], v[0]) < 1e-12);
            Assert.Equal(hz[1], engine.GetVariable(0, "g", "hz")[1]);
        }
        else
        {
            Assert.True(Math.Abs(engine.GetVariable(0, "g", "v")[0] - v[0]) < 1e-4);
            Assert.True(Math.Abs(engine.GetVariable(0, "g", "hz")[1] - hz[1]) < 1e-5);
        }
    }
}
