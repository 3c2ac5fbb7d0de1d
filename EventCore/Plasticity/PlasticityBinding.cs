using Sim.EventCore.Compilation;

namespace Sim.EventCore.Plasticity;

/// <summary>
/// What a rule declares when it is added to an engine (<see cref="IPlasticityRule.Bind"/>): the projections it makes
/// plastic (each instance then owns its own copy of their weights), the traces it reads (shared by τ among all rules:
/// docs/architecture.md's lazily decayed per-neuron traces), per-synapse state, and whether it wants the spike hooks. One binding
/// holds the declarations of every rule of an engine, so two rules asking for the same projection or trace share it.
/// </summary>
public sealed class PlasticityBinding
{
    private readonly List<PlasticProjection> _projections = [];
    private readonly List<TraceHandle> _traces = [];
    private readonly List<SynapseStateHandle> _synapseState = [];

    /// <summary>An empty binding for <paramref name="network"/> (an engine makes one and lets every rule declare into it).</summary>
    public PlasticityBinding(CompiledNetwork network) => Network = network;

    /// <summary>The compiled network.</summary>
    public CompiledNetwork Network { get; }

    /// <summary>The plastic projections declared so far.</summary>
    public IReadOnlyList<PlasticProjection> Projections => _projections;
    /// <summary>The traces declared so far.</summary>
    public IReadOnlyList<TraceHandle> Traces => _traces;
    /// <summary>The per-synapse state arrays declared so far.</summary>
    public IReadOnlyList<SynapseStateHandle> SynapseStates => _synapseState;
    /// <summary>True when some rule asked for the spike hooks.</summary>
    public bool WantsSpikeHooks { get; private set; }
    /// <summary>True when some spike (not trace-coupled) projection is plastic.</summary>
    public bool HasPlasticSpikeProjection => _projections.Any(p => !p.IsTraceCoupled);
    /// <summary>True when some trace-coupled projection is plastic.</summary>
    public bool HasPlasticTraceProjection => _projections.Any(p => p.IsTraceCoupled);

    /// <summary>Makes the projection named <paramref name="name"/> plastic and returns its synapse view (the same object for every rule).</summary>
    /// <exception cref="ArgumentException">No projection has that name, or it has no synapses.</exception>
    public PlasticProjection Projection(string name)
    {
        var specs = Network.Spec.Projections;
        int index = -1;
        for (int i = 0; i < specs.Count; i++) if (specs[i].DisplayName == name) { index = i; break; }
        if (index < 0)
            throw new ArgumentException($"no projection named '{name}' (projections: {string.Join(", ", specs.Select(p => p.DisplayName))})", nameof(name));
        return Projection(index);
    }

    /// <summary>
    /// Makes the trace-coupled projection of <paramref name="population"/> onto itself plastic (the last such projection
    /// in the description when there are several): the recurrent weights of the rules that learn through filtered
    /// spikes or rates (rank_r, rflo).
    /// </summary>
    /// <exception cref="ArgumentException">The population has no projection onto itself, or it is not trace-coupled.</exception>
    public PlasticProjection RecurrentTraceProjection(string population)
    {
        var specs = Network.Spec.Projections;
        int index = -1;
        for (int i = 0; i < specs.Count; i++) if (specs[i].Source == population && specs[i].Target == population) index = i;
        if (index < 0) throw new ArgumentException($"population '{population}' has no projection onto itself");
        var projection = Projection(index);
        if (!projection.IsTraceCoupled) throw new ArgumentException($"the projection '{projection.Name}' onto '{population}' is not trace-coupled");
        return projection;
    }

    /// <summary>Makes projection <paramref name="index"/> (in the description's order) plastic.</summary>
    public PlasticProjection Projection(int index)
    {
        foreach (var p in _projections) if (p.Index == index) return p;
        var made = new PlasticProjection(Network, index, _projections.Count);
        if (made.Count == 0) throw new ArgumentException($"projection '{made.Name}' has no synapses to learn", nameof(index));
        _projections.Add(made);
        return made;
    }

    /// <summary>A trace of every source (neurons and inputs) with time constant <paramref name="tauMs"/>.</summary>
    public TraceHandle PreTrace(double tauMs, TraceUpdate update = TraceUpdate.Accumulate) => Trace(TraceKind.Pre, tauMs, update, 0);

    /// <summary>
    /// A trace of every neuron with time constant <paramref name="tauMs"/>; with <paramref name="delayTicks"/> d ≥ 1 it
    /// takes each post spike d ticks late (the trace at a synapse of dendritic delay d), which also keeps the engine's
    /// record of the last d ticks' post spikes (<see cref="PostArrivals"/>).
    /// </summary>
    public TraceHandle PostTrace(double tauMs, TraceUpdate update = TraceUpdate.Accumulate, int delayTicks = 0)
    {
        if (delayTicks < 0) throw new ArgumentOutOfRangeException(nameof(delayTicks), $"a dendritic delay is ≥ 0 ticks, got {delayTicks}");
        if (delayTicks > 0) NotePostDelay(delayTicks);
        return Trace(TraceKind.Post, tauMs, update, delayTicks);
    }

    private TraceHandle Trace(TraceKind kind, double tauMs, TraceUpdate update, int delayTicks)
    {
        if (!(tauMs > 0) || !double.IsFinite(tauMs)) throw new ArgumentOutOfRangeException(nameof(tauMs), $"a trace needs a finite τ > 0 ms, got {tauMs}");
        foreach (var t in _traces) if (t.Kind == kind && t.TauMs.Equals(tauMs) && t.Update == update && t.DelayTicks == delayTicks) return t;
        var made = new TraceHandle(kind, tauMs, _traces.Count, update, delayTicks);
        _traces.Add(made);
        WantsSpikeHooks = true;   // traces are fed by the same spike lists
        return made;
    }

    private readonly SortedSet<int> _postArrivalDelays = [];
    private readonly SortedSet<int> _postDelays = [];

    /// <summary>
    /// Asks for <see cref="IRuleInstance.OnPostArrivals"/> with delay <paramref name="delayTicks"/> d ≥ 1: in every tick t
    /// the post spikes of tick t − d, i.e. the moment a post spike back-propagates to its synapses of dendritic delay d
    /// (NEST's <c>stdp_synapse</c>, where the whole delay is dendritic). Called before the pre-spike hook of the tick.
    /// </summary>
    public void PostArrivals(int delayTicks)
    {
        if (delayTicks < 1) throw new ArgumentOutOfRangeException(nameof(delayTicks), $"post arrivals need a dendritic delay ≥ 1 tick, got {delayTicks}");
        _postArrivalDelays.Add(delayTicks);
        NotePostDelay(delayTicks);
        WantsSpikeHooks = true;
    }

    private void NotePostDelay(int d) => _postDelays.Add(d);

    /// <summary>The delays of <see cref="PostArrivals"/> asked for, ascending.</summary>
    public IReadOnlyCollection<int> PostArrivalDelays => _postArrivalDelays;

    /// <summary>The longest delay a post spike must be remembered for (post arrivals and delayed post traces), 0 if none.</summary>
    public int MaxPostDelayTicks => _postDelays.Count == 0 ? 0 : _postDelays.Max;

    /// <summary>A per-synapse float64 state array named <paramref name="name"/> on <paramref name="projection"/> (zero initially).</summary>
    public SynapseStateHandle SynapseState(PlasticProjection projection, string name)
    {
        foreach (var s in _synapseState) if (s.Projection == projection && s.Name == name) return s;
        var made = new SynapseStateHandle(projection, name, _synapseState.Count);
        _synapseState.Add(made);
        return made;
    }

    /// <summary>Asks for <see cref="IRuleInstance.OnPreSpikes"/> and <see cref="IRuleInstance.OnPostSpikes"/> every tick.</summary>
    public void RequestSpikeHooks() => WantsSpikeHooks = true;

    /// <summary>The compiled (initial) weights of a projection, in the projection-local order of <see cref="PlasticProjection"/>.</summary>
    public static double[] CompiledWeights(CompiledNetwork network, string projection)
    {
        var view = new PlasticityBinding(network).Projection(projection);
        var pos = view.TablePosition;
        var w = new double[view.Count];
        for (int k = 0; k < w.Length; k++)
            w[k] = !view.Exact ? network.TraceSynapses.QValue[pos[k]]   // unquantized: the value is the weight itself
                : (view.IsTraceCoupled ? network.TraceSynapses.QValue[pos[k]] : network.Synapses.Q[pos[k]]) * view.Unit;
        return w;
    }

    /// <summary>Bytes one instance holds for the declarations (synapse state, traces), beyond the weights.</summary>
    public long StateBytesPerInstance
        => _synapseState.Sum(s => 8L * s.Projection.Count)
           + _traces.Sum(t => 16L * (t.Kind == TraceKind.Pre ? Network.SourceCount : Network.NeuronCount))
           + (MaxPostDelayTicks == 0 ? 0 : 4L * (MaxPostDelayTicks + 1) * (Network.NeuronCount + 3));
}
