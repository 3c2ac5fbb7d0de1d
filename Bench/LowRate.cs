using BenchmarkDotNet.Attributes;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;

namespace Sim.Bench;

/// <summary>
/// The low-rate scaling family (docs/benchmarks.md): the input-driven CUBA-like network of
/// <see cref="BenchmarkNetworks.LowRate"/> at 4000 neurons, with the mean rate set to 10, 1 and 0.1 Hz, so the number of
/// synaptic events per simulated second falls 10× per step (≈ N·r·81) while N and the number of ticks stay fixed.
/// An event-driven cost would fall with it; a per-tick O(N) cost (integrating every neuron every tick) does not.
/// Each invocation simulates 100 ms (1000 ticks of 0.1 ms) of the same, continuing engine.
/// </summary>
[MemoryDiagnoser]
public class LowRate
{
    private EventEngine _engine = null!;

    /// <summary>Requested mean rate (Hz).</summary>
    [Params(10.0, 1.0, 0.1)]
    public double RateHz { get; set; }

    /// <summary>Neurons (fixed).</summary>
    public const int Neurons = 4000;

    /// <summary>Compiles the network and runs 100 ms to get past the start.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var net = NetworkCompiler.Compile(BenchmarkNetworks.LowRate(RateHz, Neurons, durationMs: 1000, seed: 1));
        _engine = new EventEngine(net, new EngineOptions { Threads = 1 });
        _engine.Run(1000);
    }

    /// <summary>1000 ticks = 100 ms.</summary>
    [Benchmark]
    public long Run100Ms() => _engine.Run(1000).TicksRun;

    /// <summary>Releases the engine.</summary>
    [GlobalCleanup]
    public void Cleanup() => _engine.Dispose();
}
