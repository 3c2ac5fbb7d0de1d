using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Specs.Reference;
using Xunit;

namespace Sim.Specs.EventCore;

/// <summary>
/// Properties that relate runs to each other: permuting neuron ids, delays, spike order (splitting, threads and batches
/// are checked per registered model by <c>Specs/Conformance/ModelConformanceTests</c>).
/// </summary>
public class MetamorphicTests
{
    [Property(MaxTest = 30)]
    public Property PermutingNeuronIdsPermutesTheOutput(PositiveInt seedArg)
    {
        // One LifExp population with explicit pairs, per-neuron parameters and initial state, driven by Poisson
        // sources; relabelling neuron i as π(i) everywhere must relabel the spikes the same way.
        var rng = new Random(seedArg.Get);
        int n = 2 + rng.Next(40);
        int[] perm = [.. Enumerable.Range(0, n).OrderBy(_ => rng.Next())];
        int m = rng.Next(4 * n);
        int[] pre = [.. Enumerable.Range(0, m).Select(_ => rng.Next(n))], post = [.. Enumerable.Range(0, m).Select(_ => rng.Next(n))];
        double[] w = [.. Enumerable.Range(0, m).Select(_ => rng.NextDouble() * 8 - 3)];
        double[] d = [.. Enumerable.Range(0, m).Select(_ => 0.1 * (1 + rng.Next(5)))];
        double[] tau = [.. Enumerable.Range(0, n).Select(_ => 5 + 20 * rng.NextDouble())];
        double[] v0 = [.. Enumerable.Range(0, n).Select(_ => -70 + 16 * rng.NextDouble())];
        int k = 1 + rng.Next(5);
        int[] inPre = [.. Enumerable.Range(0, n).Select(_ => rng.Next(k))];

        NetworkSpec Build(Func<int, int> map)
        {
            double[] Permuted(double[] x) { var y = new double[n]; for (int i = 0; i < n; i++) y[map(i)] = x[i]; return y; }
            var b = new NetworkBuilder { Run = new RunOptions { DtMs = 0.1, Seed = (ulong)seedArg.Get } };
            var g = b.NeuronGroup("g", n, new LifExpParameters { TauMemMs = Value.PerElement(Permuted(tau)), VInitMv = Value.PerElement(Permuted(v0)), ELeakMv = -65, RefractoryMs = 1 });
            var p = b.PoissonGroup("p", k, 400);
            b.Synapses(g, g, new Connectivity.PairList([.. pre.Select(map)], [.. post.Select(map)]), Value.PerElement(w), Value.PerElement(d));
            b.Synapses(p, g, new Connectivity.PairList(inPre, [.. Enumerable.Range(0, n).Select(map)]), 9.0);
            return b.Build();
        }
        var original = ReferenceModelTests.RunEngine(NetworkCompiler.Compile(Build(i => i)), 2000).Spikes[0];
        var permuted = ReferenceModelTests.RunEngine(NetworkCompiler.Compile(Build(i => perm[i])), 2000).Spikes[0];
        var mapped = original.Select(s => (s.Item1, perm[s.Item2])).OrderBy(s => s.Item1).ThenBy(s => s.Item2).ToList();
        return (original.Count > 0 && mapped.SequenceEqual(permuted)).Label($"n {n}, {original.Count} spikes");
    }


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
