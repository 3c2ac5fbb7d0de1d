using Sim.EventCore.Compilation;

namespace Sim.EventCore.Engine;

/// <summary>
/// The delivery ring of one instance (Brian2's spike queue, NEST's ring buffer): one accumulator array per slot and
/// receptor, slot (t + d) mod (D_max + 1) holding the fixed-point sums that arrive at tick t + d. Sums of integer
/// weights below 2^53 are exact in any order (numerics contract item 3). A population reads its part of the slot of the
/// current tick and clears it (read, then clear, in one pass).
/// <para>Segments of plastic spike projections are not scattered at emission: their spikes wait in a per-slot list and are
/// scattered at the start of their arrival tick with the weights of that moment, so a spike crossing a plastic synapse
/// uses the weight at its arrival (Brian2's <c>on_pre</c> semantics), as in the dense engine, whose ring holds spike
/// counts, and a checkpoint's pending spikes are delivered with the restored weights. Static segments are scattered at
/// emission, which gives the same sums since their weights never change.</para>
/// </summary>
internal sealed class DeliveryRing
{
    private readonly int _n;

    /// <summary>Excitatory (q ≥ 0 at compilation) and inhibitory accumulators, [slot·N + neuron].</summary>
    public readonly double[] AccExc, AccInh;

    /// <summary>Slots: D_max + 1.</summary>
    public readonly int Slots;

    /// <summary>The weights in synapse-table order: the compiled ones, or the instance's plastic copy.</summary>
    public int[] Q;

    // Per segment: true when its weights are plastic (scattered at arrival). Per slot: the deferred (segment, multiplicity).
    private bool[]? _deferred;
    private int[][] _pendingSegment = [], _pendingCount = [];
    private int[] _pendingLength = [];

    public DeliveryRing(CompiledNetwork net)
    {
        _n = net.NeuronCount;
        Slots = net.MaxDelayTicks + 1;
        AccExc = new double[(long)Slots * _n];
        AccInh = new double[(long)Slots * _n];
        Q = net.Synapses.QArray;
    }

    /// <summary>Index of neuron 0 in the slot of tick <paramref name="t"/>.</summary>
    public int SlotStart(long t) => (int)(t % Slots) * _n;

    /// <summary>Every slot back to +0 and no spike pending (tick 0).</summary>
    public void Clear()
    {
        Array.Clear(AccExc);
        Array.Clear(AccInh);
        Array.Clear(_pendingLength);
    }

    /// <summary>Makes the segments of <paramref name="projection"/> (index in the description) deliver at arrival.</summary>
    public void DeferProjection(SynapseTable syn, int projection)
    {
        _deferred ??= new bool[syn.SegmentDelay.Length];
        for (int g = 0; g < _deferred.Length; g++) if (syn.SegmentProjection[g] == projection) _deferred[g] = true;
        if (_pendingLength.Length == 0)
        {
            _pendingSegment = [.. Enumerable.Range(0, Slots).Select(_ => new int[16])];
            _pendingCount = [.. Enumerable.Range(0, Slots).Select(_ => new int[16])];
            _pendingLength = new int[Slots];
        }
    }

    /// <summary>Scatters the deferred spikes arriving at tick <paramref name="t"/> with the current weights (the start of its Deliver phase).</summary>
    public void DeliverDeferred(SynapseTable syn, long t)
    {
        if (_pendingLength.Length == 0) return;
        int slot = (int)(t % Slots);
        int count = _pendingLength[slot];
        if (count == 0) return;
        int[] segStart = syn.SegmentStartArray, target = syn.TargetArray;
        byte[] rec = syn.SegmentReceptorArray;
        var segs = _pendingSegment[slot];
        var mult = _pendingCount[slot];
        for (int j = 0; j < count; j++)
        {
            int g = segs[j];
            var acc = (rec[g] == 0 ? AccExc : AccInh).AsSpan(slot * _n, _n);
            if (mult[j] == 1) DeliveryKernel.ScatterAdd(acc, target, Q, segStart[g], segStart[g + 1]);
            else DeliveryKernel.ScatterAdd(acc, target, Q, segStart[g], segStart[g + 1], mult[j]);
        }
        _pendingLength[slot] = 0;
    }

    private void Defer(int slot, int segment, int multiplicity)
    {
        ref int len = ref _pendingLength[slot];
        if (len == _pendingSegment[slot].Length)
        {
            Array.Resize(ref _pendingSegment[slot], 2 * len);
            Array.Resize(ref _pendingCount[slot], 2 * len);
        }
        _pendingSegment[slot][len] = segment;
        _pendingCount[slot][len++] = multiplicity;
    }

    /// <summary>
    /// Adds the weights of <paramref name="source"/>'s spike at tick <paramref name="t"/> (each taken
    /// <paramref name="multiplicity"/> times) to the slots t + d, for every delay d with t + d ≥ <paramref name="fromTick"/>
    /// (a restore re-emits only what has not arrived yet).
    /// </summary>
    public void Emit(SynapseTable syn, int source, long t, int multiplicity, long fromTick)
    {
        int[] segStart = syn.SegmentStartArray, target = syn.TargetArray, q = Q, delay = syn.SegmentDelayArray;
        byte[] rec = syn.SegmentReceptorArray;
        for (int g = syn.SegmentOffsets[source]; g < syn.SegmentOffsets[source + 1]; g++)
        {
            if (t + delay[g] < fromTick) continue;
            if (_deferred is not null && _deferred[g]) { Defer((int)((t + delay[g]) % Slots), g, multiplicity); continue; }
            long slotBase = ((t + delay[g]) % Slots) * _n;
            var acc = (rec[g] == 0 ? AccExc : AccInh).AsSpan((int)slotBase, _n);
            int end = segStart[g + 1];
            if (multiplicity == 1) DeliveryKernel.ScatterAdd(acc, target, q, segStart[g], end);
            else DeliveryKernel.ScatterAdd(acc, target, q, segStart[g], end, multiplicity);
        }
    }
}
