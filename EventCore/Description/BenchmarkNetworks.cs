namespace Sim.EventCore.Description;

/// <summary>Literature benchmark networks (MODELS.md §5), built with <see cref="NetworkBuilder"/>.</summary>
public static class BenchmarkNetworks
{
    /// <summary>
    /// CUBA (Vogels &amp; Abbott 2005; Brette et al. 2007, benchmark 2; Brian2 <c>examples/CUBA.py</c>):
    /// 3200 excitatory + 800 inhibitory LifExp neurons, Bernoulli connections p = 0.02 (autapses allowed),
    /// τ_m = 20, τ_e = 5, τ_i = 10 ms, V_t = −50, V_r = −60, E_L = −49 mV, t_ref = 5 ms, w_e = 1.62, w_i = −9 mV,
    /// delay one tick, dt = 0.1 ms, v₀ ~ U(V_r, V_t), no external input. Brian2 gives ≈ 5.4–5.8 Hz.
    /// </summary>
    /// <param name="durationMs">Simulated time.</param>
    /// <param name="seed">Seed.</param>
    /// <param name="scale">Scales the neuron counts (connection probability scaled by 1/scale to keep the in-degree).</param>
    public static NetworkSpec Cuba(double durationMs = 1000, ulong seed = 1, double scale = 1.0)
    {
        var b = new NetworkBuilder("cuba") { Run = new RunOptions { DtMs = 0.1, DurationMs = durationMs, Seed = seed } };
        var lif = new LifExpParameters
        {
            TauMemMs = 20, TauExcMs = 5, TauInhMs = 10, ELeakMv = -49, VThresholdMv = -50, VResetMv = -60,
            RefractoryMs = 5, VInitMv = Value.Uniform(-60, -50),
        };
        int nE = (int)Math.Round(3200 * scale), nI = (int)Math.Round(800 * scale);
        double p = Math.Min(1.0, 0.02 / scale);
        var exc = b.NeuronGroup("exc", nE, lif);
        var inh = b.NeuronGroup("inh", nI, lif);
        foreach (var target in new[] { exc, inh })
        {
            b.Synapses(exc, target, new Connectivity.FixedProbability(p), weight: 1.62);
            b.Synapses(inh, target, new Connectivity.FixedProbability(p), weight: -9.0);
        }
        b.Monitor(new SpikeMonitorSpec([exc, inh]));
        b.Monitor(new RateMonitorSpec(exc, 1.0));
        b.Monitor(new StateMonitorSpec(exc, ["v_mv"], [0, 1, 2], 0.1));
        return b.Build();
    }

    /// <summary>
    /// CUBA-PS (Brette et al. 2007, benchmark 4; MODELS.md §5.2): the CUBA neurons with delta synapses — 3200 excitatory +
    /// 800 inhibitory LifDelta neurons, Bernoulli p = 0.02 (autapses allowed), τ_m = 20 ms, V_t = −50, V_r = −60 mV,
    /// t_ref = 5 ms, jumps w_e = +0.25 mV, w_i = −2.25 mV, delay 0.125 ms, dt = 0.125 ms, v₀ ~ U(V_r, V_t). Like CUBA it
    /// has no external input: E_L = −49 mV lies above threshold, which keeps the activity self-sustained.
    /// Meant for <c>PreciseEngine</c> (continuous time); the grid engines run it on the 0.125 ms grid.
    /// </summary>
    /// <param name="durationMs">Simulated time (benchmark: 10 s).</param>
    /// <param name="seed">Seed.</param>
    /// <param name="scale">Scales the neuron counts (connection probability scaled by 1/scale to keep the in-degree).</param>
    public static NetworkSpec CubaPs(double durationMs = 10000, ulong seed = 1, double scale = 1.0)
    {
        var b = new NetworkBuilder("cuba-ps") { Run = new RunOptions { DtMs = 0.125, DurationMs = durationMs, Seed = seed } };
        var lif = new LifDeltaParameters
        {
            TauMemMs = 20, ELeakMv = -49, VThresholdMv = -50, VResetMv = -60, RefractoryMs = 5, VInitMv = Value.Uniform(-60, -50),
        };
        int nE = (int)Math.Round(3200 * scale), nI = (int)Math.Round(800 * scale);
        double p = Math.Min(1.0, 0.02 / scale);
        var exc = b.NeuronGroup("exc", nE, lif);
        var inh = b.NeuronGroup("inh", nI, lif);
        foreach (var target in new[] { exc, inh })
        {
            b.Synapses(exc, target, new Connectivity.FixedProbability(p), weight: 0.25, delayMs: 0.125);
            b.Synapses(inh, target, new Connectivity.FixedProbability(p), weight: -2.25, delayMs: 0.125);
        }
        b.Monitor(new SpikeMonitorSpec([exc, inh]));
        return b.Build();
    }
}
