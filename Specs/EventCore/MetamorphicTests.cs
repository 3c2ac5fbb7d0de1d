using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Specs.Reference;
using Xunit;

namespace Sim.Specs.EventCore;

/// <summary>Properties that relate runs to each other: splitting, permuting, threads, batches, delays.</summary>
public class MetamorphicTests
{

    [Fact]
    public void DelaysLandExactlyOnTPlusD()
    {
        // Neuron k receives one strong delta-synapse input with delay k+1 ticks from a spike sent at tick 7;
        // it must fire in tick 7 + (k + 1) exactly, never one tick early or late.
        const double dt = 0.25;
        int n = 30;
        var b = new NetworkBuilder { Run = new RunOptions { DtMs = dt } };
        var g = b.NeuronGroup("g", n, new LifDeltaParameters { ELeakMv = -70, VThresholdMv = -50, VResetMv = -70 });
        var src = b.SpikeGeneratorGroup("src", 1, [0], [7 * dt]);
        b.Synapses(src, g, new Connectivity.PairList(new int[n], [.. Enumerable.Range(0, n)]), 25.0,
            Value.PerElement([.. Enumerable.Range(0, n).Select(k => (k + 1) * dt)]));
        var net = NetworkCompiler.Compile(b.Build());
        Assert.Equal(n, net.MaxDelayTicks);
        var spikes = ReferenceModelTests.RunEngine(net, 100).Spikes[0];
        Assert.Equal(Enumerable.Range(0, n).Select(k => (7L + k + 1, k)), spikes);
    }

    [Fact]
    public void SpikesWithinATickAreAscending()
    {
        var net = NetworkCompiler.Compile(BenchmarkNetworks.Cuba(200, seed: 3, scale: 0.5) with { Run = new RunOptions { DtMs = 0.1, DurationMs = 200, Batch = 2, Seed = 3 } });
        var (spikes, _) = ReferenceModelTests.RunEngine(net, 2000, threads: 2);
        foreach (var s in spikes)
        {
            Assert.NotEmpty(s);
            for (int k = 1; k < s.Count; k++) Assert.True(s[k - 1].CompareTo(s[k]) < 0, "spikes out of canonical order");
        }
    }
}
