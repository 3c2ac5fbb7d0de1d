namespace Sim.EventCore.Description;

/// <summary>Where in a description file an element was written.</summary>
public sealed record SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}" : File;
}

/// <summary>A population of identical-model neurons (Brian2 <c>NeuronGroup</c>).</summary>
/// <param name="Name">Unique name (letters, digits, '_' and '-').</param>
/// <param name="Size">Number of neurons, ≥ 1.</param>
/// <param name="Parameters">Model parameters and initial state.</param>
public sealed record PopulationSpec(string Name, int Size, NeuronParameters Parameters)
{
    /// <summary>Optional escape noise; null means the deterministic threshold.</summary>
    public EscapeNoise? Noise { get; init; }
}

/// <summary>A source of input spikes: neurons-free spike generators with their own index space.</summary>
public abstract record InputSpec(string Name, int Size);

/// <summary>
/// Independent homogeneous Poisson processes, one per source, in continuous time (inter-spike intervals drawn
/// from the counter-based RNG). On a grid a spike at time s falls into tick ⌊s/dt⌋; several spikes of one source
/// in one tick deliver their weight that many times (so per-tick counts are Poisson(rate·dt) for any rate).
/// </summary>
/// <param name="RateHz">Rate per source (Hz), ≥ 0; may differ per source.</param>
public sealed record PoissonInput(string Name, int Size, Value RateHz) : InputSpec(Name, Size)
{
    /// <summary>Time (ms) at which the processes start.</summary>
    public double StartMs { get; init; }
    /// <summary>Time (ms) at which they stop; null means never.</summary>
    public double? StopMs { get; init; }
}

/// <summary>
/// Explicit spike times (Brian2 <c>SpikeGeneratorGroup</c>, NEST <c>spike_generator</c>): source Indices[k] spikes at TimesMs[k].
/// On a grid the tick is round(t/dt) (times are meant to lie on the grid).
/// </summary>
public sealed record SpikeTimesInput(string Name, int Size, double[] TimesMs, int[] Indices) : InputSpec(Name, Size);

/// <summary>
/// A clock (docs/models/inputs.md, docs/tasks/store_recall.md): Channels one-hot phases; channel k emits one spike in every tick of
/// [k·span, (k+1)·span) counted from the start of each period (no repetition when PeriodMs is null).
/// </summary>
public sealed record ClockInput(string Name, int Channels, double SpanMs, double? PeriodMs = null) : InputSpec(Name, Channels);

/// <summary>
/// A current injected into every neuron of a population: I_i(t) = Amplitude_i · s(t), where s is piecewise constant,
/// s(t) = Scales[j] for TimesMs[j] ≤ t &lt; TimesMs[j+1] (0 before TimesMs[0], held after the last), or s ≡ 1 when no times
/// are given. Units are the model's drive: mV for LifExp (I_ext), mV/ms for LifDelta, a.u. for GoalLif (the teacher term u).
/// </summary>
public sealed record CurrentSpec(string Target, Value Amplitude)
{
    /// <summary>Change points of the waveform (ms), ascending.</summary>
    public double[]? TimesMs { get; init; }
    /// <summary>Waveform values after each change point.</summary>
    public double[]? Scales { get; init; }
}

/// <summary>
/// Synapses from a population or input to a population (Brian2 <c>Synapses</c>, NEST <c>Connect</c>).
/// Weights are in the target model's unit (LifExp: mV added to g; LifDelta: mV jump; GoalLif: a.u. of current);
/// delays (ms) become whole ticks round(d/dt), and must be at least one tick.
/// </summary>
public sealed record ProjectionSpec(string Source, string Target, Connectivity Connectivity, Value Weight, Value DelayMs)
{
    /// <summary>Optional name; defaults to "source->target".</summary>
    public string? Name { get; init; }
    /// <summary>Fraction bits F of the weight grid 2^-F; null picks the finest that keeps |q| ≤ 2^30.</summary>
    public int? WeightFractionBits { get; init; }
    /// <summary>The name used in messages.</summary>
    public string DisplayName => Name ?? $"{Source}->{Target}";
    /// <summary>A plasticity rule on these synapses, as written in a network file (null: static); Sim.Plasticity reads it.</summary>
    public PlasticitySpec? Plasticity { get; init; }
}

/// <summary>
/// A plasticity rule attached to a projection in a network file (<c>plasticity: {rule: stdp, tau_plus_ms: 20, …}</c>):
/// the rule's name and its parameters as written. EventCore names no rule (dependency direction): the rule registry of
/// Sim.Plasticity checks the name and the parameters and reports errors with the file, line and field kept here.
/// </summary>
/// <param name="Rule">The rule's registry name, e.g. <c>stdp</c>.</param>
/// <param name="Parameters">Parameter name → the scalar as written, in file order.</param>
public sealed record PlasticitySpec(string Rule, IReadOnlyList<KeyValuePair<string, string>> Parameters)
{
    /// <summary>The field path of the mapping, e.g. <c>projections[2].plasticity</c>.</summary>
    public string Field { get; init; } = "plasticity";
    /// <summary>Where the mapping and each key stand in the file (key "" for the mapping), when read from a file.</summary>
    public IReadOnlyDictionary<string, SourceLocation> Locations { get; init; } = new Dictionary<string, SourceLocation>();
}

/// <summary>What to record; consumed by Probes.</summary>
public abstract record MonitorSpec;

/// <summary>Record every spike of the named populations (all when empty).</summary>
public sealed record SpikeMonitorSpec(string[] Populations) : MonitorSpec;

/// <summary>Record state variables of chosen neurons every IntervalMs.</summary>
public sealed record StateMonitorSpec(string Population, string[] Variables, int[] Indices, double IntervalMs) : MonitorSpec;

/// <summary>Record the population rate (Hz) in bins of BinMs.</summary>
public sealed record RateMonitorSpec(string Population, double BinMs) : MonitorSpec;

/// <summary>Run options (kept apart from model parameters).</summary>
public sealed record RunOptions
{
    /// <summary>Time step (ms).</summary>
    public double DtMs { get; init; } = 0.1;
    /// <summary>Duration of the run (ms).</summary>
    public double DurationMs { get; init; } = 1000;
    /// <summary>Seed of every random stream.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Number of independent instances simulated together.</summary>
    public int Batch { get; init; } = 1;
    /// <summary>Index of the first instance: a batch of B equals B single runs with offsets 0..B−1.</summary>
    public int InstanceOffset { get; init; }
    /// <summary>Worker threads over instances (0: one per core, capped by the batch).</summary>
    public int Threads { get; init; }
    /// <summary>Stop the run when a population's rate over <see cref="GuardWindowMs"/> exceeds this (Hz); null disables.</summary>
    public double? MaxRateHz { get; init; }
    /// <summary>Window of the rate guard (ms).</summary>
    public double GuardWindowMs { get; init; } = 100;
}

/// <summary>
/// A whole network description: what the file format and the <see cref="NetworkBuilder"/> both produce.
/// Immutable; <see cref="Validate"/> lists every problem, <see cref="NetworkSpecValidator"/> names file, line and field.
/// </summary>
public sealed record NetworkSpec
{
    /// <summary>Name of the network.</summary>
    public string Name { get; init; } = "network";
    /// <summary>Populations, in global neuron-id order.</summary>
    public IReadOnlyList<PopulationSpec> Populations { get; init; } = [];
    /// <summary>Spike inputs.</summary>
    public IReadOnlyList<InputSpec> Inputs { get; init; } = [];
    /// <summary>Projections.</summary>
    public IReadOnlyList<ProjectionSpec> Projections { get; init; } = [];
    /// <summary>Injected currents.</summary>
    public IReadOnlyList<CurrentSpec> Currents { get; init; } = [];
    /// <summary>Monitors.</summary>
    public IReadOnlyList<MonitorSpec> Monitors { get; init; } = [];
    /// <summary>Run options.</summary>
    public RunOptions Run { get; init; } = new();
    /// <summary>File the spec was read from, if any.</summary>
    public string? SourceFile { get; init; }
    /// <summary>Field path → location in <see cref="SourceFile"/>, filled by the file reader.</summary>
    public IReadOnlyDictionary<string, SourceLocation> Locations { get; init; } = new Dictionary<string, SourceLocation>();

    /// <summary>Every validation problem (empty when valid).</summary>
    public IReadOnlyList<SpecError> Validate() => NetworkSpecValidator.Validate(this);

    /// <summary>Throws a <see cref="SpecException"/> listing every problem, if any.</summary>
    public NetworkSpec EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0) throw new SpecException(errors);
        return this;
    }
}

/// <summary>One problem in a description: the field path, where it was written, and what is wrong.</summary>
public sealed record SpecError(string Field, string Message, SourceLocation? Location = null)
{
    public override string ToString() => Location is null ? $"{Field}: {Message}" : $"{Location}: {Field}: {Message}";
}

/// <summary>Thrown for an invalid description; the message lists every problem with file, line and field.</summary>
public sealed class SpecException(IReadOnlyList<SpecError> errors)
    : Exception("invalid network description:\n  " + string.Join("\n  ", errors))
{
    /// <summary>The problems.</summary>
    public IReadOnlyList<SpecError> Errors { get; } = errors;
}
