using Sim.EventCore.Compilation;

namespace Sim.EventCore.Plasticity;

/// <summary>
/// One projection whose weights a rule may change, seen synapse by synapse: projection-local synapse ids k = 0 … Count−1
/// with their presynaptic source, postsynaptic target and delay, and the indices rules need to find the synapses a spike
/// crosses (<see cref="Outgoing"/> by source, <see cref="Incoming"/> by target: the reverse index), built once per engine.
/// Spike projections are in synapse-table order (source, delay, receptor, target); trace-coupled projections in
/// trace-table order (target, source), so that <see cref="Incoming"/> of a target is one contiguous run there.
/// </summary>
public sealed class PlasticProjection
{
    private readonly int[] _pre, _post, _delay, _tablePosition;
    private readonly byte[] _receptor;
    private readonly int[] _outStart, _outIds, _inStart, _inIds, _inPre;
    private readonly int[] _wholeTraceRow;

    internal PlasticProjection(CompiledNetwork net, int projection, int slot)
    {
        var spec = net.Spec.Projections[projection];
        Index = projection;
        Slot = slot;
        Name = spec.DisplayName;
        var target = net.Population(spec.Target);
        TargetPopulation = target.Index;
        var pre = new List<int>(); var post = new List<int>(); var delay = new List<int>(); var pos = new List<int>(); var rec = new List<byte>();
        var trace = net.TraceSynapses;
        for (int k = 0; k < trace.Count; k++)
            if (trace.Projection[k] == projection) { pre.Add(trace.Source[k]); post.Add(TargetOf(trace, k)); delay.Add(1); pos.Add(k); rec.Add(0); }
        IsTraceCoupled = pre.Count > 0;
        if (!IsTraceCoupled)
        {
            var syn = net.Synapses;
            for (int s = 0; s < net.SourceCount; s++)
                for (int g = syn.SegmentOffsets[s]; g < syn.SegmentOffsets[s + 1]; g++)
                {
                    if (syn.SegmentProjection[g] != projection) continue;
                    for (int k = syn.SegmentStart[g]; k < syn.SegmentStart[g + 1]; k++)
                    {
                        pre.Add(s); post.Add(syn.Target[k]); delay.Add(syn.SegmentDelay[g]); pos.Add(k); rec.Add(syn.SegmentReceptor[g]);
                    }
                }
        }
        _pre = [.. pre]; _post = [.. post]; _delay = [.. delay]; _tablePosition = [.. pos]; _receptor = [.. rec];
        FractionBits = IsTraceCoupled ? target.TraceWeightFractionBits : target.WeightFractionBits;
        Exact = !IsTraceCoupled || target.ExactTraceInput;
        Unit = Math.ScaleB(1.0, -FractionBits);
        Scale = Math.ScaleB(1.0, FractionBits);
        (_outStart, _outIds) = GroupBy(_pre, net.SourceCount);
        (_inStart, _inIds) = GroupBy(_post, net.NeuronCount);
        _inPre = new int[_inIds.Length];
        for (int j = 0; j < _inIds.Length; j++) _inPre[j] = _pre[_inIds[j]];
        _wholeTraceRow = IsTraceCoupled ? WholeRows(net.TraceSynapses) : [];
    }

    // Per target: the trace-table position of its row when this projection's incoming synapses are exactly that row, in
    // order (one trace projection into the target), else −1.
    private int[] WholeRows(TraceCouplingTable tr)
    {
        var whole = new int[_inStart.Length - 1];
        for (int i = 0; i < whole.Length; i++)
        {
            int start = tr.RowStart[i], m = _inStart[i + 1] - _inStart[i];
            bool same = m > 0 && m == tr.RowStart[i + 1] - start;
            for (int j = 0; same && j < m; j++) same = _tablePosition[_inIds[_inStart[i] + j]] == start + j;
            whole[i] = same ? start : -1;
        }
        return whole;
    }

    private static int TargetOf(TraceCouplingTable tr, int k)
    {
        int lo = 0, hi = tr.RowStart.Length - 2;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >> 1;
            if (tr.RowStart[mid] <= k) lo = mid; else hi = mid - 1;
        }
        return lo;
    }

    // CSR of local ids grouped by key (ids ascending within a key).
    private static (int[] Start, int[] Ids) GroupBy(int[] key, int keys)
    {
        var start = new int[keys + 1];
        foreach (int x in key) start[x + 1]++;
        for (int i = 0; i < keys; i++) start[i + 1] += start[i];
        var ids = new int[key.Length];
        var fill = (int[])start.Clone();
        for (int k = 0; k < key.Length; k++) ids[fill[key[k]]++] = k;
        return (start, ids);
    }

    /// <summary>Index of the projection in the network description.</summary>
    public int Index { get; }
    /// <summary>Position among the engine's plastic projections (versions, per-instance state).</summary>
    public int Slot { get; }
    /// <summary>The projection's name (its <c>name</c>, or "source->target").</summary>
    public string Name { get; }
    /// <summary>Index of the target population.</summary>
    public int TargetPopulation { get; }
    /// <summary>True for a trace-coupled projection (acts through the source's exported trace), false for a spike projection.</summary>
    public bool IsTraceCoupled { get; }
    /// <summary>Synapses.</summary>
    public int Count => _pre.Length;
    /// <summary>
    /// False for a trace-coupled projection into a population without exact trace input (the unquantized comparison
    /// mode): its weights are float64 values, stored unrounded, and no exactness bound applies.
    /// </summary>
    public bool Exact { get; }
    /// <summary>F of the weight grid: w = q·2^-F.</summary>
    public int FractionBits { get; }
    /// <summary>2^-F.</summary>
    public double Unit { get; }
    /// <summary>2^F.</summary>
    public double Scale { get; }
    /// <summary>Presynaptic source id (neurons, then input sources) of each synapse.</summary>
    public ReadOnlySpan<int> Pre => _pre;
    /// <summary>Postsynaptic neuron id (global) of each synapse.</summary>
    public ReadOnlySpan<int> Post => _post;
    /// <summary>Delay in ticks of each synapse (1 for trace-coupled synapses).</summary>
    public ReadOnlySpan<int> DelayTicks => _delay;
    /// <summary>Receptor of each synapse: 0 excitatory (q ≥ 0 at compilation), 1 inhibitory; fixed (it selects the ring the weight adds to).</summary>
    public ReadOnlySpan<byte> Receptor => _receptor;
    /// <summary>Local ids of the synapses from source <paramref name="source"/> (ascending).</summary>
    public ReadOnlySpan<int> Outgoing(int source) => _outIds.AsSpan(_outStart[source], _outStart[source + 1] - _outStart[source]);
    /// <summary>Local ids of the synapses into neuron <paramref name="target"/> (ascending): the reverse index.</summary>
    public ReadOnlySpan<int> Incoming(int target) => _inIds.AsSpan(_inStart[target], _inStart[target + 1] - _inStart[target]);
    /// <summary>The presynaptic sources of <see cref="Incoming"/>(<paramref name="target"/>), in its order (saves a random read of <see cref="Pre"/> per synapse).</summary>
    public ReadOnlySpan<int> IncomingSources(int target) => _inPre.AsSpan(_inStart[target], _inStart[target + 1] - _inStart[target]);
    /// <summary>Bytes of this view's indices (pre, post, delay, table position, receptor, the outgoing and incoming indices), held once per engine.</summary>
    public long IndexBytes => 4L * (_pre.Length + _post.Length + _delay.Length + _tablePosition.Length + _outIds.Length + _inIds.Length + _inPre.Length) + _receptor.Length
                              + 4L * (_outStart.Length + _inStart.Length + _wholeTraceRow.Length);
    /// <summary>Position of each local synapse in its compiled table (synapse table or trace-coupling table).</summary>
    internal ReadOnlySpan<int> TablePosition => _tablePosition;
    /// <summary>Trace-table start of <paramref name="target"/>'s row when <see cref="Incoming"/> of it is that whole row in order, else −1.</summary>
    internal int WholeTraceRow(int target) => IsTraceCoupled ? _wholeTraceRow[target] : -1;
}

/// <summary>Which spikes a trace follows: presynaptic sources (neurons and inputs) or postsynaptic neurons.</summary>
public enum TraceKind
{
    /// <summary>One trace per source (neurons, then input sources).</summary>
    Pre,
    /// <summary>One trace per neuron.</summary>
    Post,
}

/// <summary>What a spike does to a trace.</summary>
public enum TraceUpdate
{
    /// <summary>x ← x·α^Δt + c for a spike of multiplicity c: the all-to-all trace (every earlier spike counts).</summary>
    Accumulate,
    /// <summary>x ← 1 at a spike (whatever its multiplicity): the nearest-spike trace, α^(t − t_last) of the latest spike.</summary>
    Nearest,
}

/// <summary>
/// A lazily decayed trace, α = exp(−dt/τ), shared by every rule asking for the same (kind, τ, update, delay): between
/// spikes x decays as x·α^Δt; a spike adds its multiplicity (<see cref="TraceUpdate.Accumulate"/>) or sets x to 1
/// (<see cref="TraceUpdate.Nearest"/>). A post trace with <paramref name="DelayTicks"/> d ≥ 1 takes the post spikes of
/// tick t − d at tick t: it is the post trace as seen at a synapse whose dendritic delay is d (NEST's
/// <c>get_K_value(t − d)</c>; Morrison, Diesmann &amp; Gerstner 2008, Biol. Cybern. 98:459, section 4).
/// </summary>
/// <param name="Kind">Pre (sources) or post (neurons).</param>
/// <param name="TauMs">τ (ms).</param>
/// <param name="Slot">Index among the engine's traces.</param>
/// <param name="Update">What a spike does (accumulate or reset to 1).</param>
/// <param name="DelayTicks">For post traces: the dendritic delay in ticks after which a spike reaches the trace (0: at once).</param>
public sealed record TraceHandle(TraceKind Kind, double TauMs, int Slot, TraceUpdate Update = TraceUpdate.Accumulate, int DelayTicks = 0);

/// <summary>A named per-synapse state array of a plastic projection (one per instance), e.g. an eligibility trace.</summary>
/// <param name="Projection">The projection.</param>
/// <param name="Name">Name (unique per projection), also its key in checkpoints.</param>
/// <param name="Slot">Index among the engine's synapse-state arrays.</param>
public sealed record SynapseStateHandle(PlasticProjection Projection, string Name, int Slot);
