using BenchmarkDotNet.Attributes;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.GpuBridge;

namespace Sim.Bench;

/// <summary>
/// Which engine to pick: wall time of 100 ms of a driven LifExp network on the event engine and on the dense
/// (TorchSharp, CPU) engine, over network size and activity. Each neuron gets its own Poisson drive (weight 4 mV)
/// and 20 recurrent excitatory inputs (0.5 mV, delay one tick: the dense engine holds one [S, 2N] float64 matrix per distinct delay); the drive rate sets the mean output rate.
/// </summary>
[MemoryDiagnoser]
public class EngineCrossover
{
    private ISimulationEngine _engine = null!;

    /// <summary>event or dense.</summary>
    [Params("event", "dense")]
    public string Engine { get; set; } = "event";

    /// <summary>Number of neurons.</summary>
    [Params(500, 2000, 4000)]
    public int Neurons { get; set; }

    /// <summary>Poisson drive per neuron (Hz).</summary>
    [Params(300, 400, 800)]
    public double DriveHz { get; set; }

    /// <summary>The network (also used by the rate report in BENCHMARKS.md).</summary>
    public static NetworkSpec Network(int neurons, double driveHz, double durationMs = 1000) 
    {
        var b = new NetworkBuilder("crossover") { Run = new RunOptions { DtMs = 0.1, DurationMs = durationMs, Seed = 1 } };
        var g = b.NeuronGroup("n", neurons, new LifExpParameters { VInitMv = Value.Uniform(-60, -50) });
        var p = b.PoissonGroup("drive", neurons, driveHz);
        b.Synapses(p, g, new Connectivity.OneToOne(), 4.0);
        b.Synapses(g, g, new Connectivity.FixedInDegree(20), 0.5, 0.1);
        return b.Build();
    }

    /// <summary>Builds and warms up the engine.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var net = NetworkCompiler.Compile(Network(Neurons, DriveHz));
        _engine = Engine == "dense" ? new DenseEngine(net) : new EventEngine(net);
        _engine.Run(500);
    }

    /// <summary>1000 ticks = 100 ms.</summary>
    [Benchmark]
    public long Run100Ms() => _engine.Run(1000).TicksRun;

    /// <summary>Frees the engine.</summary>
    [GlobalCleanup]
    public void Cleanup() => _engine.Dispose();
}
