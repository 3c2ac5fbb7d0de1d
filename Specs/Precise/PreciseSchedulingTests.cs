using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Precise;
using Xunit;

namespace Sim.Specs.Precise;

/// <summary>
/// The precise engine's shortcuts change no result: LifExp predictions that first schedule a closed-form lower bound
/// of the crossing (and run the root search only if the bound comes due) give the same spikes, event counts and final
/// state as running the root search at every prediction.
/// </summary>
public class PreciseSchedulingTests
{
    /// <summary>
    /// A random recurrent LifExp network with exact heterogeneous delays: drives below and above threshold (self-driven
    /// neurons, as in CUBA), τ_x = τ_m in some cases, refractoriness 0 to 3 ms, Poisson and spike-time inputs,
    /// excitatory and inhibitory recurrent weights, and initial conductances of both signs.
    /// </summary>
    internal static NetworkSpec RandomNetwork(int seed)
    {
        var r = new Random(seed);
        var b = new NetworkBuilder("sched") { Run = new RunOptions { DtMs = 0.1, Seed = (ulong)seed + 1 } };
        int n = r.Next(20, 90);
        double tm = r.Next(3) switch { 0 => 10, 1 => 20, _ => 15.5 };
        double te = r.Next(3) switch { 0 => tm, 1 => 5, _ => 2.5 };
        double ti = r.Next(2) == 0 ? 10 : tm;
        var pop = b.NeuronGroup("n", n, new LifExpParameters
        {
            TauMemMs = tm, TauExcMs = te, TauInhMs = ti,
            ELeakMv = -49 - 3 * r.NextDouble(), VThresholdMv = -50, VResetMv = -60,
            RefractoryMs = r.Next(3) switch { 0 => 0, 1 => 2, _ => 3 },
            IExtMv = Value.Uniform(-2, 4 * r.NextDouble()),
            VInitMv = Value.Uniform(-60, -50),
            GExcInitMv = Value.Uniform(0, 3), GInhInitMv = Value.Uniform(-3, 0),
        });
        var poisson = b.PoissonGroup("p", r.Next(5, 30), 50 + 400 * r.NextDouble(), startMs: 2 * r.NextDouble());
        b.Synapses(poisson, pop, new Connectivity.FixedProbability(0.2), Value.Uniform(0.2, 2.5), Value.Uniform(0.1, 2.0));
        int k = r.Next(3, 12);
        var times = Enumerable.Range(0, k).Select(_ => Math.Round(r.NextDouble() * 150 * 64) / 64).ToArray();
        var gen = b.SpikeGeneratorGroup("g", k, [.. Enumerable.Range(0, k)], times);
        b.Synapses(gen, pop, new Connectivity.FixedProbability(0.5), 1.5, 0.5);
        b.Synapses(pop, pop, new Connectivity.FixedProbability(0.1 + 0.1 * r.NextDouble()), Value.Uniform(-4, 2), Value.Uniform(0.1, 1.5));
        return b.Build();
    }

    private static (List<(double, int)> Spikes, long Events, double[] V, double[] Ge, double[] Gi, long Searches) Run(
        CompiledNetwork net, bool eager, params double[] parts)
    {
        var e = new PreciseEngine(net) { EagerPredictions = eager };
        var rec = new PreciseSpikeRecorder();
        e.AddSpikeSink(rec);
        foreach (double d in parts) e.RunMs(d);
        double[] All(string variable) => [.. net.Populations.SelectMany(p => e.GetVariable(p.Name, variable))];
        return ([.. rec.Spikes], e.EventsProcessed, All("v_mv"), All("g_exc_mv"), All("g_inh_mv"), e.CrossingSearches);
    }

    [Property(MaxTest = 40)]
    public Property LazyPredictionsEqualEagerOnes(NonNegativeInt seed)
    {
        var net = NetworkCompiler.Compile(RandomNetwork(seed.Get));
        var eager = Run(net, eager: true, 200);
        var lazy = Run(net, eager: false, 120.5, 79.5);
        bool same = eager.Spikes.SequenceEqual(lazy.Spikes) && eager.Events == lazy.Events
            && eager.V.SequenceEqual(lazy.V) && eager.Ge.SequenceEqual(lazy.Ge) && eager.Gi.SequenceEqual(lazy.Gi);
        return same.Label($"seed {seed.Get}: eager {eager.Spikes.Count} spikes / {eager.Events} events, lazy {lazy.Spikes.Count} / {lazy.Events}");
    }

    [Fact]
    public void CubaSpikesAreUnchangedAndMostRootSearchesAreSkipped()
    {
        // CUBA's rest lies above threshold, so every neuron always has a predicted crossing: eagerly, every arrival
        // costs a root search. Lazily, only the bounds that come due before the next input do.
        var net = NetworkCompiler.Compile(BenchmarkNetworks.Cuba(100, seed: 2));
        var eager = Run(net, eager: true, 100);
        var lazy = Run(net, eager: false, 100);
        Assert.True(eager.Spikes.Count > 500, $"{eager.Spikes.Count} spikes");
        Assert.Equal(eager.Spikes, lazy.Spikes);
        Assert.Equal(eager.V, lazy.V);
        Assert.True(lazy.Searches * 3 < eager.Searches, $"root searches: lazy {lazy.Searches}, eager {eager.Searches}");
    }
}
