using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;

namespace Sim.EventCore.Plasticity;

/// <summary>
/// A plasticity rule: the one extension point for every learning rule (docs/architecture.md, "A rule"). EventCore
/// defines the boundary; rules live in Sim.Plasticity (dependency direction). A rule object is added to an engine once
/// (<see cref="ISimulationEngine.AddPlasticityRule"/>); it declares what it needs in <see cref="Bind"/> (plastic
/// projections, traces, per-synapse state, spike hooks), and the engine creates one <see cref="IRuleInstance"/> per
/// simulated instance, which holds that instance's rule state (master weights, optimizer moments, filters), so that a
/// batch of B plastic instances runs B independent learners with the same bits as B single runs.
/// </summary>
public interface IPlasticityRule
{
    /// <summary>Declares what the rule reads and writes; called once by the engine, before any instance exists.</summary>
    void Bind(PlasticityBinding binding);

    /// <summary>Creates the rule's state for one instance (<paramref name="context"/> gives its initial weights and state).</summary>
    IRuleInstance CreateInstance(IPlasticityContext context);
}

/// <summary>
/// The rule's state in one instance and its update points. The engine calls, in the Plasticity phase of every tick
/// (after Threshold and Emit, before Record; weights written act from the next tick): the delayed post arrivals, then the
/// spike hooks for the tick's spikes, with the traces as they were before this tick's spikes (x(t⁻)), then the traces
/// take the spikes (and the delayed post traces the arrivals), then
/// <see cref="OnStep"/>. Trial and phase ends are called by the protocol through the engine
/// (<see cref="ISimulationEngine.EndTrial"/>, <see cref="ISimulationEngine.EndPhase"/>), the trial start by
/// <see cref="ISimulationEngine.ResetState"/>. Every method has an empty default.
/// </summary>
public interface IRuleInstance
{
    /// <summary>
    /// Presynaptic spikes of the tick (sources: neurons and input sources, ascending id, with their multiplicity); the
    /// synapses they cross are <see cref="PlasticProjection.Outgoing"/>. Called only if the rule asked for spike hooks.
    /// </summary>
    void OnPreSpikes(IPlasticityContext context, ReadOnlySpan<int> sources, ReadOnlySpan<int> counts) { }

    /// <summary>
    /// Post spikes of tick t − <paramref name="delayTicks"/> reaching, in this tick t, their synapses of that dendritic delay
    /// (neurons, ascending id; asked for with <see cref="PlasticityBinding.PostArrivals"/>). Called first in the tick, for
    /// each asked delay in ascending order, with the traces at t⁻ (pre spikes of ticks before t; delayed post traces with
    /// the arrivals before t). A trial's post spikes in its last d ticks do not arrive (the next trial starts afresh).
    /// </summary>
    void OnPostArrivals(IPlasticityContext context, ReadOnlySpan<int> neurons, int delayTicks) { }

    /// <summary>Postsynaptic spikes of the tick (neurons, ascending id); their synapses are <see cref="PlasticProjection.Incoming"/>.</summary>
    void OnPostSpikes(IPlasticityContext context, ReadOnlySpan<int> neurons) { }

    /// <summary>Every tick, after the spike hooks and the trace updates: the per-step update point.</summary>
    void OnStep(IPlasticityContext context) { }

    /// <summary>Start of a trial (the engine was reset to tick 0): per-trial state back to its start (weights are kept).</summary>
    void OnTrialStart(IPlasticityContext context) { }

    /// <summary>End of a trial: the per-trial update point (e.g. apply the summed update of the trial).</summary>
    void OnTrialEnd(IPlasticityContext context) { }

    /// <summary>End of phase <paramref name="phase"/> of a trial (e.g. free vs clamped): the per-phase update point.</summary>
    void OnPhaseEnd(IPlasticityContext context, int phase) { }
}

/// <summary>
/// A rule instance whose state can be saved in a checkpoint and restored (named float64 arrays). The engine saves the
/// plastic weights, traces and synapse state itself; a rule instance with state of its own (master weights, filters,
/// optimizer moments) must implement this, as one that does not is taken to be stateless.
/// </summary>
public interface ICheckpointableRuleInstance : IRuleInstance
{
    /// <summary>The rule state: name → values (copied).</summary>
    IReadOnlyDictionary<string, double[]> Capture();

    /// <summary>Sets the rule state from <see cref="Capture"/>'s output (throws <see cref="InvalidDataException"/> when it does not fit).</summary>
    void Restore(IReadOnlyDictionary<string, double[]> state);
}

/// <summary>
/// What a rule instance may read and write in one instance: the state after the tick, the tick's spikes, the plastic
/// weights of its projections (on their fixed-point grid: writes are rounded half to even and checked against the
/// exactness bounds of the numerics contract), lazily decayed traces, per-synapse state and the neuron model's
/// pseudo-derivative. Valid during the call only.
/// </summary>
public interface IPlasticityContext : IStateReader
{
    /// <summary>The compiled network (immutable: its weights are the initial ones; plastic weights live per instance).</summary>
    CompiledNetwork Network { get; }

    /// <summary>The instance (its index in every random-stream key).</summary>
    int Instance { get; }

    /// <summary>The tick of the Plasticity phase (at trial and phase ends: the number of ticks run).</summary>
    long Tick { get; }

    /// <summary>
    /// The whole array of a stored state variable of a population (population-local order, the model's frame and
    /// names, e.g. GoalLif "v", "z", "ej"), read only and without copying where the engine can; valid during the call.
    /// </summary>
    ReadOnlySpan<double> Variable(int population, string variable);

    /// <summary>As <see cref="Variable(int, string)"/> by the stored variable's index (e.g. <c>GoalLifModel.Z</c>), without a name lookup per tick.</summary>
    ReadOnlySpan<double> Variable(int population, int variable);

    /// <summary>The pseudo-derivative ψ of every neuron of a population from its model (throws when the model has none).</summary>
    void PseudoDerivative(int population, Span<double> psi);

    /// <summary>The neurons that spiked in this tick (ascending global id); empty at trial and phase ends.</summary>
    ReadOnlySpan<int> Spikes { get; }

    /// <summary>Weight of synapse <paramref name="k"/> (projection-local) in the model's unit: q·2^-F.</summary>
    double GetWeight(PlasticProjection projection, int k);

    /// <summary>Every weight of the projection, in its local order.</summary>
    void GetWeights(PlasticProjection projection, Span<double> weights);

    /// <summary>Sets synapse <paramref name="k"/> to <paramref name="weight"/>, rounded onto the grid (q = round_half_even(w·2^F)).</summary>
    void SetWeight(PlasticProjection projection, int k, double weight);

    /// <summary>Sets every weight of the projection (local order), rounded onto the grid; all checked before any is written.</summary>
    void SetWeights(PlasticProjection projection, ReadOnlySpan<double> weights);

    /// <summary>
    /// Sets the weights of the synapses into <paramref name="target"/> (global id), in the order of
    /// <see cref="PlasticProjection.Incoming"/>; all checked (grid range, the target's exactness bound) before any is written.
    /// The fast path for rules that keep float64 master weights row by row.
    /// </summary>
    void SetIncomingWeights(PlasticProjection projection, int target, ReadOnlySpan<double> weights);

    /// <summary>Trace <paramref name="trace"/> of neuron or source <paramref name="id"/>, decayed to this tick (before this tick's spikes in the hooks).</summary>
    double Trace(TraceHandle trace, int id);

    /// <summary>
    /// A reader of trace <paramref name="trace"/> at this tick (the same values as <see cref="Trace"/>), for loops over
    /// many synapses: no interface call per read. Valid during the call only.
    /// </summary>
    TraceReader Traces(TraceHandle trace);

    /// <summary>The per-synapse state array of this instance (projection-local order), writable.</summary>
    Span<double> SynapseState(SynapseStateHandle state);
}
