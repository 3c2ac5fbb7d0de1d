using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Precise;
using Xunit;

namespace Sim.Specs.EventCore;

/// <summary>The step loop allocates nothing (single-threaded path).</summary>
public class AllocationTests
{
    [Fact]
    public void RunningAllocatesNothing()
    {
        var b = new NetworkBuilder { Run = new RunOptions { DtMs = 0.1, Seed = 3 } };
        var g = b.NeuronGroup("n", 400, new LifExpParameters { VInitMv = Value.Uniform(-60, -50) });
        var d = b.NeuronGroup("d", 50, new LifDeltaParameters(), new EscapeNoise(2.0));
        var p = b.PoissonGroup("drive", 400, 800);
        b.Synapses(p, g, new Connectivity.OneToOne(), 4.0);
        b.Synapses(g, g, new Connectivity.FixedInDegree(20), 0.5, Value.Uniform(0.1, 2.0));
        b.Synapses(g, d, new Connectivity.FixedInDegree(20), 1.0);
        b.Current(d, 5.0, [0, 50], [1.0, 2.0]);
        // GoalLif with trace coupling (W_rec·hz every tick: the float64 weight image and the row runs).
        var gl = b.NeuronGroup("gl", 30, new GoalLifParameters());
        b.Synapses(p, gl, new Connectivity.FixedInDegree(5), 2.0);
        b.Synapses(gl, gl, new Connectivity.AllToAll(Autapses: false), Value.Uniform(-0.5, 0.5), weightFractionBits: 20);
        b.Synapses(gl, gl, new Connectivity.FixedProbability(0.3, Autapses: false), Value.Uniform(-0.5, 0.5), weightFractionBits: 20);
        using var engine = new EventEngine(NetworkCompiler.Compile(b.Build()), new EngineOptions { Threads = 1 });
        engine.Run(2000);   // warm-up: JIT, and the spike-history log reaches its peak size
        long before = GC.GetAllocatedBytesForCurrentThread();
        engine.Run(1000);
        engine.Run(1000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void PreciseEngineAllocatesNothingOnceItsQueuesHaveGrown()
    {
        // LifExp (root searches, lower bounds) and LifDelta (jumps) neurons, Poisson and recurrent arrivals with exact
        // heterogeneous delays (arrival runs, batches merged by a sort).
        var b = new NetworkBuilder { Run = new RunOptions { DtMs = 0.1, Seed = 4 } };
        var g = b.NeuronGroup("n", 300, new LifExpParameters { ELeakMv = -49, VThresholdMv = -50, VInitMv = Value.Uniform(-60, -50) });
        var d = b.NeuronGroup("d", 100, new LifDeltaParameters { VInitMv = Value.Uniform(-60, -50) });
        var p = b.PoissonGroup("drive", 100, 300);
        b.Synapses(p, d, new Connectivity.FixedInDegree(10), 1.5, Value.Uniform(0.1, 1.0));
        b.Synapses(g, g, new Connectivity.FixedProbability(0.05), Value.Uniform(-3, 1), Value.Uniform(0.1, 2.0));
        b.Synapses(d, g, new Connectivity.FixedInDegree(10), 1.0, 0.5);
        var engine = new PreciseEngine(NetworkCompiler.Compile(b.Build(), exactDelays: true));
        engine.RunMs(1000);   // warm-up: JIT, and the event queue and arrival batch reach their working sizes
        long spikes = engine.SpikeCount;
        long before = GC.GetAllocatedBytesForCurrentThread();
        engine.RunMs(100);
        engine.RunMs(100);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(engine.SpikeCount - spikes > 200, $"{engine.SpikeCount - spikes} spikes");
        Assert.Equal(0, allocated);
    }
}
