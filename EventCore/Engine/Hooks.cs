namespace Sim.EventCore.Engine;

/// <summary>The named phases of one tick, in execution order (docs/models/README.md).</summary>
public enum Phase
{
    /// <summary>Read and clear this tick's input slot into the synaptic variables.</summary>
    Deliver,
    /// <summary>Advance the neuron state by one tick.</summary>
    Integrate,
    /// <summary>Threshold test, reset, refractoriness.</summary>
    Threshold,
    /// <summary>Schedule outgoing spikes (neurons and inputs) into the delivery ring.</summary>
    Emit,
    /// <summary>Plasticity rules (<see cref="Sim.EventCore.Plasticity.IPlasticityRule"/>), after the spikes of the tick are known.</summary>
    Plasticity,
    /// <summary>Spike sinks and step observers.</summary>
    Record,
    /// <summary>Run guards.</summary>
    Guard,
    /// <summary>Advance the clock.</summary>
    Advance,
}

/// <summary>Receives the spikes of every tick (global neuron ids, ascending). Called on the instance's worker thread.</summary>
public interface ISpikeSink
{
    /// <summary>Spikes of <paramref name="instance"/> emitted in <paramref name="tick"/>.</summary>
    void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons);
}

/// <summary>Observes the state after each tick (read only). Called on the instance's worker thread.</summary>
public interface IStepObserver
{
    /// <summary>State of <paramref name="instance"/> after tick <paramref name="tick"/>.</summary>
    void OnStep(int instance, long tick, IStateReader state);
}

/// <summary>
/// The per-tick I/O hook (docs/architecture.md, "A task"): a task or a closed-loop driver writes inputs before each tick
/// and reads outputs after it, without copying the engine loop. <see cref="BeforeTick"/> runs at the start of the Deliver
/// phase; what it writes into <see cref="ITickInputs.Current"/> is added to the drive of that tick (drive_i ← x_i + drive_i,
/// after the constant drive and the injected currents) and held until rewritten. <see cref="AfterTick"/> runs in the
/// Record phase, after the spike sinks and observers. Called on the instance's worker thread, one instance at a time.
/// </summary>
public interface ITickIO
{
    /// <summary>Names of the populations whose per-tick input this hook writes (the engine enables their drive term once, when the hook is added).</summary>
    IReadOnlyList<string> InputPopulations { get; }

    /// <summary>
    /// Names of the populations whose spikes this hook may clamp (teacher forcing, <see cref="ITickInputs.Clamp"/>); the
    /// model must name the stored spike variable a clamp overwrites (<see cref="Models.NeuronModelDefinition.ClampVariable"/>).
    /// </summary>
    IReadOnlyList<string> ClampedPopulations => [];

    /// <summary>Before tick <paramref name="tick"/> of <paramref name="instance"/>: write this tick's inputs.</summary>
    void BeforeTick(int instance, long tick, ITickInputs inputs);

    /// <summary>After tick <paramref name="tick"/>: the tick's spikes (global ids, ascending) and the state after it.</summary>
    void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state);
}

/// <summary>The inputs a <see cref="ITickIO"/> may write for one instance and tick.</summary>
public interface ITickInputs
{
    /// <summary>
    /// The per-neuron input of population <paramref name="population"/> (population-local order, in the model's drive unit:
    /// mV for LifExp, mV/ms for LifDelta, a.u. for GoalLif), writable, holding the last values written. The population must
    /// be one of the hook's <see cref="ITickIO.InputPopulations"/>.
    /// </summary>
    Span<double> Current(int population);

    /// <summary>
    /// The spike clamp of population <paramref name="population"/> (teacher forcing; population-local order), writable and
    /// held until rewritten, all free (NaN) after a reset. After the Threshold step of the tick, a neuron whose value is 1
    /// spikes and one whose value is 0 is silent, whatever its membrane did; NaN leaves the neuron free. The clamped spike
    /// is the spike in every respect: it is stored in the model's spike variable (GoalLif: z, so it drives the reset and
    /// the synaptic trace of the next tick), delivered, recorded and seen by the rules; the membrane is not touched, so a
    /// rule can still read the neuron's own prediction Θ(v − thr). Any other value is refused when the tick applies it.
    /// The population must be one of the hook's <see cref="ITickIO.ClampedPopulations"/>.
    /// </summary>
    Span<double> Clamp(int population) => throw new NotSupportedException("this engine does not clamp spikes");
}

/// <summary>Checks each tick whether the run must stop (Auryn's checkers); must not throw.</summary>
public interface IRunGuard
{
    /// <summary>Returns a reason to stop, or null to go on.</summary>
    string? Check(int instance, long tick, ReadOnlySpan<int> spikes);
}

/// <summary>Read access to one instance's state, by population and variable name (see <c>Naming.StateVariables</c>).</summary>
public interface IStateReader
{
    /// <summary>Value of a state variable of one neuron (population-local index), in the variable's absolute unit.</summary>
    double Read(int population, string variable, int index);

    /// <summary>A resolved handle, for reading without string lookups in the step loop.</summary>
    StateHandle Resolve(int population, string variable);

    /// <summary>Value through a resolved handle.</summary>
    double Read(in StateHandle handle, int index);
}

/// <summary>A resolved (array, offset) for one state variable of one population.</summary>
public readonly record struct StateHandle(int Population, int Variable);

/// <summary>Why a run stopped early.</summary>
public sealed record StopReason(int Instance, long Tick, string Reason)
{
    public override string ToString() => $"instance {Instance}, tick {Tick}: {Reason}";
}

/// <summary>
/// Wall time per phase (Stopwatch ticks), always on. The event engine times every tick below tick 1024 (where JIT
/// compilation and tier-up happen) and after that every 16th tick (1024, 1040, …), counting each sample 16 times: the
/// totals are estimates that cost almost nothing (reading the clock eight times every tick cost about 10 % of a CUBA tick).
/// </summary>
public sealed class PhaseTimings
{
    private readonly long[] _ticks = new long[Enum.GetValues<Phase>().Length];

    /// <summary>Adds elapsed Stopwatch ticks to a phase.</summary>
    public void Add(Phase phase, long stopwatchTicks) => Interlocked.Add(ref _ticks[(int)phase], stopwatchTicks);

    /// <summary>Seconds spent in a phase (summed over instances and threads).</summary>
    public double Seconds(Phase phase) => Volatile.Read(ref _ticks[(int)phase]) / (double)System.Diagnostics.Stopwatch.Frequency;

    /// <summary>A one-line summary.</summary>
    public override string ToString() => string.Join(", ", Enum.GetValues<Phase>().Select(p => $"{p} {Seconds(p):F3} s"));
}
