using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
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
        using var engine = new EventEngine(NetworkCompiler.Compile(b.Build()), new EngineOptions { Threads = 1 });
        engine.Run(2000);   // warm-up: JIT, and the spike-history log reaches its peak size
        long before = GC.GetAllocatedBytesForCurrentThread();
        engine.Run(1000);
        engine.Run(1000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }
}
