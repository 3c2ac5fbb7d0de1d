using BenchmarkDotNet.Attributes;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;

namespace Sim.Bench;

/// <summary>Whole-network macro benchmark: CUBA (docs/benchmarks.md), 100 ms of simulated time per invocation.</summary>
[MemoryDiagnoser]
public class Cuba
{
    private CompiledNetwork _net = null!;
    private EventEngine _engine = null!;

    /// <summary>Neurons (×4000).</summary>
    [Params(0.25, 1.0)]
    public double Scale { get; set; }

    /// <summary>Compiles and warms up the network past its initial transient.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _net = NetworkCompiler.Compile(BenchmarkNetworks.Cuba(1000, 1, Scale));
        _engine = new EventEngine(_net);
        _engine.Run(1000);
    }

    /// <summary>1000 ticks = 100 ms of CUBA.</summary>
    [Benchmark]
    public long Run100Ms() => _engine.Run(1000).TicksRun;

    /// <summary>Releases the engine.</summary>
    [GlobalCleanup]
    public void Cleanup() => _engine.Dispose();
}

/// <summary>One tick of a quiet network (no spikes): the per-tick floor of Deliver + Integrate + Threshold, per model.</summary>
[MemoryDiagnoser]
public class IntegrationStep
{
    private EventEngine _engine = null!;

    /// <summary>Model under test: every registered model.</summary>
    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "lif_exp";

    /// <summary>The registered models' names.</summary>
    public static IEnumerable<string> Models => ModelRegistry.Names;

    /// <summary>Builds 4000 sub-threshold neurons of the model.</summary>
    [GlobalSetup]
    public void Setup()
    {
        // The model's defaults (at rest, no input): the cost of one integration pass does not depend on the values.
        ModelRegistry.TryGet(Model, out var model);
        NeuronParameters p = model.DefaultParameters();
        var b = new NetworkBuilder { Run = new RunOptions { DtMs = 0.1 } };
        b.NeuronGroup("n", 4000, p);
        _engine = new EventEngine(NetworkCompiler.Compile(b.Build()));
    }

    /// <summary>100 ticks.</summary>
    [Benchmark]
    public long Step100() => _engine.Run(100).TicksRun;
}

/// <summary>
/// Synaptic delivery throughput: one Poisson source population fans out to N targets with fixed in-degree; the work
/// per tick is dominated by scatter-adds of fixed-point weights into the delivery ring.
/// </summary>
[MemoryDiagnoser]
public class Delivery
{
    private EventEngine _engine = null!;

    /// <summary>Number of target neurons (cache-resident vs not).</summary>
    [Params(4_000, 400_000)]
    public int Targets { get; set; }

    /// <summary>Builds the network: 1000 Poisson sources at 100 Hz, 100 inputs per target, delay 1–10 ticks.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _engine = new EventEngine(NetworkCompiler.Compile(FanIn(Targets, Value.Uniform(-0.1, 0.1), Value.Uniform(0.1, 1.0))));
    }

    /// <summary>1000 Poisson sources at 100 Hz onto <paramref name="targets"/> silent LifDelta neurons, 100 inputs each.</summary>
    internal static NetworkSpec FanIn(int targets, Value weight, Value delayMs, int inDegree = 100)
    {
        var b = new NetworkBuilder { Run = new RunOptions { DtMs = 0.1 } };
        var n = b.NeuronGroup("n", targets, new LifDeltaParameters { VThresholdMv = 1e6, VResetMv = 0 });
        var p = b.PoissonGroup("p", 1000, 100);
        b.Synapses(p, n, new Connectivity.FixedInDegree(inDegree), weight, delayMs);
        return b.Build();
    }

    /// <summary>100 ticks (10 ms): about Targets × 100 × 100 Hz × 10 ms = Targets × 100 synaptic events.</summary>
    [Benchmark]
    public long Run10Ms() => _engine.Run(100).TicksRun;
}

/// <summary>
/// The delivery kernel alone (no integration, no scheduling): every synapse row of 1000 sources scattered once into one
/// ring slot of <see cref="Targets"/> neurons (Targets × <see cref="InDegree"/> synaptic events per invocation).
/// 4 000 targets: the slot (32 KB) and the 400 k synapses (3.2 MB) stay in cache; 400 000 targets: the slot (3.2 MB)
/// still fits the L3 and the 40 M synapses (320 MB) stream from memory; 8 000 000 targets: the slot (64 MB) does not
/// fit any cache either. Each row's targets are ascending (the compiler sorts them), so writes move forward in memory.
/// </summary>
[MemoryDiagnoser]
public class Scatter
{
    private SynapseTable _syn = null!;
    private double[] _acc = [];
    private int _sources;

    /// <summary>
    /// Number of target neurons: 4 000 (slot 32 KB, in L1/L2), 400 000 (slot 3.2 MB, in L3), 8 000 000 (slot 64 MB,
    /// twice the 32 MB L3 of the development machine; 5 inputs per target so that the table stays at 40 M synapses).
    /// </summary>
    [Params(4_000, 400_000, 8_000_000)]
    public int Targets { get; set; }

    /// <summary>Inputs per target: 100, or 5 for the 8 M-target case.</summary>
    public int InDegree => Targets >= 8_000_000 ? 5 : 100;

    /// <summary>Builds the table: 1000 sources, <see cref="InDegree"/> inputs per target, one delay.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var net = NetworkCompiler.Compile(Delivery.FanIn(Targets, Value.Uniform(0.01, 0.1), 0.1, InDegree));
        _syn = net.Synapses;
        _acc = new double[Targets];
        _sources = net.SourceCount;
        DeliveryKernel.Validate(_syn, net.NeuronCount, _sources);
    }

    /// <summary>Scatters every row once: Targets × 100 events.</summary>
    [Benchmark]
    public double ScatterAll()
    {
        int[] offsets = _syn.SegmentOffsetsArray, start = _syn.SegmentStartArray, target = _syn.TargetArray, q = _syn.QArray;
        for (int s = 0; s < _sources; s++)
            for (int g = offsets[s]; g < offsets[s + 1]; g++)
                DeliveryKernel.ScatterAdd(_acc, target, q, start[g], start[g + 1]);
        return _acc[0];
    }
}
