using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;

namespace Sim.EventCore.Plasticity;

/// <summary>How an engine lets the plasticity of one instance read that instance's state (for engine implementers).</summary>
public interface IPlasticStateSource
{
    /// <summary>Stored variable <paramref name="variable"/> of a population (model frame): the engine's array or a CPU copy of this tick.</summary>
    double[] Variable(int population, int variable);
}

/// <summary>
/// Everything plastic of one instance, the same for every engine (the rules run in C# in all of them): the plastic
/// weights (<see cref="InstanceWeights"/>), the lazily decayed traces, the per-synapse state, and one
/// <see cref="IRuleInstance"/> per rule, with the update points in the order of <see cref="IRuleInstance"/>. It is
/// also the <see cref="IPlasticityContext"/> the rule instances see. Public for engine implementers (the dense engine
/// lives in another assembly); rules see it only as the context.
/// </summary>
public sealed class InstancePlasticity : IPlasticityContext
{
    private readonly PlasticityBinding _binding;
    private readonly IPlasticStateSource _state;
    private readonly List<TraceBank> _banks = [];
    private readonly List<double[]> _synapseState = [];
    private readonly List<IRuleInstance> _rules = [];
    /// <summary>Plastic projections one engine may have (the per-instance version table is this long).</summary>
    public const int MaxPlasticProjections = 64;
    private int[] _spikes = [];
    private int _spikeCount;
    // The post spikes of the last D ticks (D = the binding's longest dendritic delay): slot t mod (D + 1) holds tick t's
    // spikes when _ringTick[slot] == t. Allocated once when a rule asks for post arrivals or delayed post traces.
    private int[][] _ring = [];
    private int[] _ringLength = [];
    private long[] _ringTick = [];
    private int[] _arrivalDelays = [];
    private double[][][]? _stateRefs;   // per population: its stored variables' arrays, refilled per call (no allocation per tick)

    /// <summary>The plasticity of instance <paramref name="instance"/>, reading its state through <paramref name="state"/>.</summary>
    public InstancePlasticity(CompiledNetwork network, int instance, PlasticityBinding binding, IPlasticStateSource state)
    {
        Network = network;
        Instance = instance;
        _binding = binding;
        _state = state;
        Weights = new InstanceWeights(network, MaxPlasticProjections);
    }

    public CompiledNetwork Network { get; }
    public int Instance { get; }
    public long Tick { get; private set; }
    public InstanceWeights Weights { get; }
    public ReadOnlySpan<int> Spikes => _spikes.AsSpan(0, _spikeCount);

    /// <summary>
    /// Takes up what the binding declared since the last call (plastic copies, traces, synapse state), then creates the
    /// rule's instance without attaching it: an engine creates every instance's first, then <see cref="Attach"/>es them,
    /// so that a rule refusing one instance leaves no instance with it.
    /// </summary>
    public IRuleInstance Prepare(IPlasticityRule rule)
    {
        Refresh();
        return rule.CreateInstance(this);
    }

    /// <summary>Attaches a rule instance made by <see cref="Prepare"/>.</summary>
    public void Attach(IRuleInstance instance) => _rules.Add(instance);

    private void Refresh()
    {
        if (_binding.Projections.Count > MaxPlasticProjections) throw new InvalidOperationException($"more than {MaxPlasticProjections} plastic projections");
        foreach (var p in _binding.Projections) Weights.MakePlastic(p);
        for (int t = _banks.Count; t < _binding.Traces.Count; t++)
        {
            var h = _binding.Traces[t];
            _banks.Add(new TraceBank(h, h.Kind == TraceKind.Pre ? Network.SourceCount : Network.NeuronCount, Network.DtMs));
        }
        for (int s = _synapseState.Count; s < _binding.SynapseStates.Count; s++) _synapseState.Add(new double[_binding.SynapseStates[s].Projection.Count]);
        _arrivalDelays = [.. _binding.PostArrivalDelays];
        int slots = _binding.MaxPostDelayTicks == 0 ? 0 : _binding.MaxPostDelayTicks + 1;
        if (slots > _ring.Length)
        {
            // Grown only while rules are added (never during a run); a bigger ring keeps what the smaller one held.
            var ring = new int[slots][];
            var length = new int[slots];
            var ticks = new long[slots];
            Array.Fill(ticks, -1);
            for (int k = 0; k < slots; k++) ring[k] = new int[Network.NeuronCount];
            for (int k = 0; k < _ring.Length; k++)
                if (_ringTick[k] >= 0)
                {
                    int to = (int)(_ringTick[k] % slots);
                    _ring[k].AsSpan(0, _ringLength[k]).CopyTo(ring[to]);
                    length[to] = _ringLength[k];
                    ticks[to] = _ringTick[k];
                }
            (_ring, _ringLength, _ringTick) = (ring, length, ticks);
        }
    }

    /// <summary>The post spikes of tick <paramref name="tick"/> if still remembered (empty otherwise).</summary>
    private ReadOnlySpan<int> PostSpikesOf(long tick)
    {
        if (tick < 0 || _ring.Length == 0) return default;
        int slot = (int)(tick % _ring.Length);
        return _ringTick[slot] == tick ? _ring[slot].AsSpan(0, _ringLength[slot]) : default;
    }

    /// <summary>Bytes this instance holds for plasticity (weights copies, traces, synapse state; not the rules' own state).</summary>
    public long Bytes => Weights.Bytes + _binding.StateBytesPerInstance;

    /// <summary>
    /// The Plasticity phase of tick <paramref name="tick"/>: spike hooks (pre, then post) with the traces at t⁻, the
    /// tick's spikes into the traces, then every rule's per-step update.
    /// </summary>
    public void Step(long tick, ReadOnlySpan<int> spikes, ReadOnlySpan<int> preSources, ReadOnlySpan<int> preCounts)
    {
        Tick = tick;
        if (_spikes.Length < spikes.Length) _spikes = new int[Math.Max(spikes.Length, 2 * _spikes.Length)];
        spikes.CopyTo(_spikes);
        _spikeCount = spikes.Length;
        if (_binding.WantsSpikeHooks)
        {
            // Post spikes reaching their synapses of dendritic delay d (emitted at tick − d) come first: at one moment at
            // the synapse a post arrival is paired with the pre spikes before it, a pre spike with the arrivals before it.
            foreach (int d in _arrivalDelays)
            {
                var arrivals = PostSpikesOf(tick - d);
                if (arrivals.Length > 0) foreach (var r in _rules) r.OnPostArrivals(this, arrivals, d);
            }
            foreach (var r in _rules) r.OnPreSpikes(this, preSources, preCounts);
            foreach (var r in _rules) r.OnPostSpikes(this, spikes);
            foreach (var bank in _banks)
            {
                if (bank.Handle.Kind == TraceKind.Pre)
                    for (int k = 0; k < preSources.Length; k++) bank.Add(preSources[k], tick, preCounts[k]);
                else
                    foreach (int i in bank.Handle.DelayTicks == 0 ? spikes : PostSpikesOf(tick - bank.Handle.DelayTicks)) bank.Add(i, tick, 1);
            }
            if (_ring.Length > 0)
            {
                int slot = (int)(tick % _ring.Length);
                spikes.CopyTo(_ring[slot]);
                _ringLength[slot] = spikes.Length;
                _ringTick[slot] = tick;
            }
        }
        foreach (var r in _rules) r.OnStep(this);
    }

    /// <summary>Start of a trial (the engine's state went back to tick 0): traces cleared, rules told.</summary>
    public void TrialStart()
    {
        Tick = 0;
        _spikeCount = 0;
        foreach (var bank in _banks) bank.Reset();
        Array.Fill(_ringTick, -1);
        foreach (var r in _rules) r.OnTrialStart(this);
    }

    /// <summary>End of a trial after <paramref name="ticks"/> ticks.</summary>
    public void TrialEnd(long ticks)
    {
        Tick = ticks;
        _spikeCount = 0;
        foreach (var r in _rules) r.OnTrialEnd(this);
    }

    /// <summary>End of phase <paramref name="phase"/> after <paramref name="ticks"/> ticks.</summary>
    public void PhaseEnd(int phase, long ticks)
    {
        Tick = ticks;
        _spikeCount = 0;
        foreach (var r in _rules) r.OnPhaseEnd(this, phase);
    }

    /// <summary>The plastic state for a checkpoint: grid weights, traces, synapse state, rule state (named arrays).</summary>
    public PlasticCheckpoint Capture()
    {
        var longs = new Dictionary<string, long[]>();
        var doubles = new Dictionary<string, double[]>();
        foreach (var p in _binding.Projections)
            if (p.Exact) longs[WeightKey(p)] = Weights.Grid(p);
            else doubles[WeightKey(p)] = Weights.Values(p);
        foreach (var bank in _banks)
        {
            var (value, last) = bank.Capture();
            doubles[TraceKey(bank) + "/value"] = value;
            longs[TraceKey(bank) + "/last"] = last;
        }
        for (int s = 0; s < _synapseState.Count; s++) doubles[SynapseKey(s)] = (double[])_synapseState[s].Clone();
        if (_ring.Length > 0)
        {
            // The remembered post spikes: per slot its tick (−1: empty) and length, then the spikes slot after slot.
            var spikes = new List<long>();
            for (int k = 0; k < _ring.Length; k++) for (int j = 0; j < _ringLength[k]; j++) spikes.Add(_ring[k][j]);
            longs[RingKey + "/tick"] = (long[])_ringTick.Clone();
            longs[RingKey + "/length"] = [.. _ringLength.Select(x => (long)x)];
            longs[RingKey + "/spikes"] = [.. spikes];
        }
        for (int r = 0; r < _rules.Count; r++)
            if (_rules[r] is ICheckpointableRuleInstance c)
                foreach (var (name, values) in c.Capture()) doubles[$"rule/{r}/{name}"] = (double[])values.Clone();
        return new PlasticCheckpoint(longs, doubles);
    }

    /// <summary>
    /// Sets the plastic state from a checkpoint of an engine with the same rules; refuses a checkpoint that lacks a part
    /// of this engine's plastic state or holds a part these rules do not have.
    /// </summary>
    public void Restore(PlasticCheckpoint saved)
    {
        // Weights, traces and synapse state are the engine's: their keys must match exactly. Rule state (rule/r/…) is
        // checked by each rule's Restore; a rule index beyond this engine's rules is refused here.
        var engineKeys = _binding.Projections.Select(WeightKey)
            .Concat(_banks.SelectMany(b => new[] { TraceKey(b) + "/value", TraceKey(b) + "/last" }))
            .Concat(Enumerable.Range(0, _synapseState.Count).Select(SynapseKey))
            .Concat(_ring.Length > 0 ? new[] { RingKey + "/tick", RingKey + "/length", RingKey + "/spikes" } : Array.Empty<string>()).ToHashSet();
        foreach (var key in saved.Longs.Keys.Concat(saved.Doubles.Keys).Where(k => !engineKeys.Contains(k)))
            if (!key.StartsWith("rule/", StringComparison.Ordinal) || !(int.TryParse(key.Split('/')[1], out int r) && r < _rules.Count))
                throw new InvalidDataException($"the checkpoint holds plastic state '{key}' that this engine's rules do not have (add the same rules, in the same order, before restoring)");
        foreach (var p in _binding.Projections)
        {
            if (p.Exact && saved.Longs.TryGetValue(WeightKey(p), out var q)) Weights.CopyFrom(p, q);
            else if (!p.Exact && saved.Doubles.TryGetValue(WeightKey(p), out var w)) Weights.CopyValuesFrom(p, w);
            else if (saved.Longs.ContainsKey(WeightKey(p)) || saved.Doubles.ContainsKey(WeightKey(p)))
                throw new InvalidDataException($"the checkpoint's weights of '{p.Name}' are {(p.Exact ? "unquantized float64 values" : "grid integers")}, this network's are {(p.Exact ? "grid integers" : "unquantized (trace_fraction_bits: 0)")}");
            else throw new InvalidDataException($"checkpoint lacks the plastic weights of '{p.Name}'");
        }
        foreach (var bank in _banks)
        {
            string key = TraceKey(bank);
            if (!saved.Doubles.TryGetValue(key + "/value", out var v) || !saved.Longs.TryGetValue(key + "/last", out var l))
                throw new InvalidDataException($"checkpoint lacks the {bank.Handle.Kind} trace with τ = {bank.Handle.TauMs} ms");
            bank.Restore(v, l);
        }
        for (int s = 0; s < _synapseState.Count; s++)
        {
            var h = _binding.SynapseStates[s];
            if (!saved.Doubles.TryGetValue(SynapseKey(s), out var x) || x.Length != _synapseState[s].Length)
                throw new InvalidDataException($"checkpoint lacks the synapse state '{h.Name}' of '{h.Projection.Name}'");
            x.CopyTo(_synapseState[s], 0);
        }
        if (_ring.Length > 0) RestoreRing(saved);
        for (int r = 0; r < _rules.Count; r++)
        {
            if (_rules[r] is not ICheckpointableRuleInstance c) continue;
            string prefix = $"rule/{r}/";
            c.Restore(saved.Doubles.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value));
        }
    }

    private void RestoreRing(PlasticCheckpoint saved)
    {
        if (!saved.Longs.TryGetValue(RingKey + "/tick", out var ticks) || !saved.Longs.TryGetValue(RingKey + "/length", out var lengths)
            || !saved.Longs.TryGetValue(RingKey + "/spikes", out var spikes) || ticks.Length != _ring.Length || lengths.Length != _ring.Length
            || lengths.Any(l => l < 0 || l > Network.NeuronCount) || lengths.Sum() != spikes.Length || spikes.Any(i => i < 0 || i >= Network.NeuronCount))
            throw new InvalidDataException($"checkpoint lacks the post spikes of the last {_ring.Length - 1} ticks (the rules' dendritic delays), or they do not fit this network");
        int at = 0;
        for (int k = 0; k < _ring.Length; k++)
        {
            _ringTick[k] = ticks[k];
            _ringLength[k] = (int)lengths[k];
            for (int j = 0; j < _ringLength[k]; j++) _ring[k][j] = (int)spikes[at++];
        }
    }

    // The checkpoint keys of the engine-owned plastic state (rule state is "rule/<index>/<name>"). A trace's key names
    // its update and delay only when they are not the defaults, so checkpoints of earlier versions still load.
    private static string WeightKey(PlasticProjection p) => $"weights/{p.Name}";
    private const string RingKey = "post-spikes";
    private static string TraceKey(TraceBank bank) => $"trace/{bank.Handle.Kind}/{bank.Handle.TauMs:R}"
        + (bank.Handle.Update == TraceUpdate.Nearest ? "/nearest" : "") + (bank.Handle.DelayTicks > 0 ? $"/delay{bank.Handle.DelayTicks}" : "");
    private string SynapseKey(int s) => $"synapse/{_binding.SynapseStates[s].Projection.Name}/{_binding.SynapseStates[s].Name}";

    // IPlasticityContext.
    public ReadOnlySpan<double> Variable(int population, int variable)
    {
        var vars = Network.Populations[population].Model.StateVariables;
        if ((uint)variable >= (uint)vars.Count) throw new ArgumentOutOfRangeException(nameof(variable), variable, $"population '{Network.Populations[population].Name}' has {vars.Count} stored variables");
        return _state.Variable(population, variable);
    }

    public ReadOnlySpan<double> Variable(int population, string variable)
    {
        var model = Network.Populations[population].Model;
        var vars = model.StateVariables;
        for (int k = 0; k < vars.Count; k++) if (vars[k].Name == variable) return _state.Variable(population, k);
        throw new ArgumentException($"'{variable}' is not a state variable of population '{Network.Populations[population].Name}' ({string.Join(", ", vars.Select(v => v.Name))})", nameof(variable));
    }

    public void PseudoDerivative(int population, Span<double> psi)
    {
        var pop = Network.Populations[population];
        if (!pop.Model.HasPseudoDerivative)
            throw new InvalidOperationException($"population '{pop.Name}': model {pop.Model.Name} has no pseudo-derivative (a gradient-based rule needs one)");
        _stateRefs ??= new double[Network.Populations.Length][][];
        var state = _stateRefs[population] ??= new double[pop.Model.StateVariables.Count][];
        for (int k = 0; k < state.Length; k++) state[k] = _state.Variable(population, k);
        pop.Model.PseudoDerivative(pop.Constants, state, psi);
    }

    public double GetWeight(PlasticProjection projection, int k) => Weights.Get(projection, k);

    public void GetWeights(PlasticProjection projection, Span<double> weights)
    {
        if (weights.Length != projection.Count) throw new ArgumentException($"{projection.Count} weights expected", nameof(weights));
        for (int k = 0; k < weights.Length; k++) weights[k] = Weights.Get(projection, k);
    }

    public void SetWeight(PlasticProjection projection, int k, double weight)
    {
        if (projection.Exact && !projection.IsTraceCoupled) { Weights.SetSpike(projection, k, weight); return; }
        Span<int> id = [k];
        Weights.Set(projection, id, all: false, [weight]);
    }

    public void SetWeights(PlasticProjection projection, ReadOnlySpan<double> weights) => Weights.Set(projection, default, all: true, weights);

    public void SetIncomingWeights(PlasticProjection projection, int target, ReadOnlySpan<double> weights)
        => Weights.SetIncoming(projection, target, weights);

    public double Trace(TraceHandle trace, int id) => _banks[trace.Slot].Read(id, Tick);

    public TraceReader Traces(TraceHandle trace) => _banks[trace.Slot].Reader(Tick);

    public Span<double> SynapseState(SynapseStateHandle state) => _synapseState[state.Slot];

    // IStateReader (absolute units, reported names).
    public double Read(int population, string variable, int index) => Read(Resolve(population, variable), index);

    public StateHandle Resolve(int population, string variable)
    {
        var model = Network.Populations[population].Model;
        int k = model.VariableIndex(variable);
        if (k < 0) throw new ArgumentException($"'{variable}' is not a state variable of population '{Network.Populations[population].Name}'", nameof(variable));
        return new StateHandle(population, k);
    }

    public double Read(in StateHandle handle, int index)
    {
        var pop = Network.Populations[handle.Population];
        var offset = pop.Model.ReportOffset(pop.Constants, handle.Variable);
        double x = _state.Variable(handle.Population, handle.Variable)[index];
        return offset.IsEmpty ? x : x + offset[index];
    }
}

/// <summary>The plastic state of one instance in a checkpoint: named integer and float64 arrays.</summary>
/// <param name="Longs">Grid weights ("weights/PROJECTION") and trace update ticks.</param>
/// <param name="Doubles">Trace values, per-synapse state ("synapse/PROJECTION/NAME") and rule state ("rule/INDEX/NAME").</param>
public sealed record PlasticCheckpoint(IReadOnlyDictionary<string, long[]> Longs, IReadOnlyDictionary<string, double[]> Doubles);
