using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.EventCore.Precise;
using Sim.GpuBridge;

namespace Sim.Experiments;

/// <summary>What an engine supports, for listings (<c>sim engines</c>) and for refusing a network before it runs.</summary>
/// <param name="Name">The option value (<c>event</c>, <c>dense</c>, <c>dense-cuda</c>, <c>precise</c>).</param>
/// <param name="Summary">One line.</param>
/// <param name="Grid">True for the grid engines (<see cref="ISimulationEngine"/>), false for the continuous-time engine.</param>
/// <param name="Batch">Runs a batch of instances together (false: one after another).</param>
/// <param name="Plasticity">Accepts plasticity rules.</param>
/// <param name="TickIO">Accepts per-tick I/O hooks (closed loops).</param>
/// <param name="Checkpoints">Saves and restores checkpoints.</param>
/// <param name="EscapeNoise">Runs escape noise.</param>
/// <param name="ClockInputs">Runs clock inputs.</param>
/// <param name="TimeVaryingCurrents">Runs currents with time-varying scales.</param>
/// <param name="RunGuards">Enforces run guards (<c>run.max_rate_hz</c>).</param>
/// <param name="Models">The registered models it runs.</param>
public sealed record EngineDescription(string Name, string Summary, bool Grid, bool Batch, bool Plasticity, bool TickIO, bool Checkpoints,
    bool EscapeNoise, bool ClockInputs, bool TimeVaryingCurrents, bool RunGuards, IReadOnlyList<string> Models);

/// <summary>Options every engine understands (the rest comes from the network's run options).</summary>
public sealed record EngineSettings
{
    /// <summary>Instances; null: the network's batch.</summary>
    public int? Batch { get; init; }
    /// <summary>Index of the first instance; null: the network's.</summary>
    public int? InstanceOffset { get; init; }
    /// <summary>Worker threads over instances (event engine); null: the network's (0: one per core).</summary>
    public int? Threads { get; init; }
    /// <summary>Memory the engine may take; null: 80 % of what the GC reports available.</summary>
    public long? MemoryBudgetBytes { get; init; }
}

/// <summary>
/// The one place where engines are made (docs/architecture.md, "Engines"): every command and experiment asks it, by
/// name, for an engine of a compiled network, and it refuses, with errors naming the field, the model or feature the
/// engine does not support. It also compiles for an engine (the precise engine needs the exact delays).
/// </summary>
public static class EngineFactory
{
    /// <summary>The engines, in the order <c>sim engines</c> lists them.</summary>
    public static IReadOnlyList<EngineDescription> Engines { get; } =
    [
        new("event", "sparse event-driven grid engine on the CPU (EventCore): cost follows spikes plus one vectorised pass per tick",
            Grid: true, Batch: true, Plasticity: true, TickIO: true, Checkpoints: true, EscapeNoise: true, ClockInputs: true, TimeVaryingCurrents: true, RunGuards: true,
            Models: [.. ModelRegistry.Names]),
        new("dense", "dense TorchSharp mirror on the CPU (GpuBridge): one matrix product per delay and tick, bit-identical to event",
            Grid: true, Batch: true, Plasticity: true, TickIO: true, Checkpoints: true, EscapeNoise: true, ClockInputs: true, TimeVaryingCurrents: true, RunGuards: true,
            Models: [.. ModelRegistry.Names]),
        new("dense-cuda", "the dense engine on a CUDA device (needs the CUDA build of libtorch)",
            Grid: true, Batch: true, Plasticity: true, TickIO: true, Checkpoints: true, EscapeNoise: true, ClockInputs: true, TimeVaryingCurrents: true, RunGuards: true,
            Models: [.. ModelRegistry.Names]),
        new("precise", "continuous-time event-driven engine (EventCore): exact spike times, cost follows events",
            Grid: false, Batch: false, Plasticity: false, TickIO: false, Checkpoints: false, EscapeNoise: false, ClockInputs: false, TimeVaryingCurrents: false, RunGuards: false,
            Models: [.. ModelRegistry.All.Where(m => m.SupportsPrecise).Select(m => m.Name)]),
    ];

    /// <summary>The names, for messages.</summary>
    public static IReadOnlyList<string> Names => [.. Engines.Select(e => e.Name)];

    /// <summary>The description of engine <paramref name="name"/>; throws <see cref="ArgumentException"/> for an unknown name.</summary>
    public static EngineDescription Describe(string name)
        => Engines.FirstOrDefault(e => e.Name == name) ?? throw new ArgumentException($"unknown engine '{name}': one of {string.Join(", ", Names)}", nameof(name));

    /// <summary>
    /// Everything in <paramref name="spec"/> that engine <paramref name="name"/> cannot run, as errors naming the field
    /// (located in the file when the spec came from one), as far as the description tells: the precise engine's limits.
    /// The grid engines run every registered model and feature; the dense engine also refuses, when it is built from the
    /// compiled network, a population its exact matrix products cannot reproduce (a model's
    /// <see cref="NeuronModelDefinition.DenseRefusal"/>, e.g. GoalLif's unquantized mode), with a <see cref="SpecException"/>.
    /// </summary>
    public static IReadOnlyList<SpecError> Check(string name, NetworkSpec spec)
        => Describe(name).Grid ? [] : PreciseEngine.Unsupported(spec);   // the grid engines run every model and feature (the dense engine refuses, when building, what it cannot run exactly)

    /// <summary>Compiles <paramref name="spec"/> for engine <paramref name="name"/> after <see cref="Check"/> (exact delays for the precise engine).</summary>
    /// <exception cref="SpecException">The engine cannot run the network, or it is invalid or too large.</exception>
    public static CompiledNetwork Compile(string name, NetworkSpec spec, long? memoryBudgetBytes = null)
    {
        var errors = Check(name, spec);
        if (errors.Count > 0) throw new SpecException(errors);
        return NetworkCompiler.Compile(spec, memoryBudgetBytes, exactDelays: !Describe(name).Grid);
    }

    /// <summary>A grid engine (<c>event</c>, <c>dense</c>, <c>dense-cuda</c>) for <paramref name="network"/>.</summary>
    /// <exception cref="ArgumentException">Unknown engine, or the precise engine (not a grid engine: <see cref="CreatePrecise"/>).</exception>
    /// <exception cref="SpecException">The engine cannot run the network, or it does not fit in memory.</exception>
    /// <exception cref="NotSupportedException">CUDA requested but not available.</exception>
    public static ISimulationEngine CreateGrid(string name, CompiledNetwork network, EngineSettings? settings = null)
    {
        var e = Describe(name);
        if (!e.Grid) throw new ArgumentException($"'{name}' is not a grid engine; use CreatePrecise", nameof(name));
        settings ??= new EngineSettings();   // the grid engines refuse, when built, what they cannot run
        return name switch
        {
            "event" => new EventEngine(network, new EngineOptions
            {
                Batch = settings.Batch, InstanceOffset = settings.InstanceOffset, Threads = settings.Threads, MemoryBudgetBytes = settings.MemoryBudgetBytes,
            }),
            _ => new DenseEngine(network, new DenseEngineOptions
            {
                Device = name == "dense-cuda" ? TorchRuntime.Cuda : TorchRuntime.Cpu,
                Batch = settings.Batch, InstanceOffset = settings.InstanceOffset, MemoryBudgetBytes = settings.MemoryBudgetBytes,
            }),
        };
    }

    /// <summary>The precise engine for one instance of <paramref name="network"/> (compiled with exact delays, e.g. by <see cref="Compile"/>).</summary>
    public static PreciseEngine CreatePrecise(CompiledNetwork network, int? instance = null) => new(network, instance);   // it checks Unsupported itself

    /// <summary>A function making a grid engine of one name, for protocols that build their networks themselves.</summary>
    public static Func<CompiledNetwork, ISimulationEngine> GridFactory(string name, EngineSettings? settings = null)
    {
        Describe(name);
        return net => CreateGrid(name, net, settings);
    }
}
