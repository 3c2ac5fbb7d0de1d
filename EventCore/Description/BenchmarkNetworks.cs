namespace Sim.EventCore.Description;

/// <summary>Literature benchmark networks (docs/benchmarks.md), built with <see cref="NetworkBuilder"/>.</summary>
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
    /// COBA (Vogels &amp; Abbott 2005; Brette et al. 2007, benchmark 1, as in its Brian script): 3200 excitatory + 800
    /// inhibitory conductance-based LIF neurons (<see cref="LifCondExpParameters"/>), Bernoulli connections p = 0.02
    /// (autapses allowed), τ_m = 20, τ_e = 5, τ_i = 10 ms, E_L = V_r = −60, V_t = −50, E_e = 0, E_i = −80 mV, t_ref = 5 ms,
    /// conductance increments w_e = 0.6 and w_i = 6.7 (units of the leak conductance; the inhibitory weight is written −6.7,
    /// the sign choosing the receptor), delay one tick, dt = 0.1 ms, no external input; the activity is started by the
    /// benchmark's random initial state v₀ ~ N(−65, 5) mV, g_e ~ N(4, 1.5), g_i ~ N(20, 12) (not truncated, as in the script).
    /// </summary>
    /// <param name="durationMs">Simulated time.</param>
    /// <param name="seed">Seed.</param>
    /// <param name="scale">Scales the neuron counts (connection probability scaled by 1/scale to keep the in-degree).</param>
    public static NetworkSpec Coba(double durationMs = 1000, ulong seed = 1, double scale = 1.0)
    {
        var b = new NetworkBuilder("coba") { Run = new RunOptions { DtMs = 0.1, DurationMs = durationMs, Seed = seed } };
        var lif = new LifCondExpParameters
        {
            TauMemMs = 20, TauExcMs = 5, TauInhMs = 10, ELeakMv = -60, EExcMv = 0, EInhMv = -80, VThresholdMv = -50, VResetMv = -60,
            RefractoryMs = 5, VInitMv = Value.Normal(-65, 5), GExcInit = Value.Normal(4, 1.5), GInhInit = Value.Normal(20, 12),
        };
        int nE = (int)Math.Round(3200 * scale), nI = (int)Math.Round(800 * scale);
        double p = Math.Min(1.0, 0.02 / scale);
        var exc = b.NeuronGroup("exc", nE, lif);
        var inh = b.NeuronGroup("inh", nI, lif);
        foreach (var target in new[] { exc, inh })
        {
            b.Synapses(exc, target, new Connectivity.FixedProbability(p), weight: 0.6);
            b.Synapses(inh, target, new Connectivity.FixedProbability(p), weight: -6.7);
        }
        b.Monitor(new SpikeMonitorSpec([exc, inh]));
        b.Monitor(new RateMonitorSpec(exc, 1.0));
        b.Monitor(new StateMonitorSpec(exc, ["v_mv", "g_exc", "g_inh"], [0, 1, 2], 0.1));
        return b.Build();
    }

    /// <summary>
    /// CUBA-PS (Brette et al. 2007, benchmark 4; docs/benchmarks.md): the CUBA neurons with delta synapses — 3200 excitatory +
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

    /// <summary>
    /// Brunel (2000) sparse random network of LifDelta neurons (docs/benchmarks.md), in the NEST <c>brunel_delta</c> form:
    /// N_E = 10 000·scale excitatory and N_I = 2 500·scale inhibitory neurons; every neuron receives exactly
    /// C_E = ε·N_E excitatory and C_I = ε·N_I inhibitory inputs (ε = 0.1, fixed in-degree, autapses and multapses
    /// allowed), so the in-degrees scale with <paramref name="scale"/> as in NEST's scalable version (scale 0.2: 2 500
    /// neurons, C_E = 200, C_I = 50). τ = 20 ms, θ = 20 mV, V_r = 10 mV, E_L = 0, refractory 2 ms, J = 0.1 mV,
    /// inhibitory weight −g·J, delay 1.5 ms, dt 0.1 ms, v₀ ~ U(0, θ).
    /// External drive: one Poisson source per neuron (one_to_one, weight J) at rate C_ext·ν_ext with C_ext = C_E and
    /// ν_ext = (ν_ext/ν_thr)·ν_thr, ν_thr = θ/(J·C_E·τ). The mean external input J·C_ext·ν_ext·τ = (ν_ext/ν_thr)·θ does not
    /// depend on the scale; the recurrent input and its fluctuations shrink with the in-degree, so a reduced scale is a
    /// smaller network in the same regime family, not the same dynamics.
    /// </summary>
    /// <param name="regime">Brunel's regime: A (g 3, ν_ext/ν_thr 2), B (6, 4), C (5, 2), D (4.5, 0.9).</param>
    /// <param name="scale">Network size relative to 12 500 neurons (in (0, 1]).</param>
    /// <param name="durationMs">Simulated time.</param>
    /// <param name="seed">Seed.</param>
    public static NetworkSpec Brunel(BrunelRegime regime = BrunelRegime.A, double scale = 0.2, double durationMs = 1000, ulong seed = 1)
    {
        if (!(scale > 0) || scale > 1) throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be in (0, 1]");
        (double g, double eta) = regime switch
        {
            BrunelRegime.A => (3.0, 2.0),
            BrunelRegime.B => (6.0, 4.0),
            BrunelRegime.C => (5.0, 2.0),
            BrunelRegime.D => (4.5, 0.9),
            _ => throw new ArgumentOutOfRangeException(nameof(regime), regime, "regime must be A, B, C or D"),
        };
        const double J = 0.1, theta = 20.0, tauMs = 20.0, epsilon = 0.1;
        int nE = Math.Max(1, (int)Math.Round(10000 * scale)), nI = Math.Max(1, (int)Math.Round(2500 * scale));
        int cE = Math.Max(1, (int)Math.Round(epsilon * nE)), cI = Math.Max(1, (int)Math.Round(epsilon * nI));
        double nuThrPerMs = theta / (J * cE * tauMs);
        double externalRateHz = cE * eta * nuThrPerMs * 1000.0;   // C_ext·ν_ext, C_ext = C_E
        var b = new NetworkBuilder($"brunel-{regime}") { Run = new RunOptions { DtMs = 0.1, DurationMs = durationMs, Seed = seed } };
        var lif = new LifDeltaParameters
        {
            TauMemMs = tauMs, ELeakMv = 0, VThresholdMv = theta, VResetMv = 10, RefractoryMs = 2, VInitMv = Value.Uniform(0, theta),
        };
        var exc = b.NeuronGroup("exc", nE, lif);
        var inh = b.NeuronGroup("inh", nI, lif);
        var extE = b.PoissonGroup("ext_exc", nE, externalRateHz);
        var extI = b.PoissonGroup("ext_inh", nI, externalRateHz);
        b.Synapses(extE, exc, new Connectivity.OneToOne(), weight: J, delayMs: 0.1);
        b.Synapses(extI, inh, new Connectivity.OneToOne(), weight: J, delayMs: 0.1);
        foreach (var target in new[] { exc, inh })
        {
            b.Synapses(exc, target, new Connectivity.FixedInDegree(cE), weight: J, delayMs: 1.5);
            b.Synapses(inh, target, new Connectivity.FixedInDegree(cI), weight: -g * J, delayMs: 1.5);
        }
        b.Monitor(new SpikeMonitorSpec([exc, inh]));
        return b.Build();
    }

    /// <summary>
    /// The low-rate scaling family (docs/benchmarks.md): an input-driven CUBA-like network whose mean rate is set by its
    /// Poisson drive, from ~10 Hz down to ~0.01 Hz at a fixed number of neurons.
    /// <para>
    /// Neurons: LifExp with the CUBA time constants (τ_m 20, τ_e 5, τ_i 10 ms, refractory 5 ms, V_t −50, V_r −60 mV) but
    /// E_L = −60 mV, 10 mV below threshold, so the network is silent without input. Recurrent synapses: 80 % excitatory,
    /// Bernoulli p = 80/N (in-degree 80 as in CUBA at N = 4000), w_e = 1.62 mV (CUBA) and w_i = −3.24 mV, chosen so
    /// that the mean recurrent input is zero (C_E·w_e·τ_e = C_I·|w_i|·τ_i); a single recurrent PSP peaks at 0.25 mV
    /// (exc) or 0.81 mV (inh), far below the 10 mV gap, so recurrent input alone almost never makes a neuron fire.
    /// </para>
    /// <para>
    /// Drive and calibration (analytic): each neuron has its own Poisson source (one_to_one, weight W = 100 mV into g_e).
    /// One input spike raises v by up to 0.157·W ≈ 15.7 mV, crossing threshold after ≈ 2.8 ms; what remains of g_e after
    /// the 5 ms refractory period raises v by at most ≈ 3.3 mV, far below threshold: one input spike makes one output spike. The source
    /// rate is therefore the requested rate. Known deviations: input spikes closer than ≈ 8 ms merge into one output
    /// spike (a loss of a few % at 10 Hz, negligible at 1 Hz and below) and recurrent fluctuations (σ ≈ 2 mV at 10 Hz)
    /// add or remove a little; the tests check the measured rate against the request.
    /// </para>
    /// Synaptic events per simulated second ≈ N·r·(80 + 1): the work that carries information scales with r.
    /// </summary>
    /// <param name="rateHz">Requested mean rate (Hz), &gt; 0.</param>
    /// <param name="neurons">Number of neurons (≥ 100).</param>
    /// <param name="durationMs">Simulated time.</param>
    /// <param name="seed">Seed.</param>
    public static NetworkSpec LowRate(double rateHz = 1.0, int neurons = 4000, double durationMs = 1000, ulong seed = 1)
    {
        if (!(rateHz > 0) || double.IsInfinity(rateHz)) throw new ArgumentOutOfRangeException(nameof(rateHz), rateHz, "rate must be > 0");
        if (neurons < 100) throw new ArgumentOutOfRangeException(nameof(neurons), neurons, "at least 100 neurons");
        const double we = 1.62, tauE = 5, tauI = 10, inDegree = 80, driveWeight = 100;
        int nE = (int)Math.Round(0.8 * neurons), nI = neurons - nE;
        double p = Math.Min(1.0, inDegree / neurons);
        double wi = -we * (0.8 * tauE) / (0.2 * tauI);   // −3.24 mV: zero mean recurrent input
        var b = new NetworkBuilder($"lowrate-{rateHz.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)}Hz")
        {
            Run = new RunOptions { DtMs = 0.1, DurationMs = durationMs, Seed = seed },
        };
        var lif = new LifExpParameters
        {
            TauMemMs = 20, TauExcMs = tauE, TauInhMs = tauI, ELeakMv = -60, VThresholdMv = -50, VResetMv = -60,
            RefractoryMs = 5, VInitMv = Value.Uniform(-60, -55),
        };
        var exc = b.NeuronGroup("exc", nE, lif);
        var inh = b.NeuronGroup("inh", nI, lif);
        var dE = b.PoissonGroup("drive_exc", nE, rateHz);
        var dI = b.PoissonGroup("drive_inh", nI, rateHz);
        b.Synapses(dE, exc, new Connectivity.OneToOne(), weight: driveWeight);
        b.Synapses(dI, inh, new Connectivity.OneToOne(), weight: driveWeight);
        foreach (var target in new[] { exc, inh })
        {
            b.Synapses(exc, target, new Connectivity.FixedProbability(p), weight: we);
            b.Synapses(inh, target, new Connectivity.FixedProbability(p), weight: wi);
        }
        b.Monitor(new SpikeMonitorSpec([exc, inh]));
        return b.Build();
    }
}

/// <summary>The four regimes of Brunel (2000), Fig. 8, as (g, ν_ext/ν_thr).</summary>
public enum BrunelRegime
{
    /// <summary>Synchronous regular (neurons fire regularly at high rates): g = 3, ν_ext/ν_thr = 2.</summary>
    A,
    /// <summary>Synchronous irregular, fast global oscillation: g = 6, ν_ext/ν_thr = 4.</summary>
    B,
    /// <summary>Asynchronous irregular (stationary global activity): g = 5, ν_ext/ν_thr = 2.</summary>
    C,
    /// <summary>Synchronous irregular, slow global oscillation, low rates: g = 4.5, ν_ext/ν_thr = 0.9.</summary>
    D,
}
