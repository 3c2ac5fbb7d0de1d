namespace Sim.EventCore.Engine;

/// <summary>The named phases of one tick, in execution order (DESIGN.md model contract).</summary>
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
    /// <summary>Plasticity rules (<see cref="IPlasticityRule"/>), after the spikes of the tick are known.</summary>
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
/// A plasticity rule, called in the Plasticity phase of every tick (after Threshold and Emit, before Record), on the
/// instance's worker thread. It sees the state after the tick (v[t+1], z[t+1], traces) and may rewrite the plastic
/// trace-coupling weights through <see cref="IPlasticityContext.SetTraceRow"/>; the new weights act from the next tick.
/// EventCore defines only this interface; the rules live in Sim.Plasticity (DESIGN.md dependency direction).
/// </summary>
public interface IPlasticityRule
{
    /// <summary>Applies the rule for tick <paramref name="tick"/> of <paramref name="instance"/>.</summary>
    void Apply(int instance, long tick, IPlasticityContext context);
}

/// <summary>What a plasticity rule may read and write in one instance.</summary>
public interface IPlasticityContext : IStateReader
{
    /// <summary>The compiled network (its <see cref="Compilation.CompiledNetwork.TraceSynapses"/> hold the plastic weights).</summary>
    Compilation.CompiledNetwork Network { get; }

    /// <summary>
    /// The whole array of a state variable of a population (population-local order, absolute units), read only and
    /// without copying; valid until the next tick.
    /// </summary>
    ReadOnlySpan<double> Variable(int population, string variable);

    /// <summary>
    /// Replaces the trace-coupling weights of the row of global target neuron <paramref name="target"/> (integers on the
    /// grid 2^-F of its population, in the row's source order). Checked by <see cref="Compilation.CompiledNetwork.SetTraceRow"/>.
    /// </summary>
    void SetTraceRow(int target, ReadOnlySpan<long> q);

    /// <summary>
    /// Replaces the same row with real weights, rounded onto the population's grid (q = round_half_even(w·2^F)) and
    /// checked by <see cref="Compilation.CompiledNetwork.SetTraceRowWeights"/>; the fast path for rules that keep float64
    /// master weights.
    /// </summary>
    void SetTraceRowWeights(int target, ReadOnlySpan<double> weights);
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
