using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.GpuBridge;
using Sim.Specs.EventCore;
using Sim.Specs.Reference;
using Xunit;
using Xunit.Abstractions;

namespace Sim.Specs.GpuBridge;

/// <summary>DenseEngine (TorchSharp) equals EventEngine bit for bit: spikes per instance and the final state of every variable.</summary>
public class DenseEquivalenceTests(ITestOutputHelper output)
{
    internal static (List<(long, int)>[] Spikes, Dictionary<string, double[]>[] State) RunDense(CompiledNetwork net, long ticks, string device = "cpu", long[]? splits = null)
    {
        using var engine = new DenseEngine(net, new DenseEngineOptions { Device = device });
        return ReferenceModelTests.Record(engine, ticks, splits);
    }

    /// <summary>The first difference between the two engines' results, or null when they agree bit for bit.</summary>
    internal static string? FirstDifference(
        (List<(long, int)>[] Spikes, Dictionary<string, double[]>[] State) ev,
        (List<(long, int)>[] Spikes, Dictionary<string, double[]>[] State) dense)
    {
        if (ev.Spikes.Length != dense.Spikes.Length) return $"batch {ev.Spikes.Length} vs {dense.Spikes.Length}";
        for (int b = 0; b < ev.Spikes.Length; b++)
        {
            var e = ev.Spikes[b];
            var d = dense.Spikes[b];
            int k = 0;
            while (k < e.Count && k < d.Count && e[k] == d[k]) k++;
            if (k < e.Count || k < d.Count)
                return $"instance {b}: spike #{k} event {(k < e.Count ? e[k].ToString() : "none")} vs dense {(k < d.Count ? d[k].ToString() : "none")}";
            foreach (var (key, values) in ev.State[b])
            {
                double[] other = dense.State[b][key];
                if (!ReferenceModelTests.SameBits(values, other))
                {
                    int i = 0;
                    while (BitConverter.DoubleToInt64Bits(values[i]) == BitConverter.DoubleToInt64Bits(other[i])) i++;
                    return $"instance {b}: {key}[{i}] event {values[i]:R} vs dense {other[i]:R}";
                }
            }
        }
        return null;
    }

    [Fact]
    public void SplitRunsEqualOneRun()
    {
        var spec = new NetCase(17, [0, 2, 1], [12, 9, 7], [11, 222, 3333, 44444, 555555], 7, true, true, 120, 2).ToSpec();
        var net = NetworkCompiler.Compile(spec);
        var whole = RunDense(net, 120);
        var split = RunDense(net, 120, splits: [1, 40, 0, 33]);
        Assert.Null(FirstDifference(whole, split));
        Assert.Null(FirstDifference(ReferenceModelTests.RunEngine(net, 120), whole));
    }

    [Fact]
    public void CubaSpikeForSpikeOnCpu()
    {
        var net = NetworkCompiler.Compile(BenchmarkNetworks.Cuba(200, seed: 1));
        var sw = Stopwatch.StartNew();
        var ev = ReferenceModelTests.RunEngine(net, 2000);
        double evSeconds = sw.Elapsed.TotalSeconds;
        sw.Restart();
        var dense = RunDense(net, 2000);
        double denseSeconds = sw.Elapsed.TotalSeconds;
        output.WriteLine($"CUBA 2000 ticks: event {evSeconds:F2} s, dense (cpu) {denseSeconds:F2} s, {ev.Spikes[0].Count} spikes");
        Assert.True(ev.Spikes[0].Count > 1000, $"CUBA produced only {ev.Spikes[0].Count} spikes");
        Assert.Null(FirstDifference(ev, dense));
    }

    /// <summary>A GoalLif network with escape noise (δv = 1), Poisson input, trace-coupled recurrence and a batch of 3.</summary>
    internal static NetworkSpec StochasticGoalLif()
    {
        var b = new NetworkBuilder("goal-noise") { Run = new RunOptions { DtMs = 1, DurationMs = 300, Seed = 7, Batch = 3, InstanceOffset = 5 } };
        var pars = new GoalLifParameters { TauMemMs = 8, TauSynMs = 2, VInit = Value.Uniform(-6, 1), TraceFractionBits = 16 };
        string net = b.NeuronGroup("net", 60, pars, new EscapeNoise(1.0));
        string inp = b.PoissonGroup("in", 10, Value.Uniform(5, 60));
        b.Synapses(inp, net, new Connectivity.FixedProbability(0.5), Value.Normal(0, 22, -88, 88));
        b.Synapses(net, net, new Connectivity.FixedProbability(0.3, false), Value.Normal(0, 3, -12, 12));
        return b.Build();
    }

    [Fact]
    public void StochasticGoalLifIdentical()
    {
        var net = NetworkCompiler.Compile(StochasticGoalLif());
        Assert.True(net.TraceSynapses.Count > 0);
        var ev = ReferenceModelTests.RunEngine(net, net.DurationTicks);
        Assert.Equal(3, ev.Spikes.Length);
        Assert.All(ev.Spikes, s => Assert.True(s.Count > 100, $"only {s.Count} spikes"));
        // Instances differ (the noise is keyed by instance), so the comparison is not vacuous per batch element.
        Assert.NotEqual(ev.Spikes[0], ev.Spikes[1]);
        Assert.Null(FirstDifference(ev, RunDense(net, net.DurationTicks)));
    }

    [NoGpuFact]
    public void CudaWithoutCudaIsAClearError()
    {
        var net = NetworkCompiler.Compile(BenchmarkNetworks.Cuba(10, scale: 0.05));
        var e = Assert.Throws<NotSupportedException>(() => new DenseEngine(net, new DenseEngineOptions { Device = "cuda" }));
        Assert.Contains("CUDA is not available", e.Message);
    }

    [GpuFact]
    public void CubaSpikeForSpikeOnCuda()
    {
        var net = NetworkCompiler.Compile(BenchmarkNetworks.Cuba(200, seed: 1));
        var ev = ReferenceModelTests.RunEngine(net, 2000);
        Assert.Null(FirstDifference(ev, RunDense(net, 2000, "cuda")));
        var goal = NetworkCompiler.Compile(StochasticGoalLif());
        Assert.Null(FirstDifference(ReferenceModelTests.RunEngine(goal, goal.DurationTicks), RunDense(goal, goal.DurationTicks, "cuda")));
    }
}

/// <summary>Runs alone (no other test creates tensors meanwhile), since it reads the process-wide live tensor count.</summary>
[CollectionDefinition(nameof(NativeMemoryCollection), DisableParallelization = true)]
public sealed class NativeMemoryCollection;

/// <summary>Native memory of the dense engine stays flat over long runs.</summary>
[Collection(nameof(NativeMemoryCollection))]
public class DenseNativeMemoryTests
{
    [Fact]
    public void LongRunDoesNotGrowNativeMemory()
    {
        var net = NetworkCompiler.Compile(new NetCase(5, [0, 2], [20, 20], [1, 2, 3, 4], 7, true, true, 100, 2).ToSpec());
        using var engine = new DenseEngine(net);
        engine.Run(500);
        long before = TorchSharp.torch.Tensor.TotalCount;
        engine.Run(3000);
        long after = TorchSharp.torch.Tensor.TotalCount;
        Assert.True(after - before <= 0, $"{after - before} tensors leaked over 3000 ticks");
        // The counter counts live tensors (guards the check above against a counter that never moves).
        using (var probe = TorchSharp.torch.zeros(1)) Assert.Equal(after + 1, TorchSharp.torch.Tensor.TotalCount);
    }
}
