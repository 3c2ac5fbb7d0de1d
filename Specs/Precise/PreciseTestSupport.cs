using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Precise;

namespace Sim.Specs.Precise;

/// <summary>Single-neuron networks driven by explicit input spikes, and helpers for closed-form comparisons.</summary>
internal static class PreciseTestSupport
{
    /// <summary>Relative error |got − expected|/|expected|.</summary>
    public static double Rel(double got, double expected) => Math.Abs(got - expected) / Math.Abs(expected);

    /// <summary>
    /// One neuron "n" with the given parameters; input spike k (source k of "in") at <paramref name="times"/>[k] with weight
    /// <paramref name="weights"/>[k] (choose values on the weight grid) and delay <paramref name="delayMs"/>.
    /// </summary>
    public static NetworkSpec Neuron(NeuronParameters p, double[] times, double[] weights, double delayMs = 0.5, double dt = 0.1, int size = 1)
    {
        var b = new NetworkBuilder("single") { Run = new RunOptions { DtMs = dt, DurationMs = 100 } };
        var n = b.NeuronGroup("n", size, p);
        if (times.Length > 0)
        {
            int k = times.Length;
            var inp = b.SpikeGeneratorGroup("in", k, [.. Enumerable.Range(0, k)], times);
            b.Synapses(inp, n, new Connectivity.PairList([.. Enumerable.Range(0, k)], new int[k]), Value.PerElement(weights), delayMs);
        }
        return b.Build();
    }

    /// <summary>Runs a spec on the precise engine for <paramref name="ms"/> and returns the spike times of neuron 0.</summary>
    public static double[] Spikes(NetworkSpec spec, double ms, out PreciseEngine engine)
    {
        engine = new PreciseEngine(NetworkCompiler.Compile(spec, exactDelays: true));
        var rec = new PreciseSpikeRecorder();
        engine.AddSpikeSink(rec);
        engine.RunMs(ms);
        return rec.TimesOf(0);
    }

    /// <summary>Spike times of neuron 0 after <paramref name="ms"/>.</summary>
    public static double[] Spikes(NetworkSpec spec, double ms) => Spikes(spec, ms, out _);

    /// <summary>Bisection of a continuous f on [lo, hi] with f(lo) ≤ 0 &lt; f(hi), to the last bit.</summary>
    public static double Bisect(Func<double, double> f, double lo, double hi)
    {
        for (int it = 0; it < 2000; it++)
        {
            double m = 0.5 * (lo + hi);
            if (m <= lo || m >= hi) break;
            if (f(m) > 0) hi = m; else lo = m;
        }
        return hi;
    }

    /// <summary>Closed-form LifExp PSP of a unit current at h ≥ 0: κ(e^{−h/τ_x} − e^{−h/τ_m}), or (h/τ)e^{−h/τ} when τ_x = τ_m.</summary>
    public static double Kernel(double h, double tauM, double tauX)
        => tauX == tauM ? h / tauM * Math.Exp(-h / tauM) : tauX / (tauX - tauM) * (Math.Exp(-h / tauX) - Math.Exp(-h / tauM));
}
