using Sim.EventCore.Plasticity;

namespace Sim.Plasticity;

/// <summary>
/// The weight a presynaptic spike carries, computed when it is emitted and delivered at its arrival d ticks later, even
/// when the synapse changes in between (NEST's <c>stdp_synapse</c> and <c>tsodyks2_synapse</c> set the event's weight in
/// <c>send()</c>, at the spike). The engines deliver a plastic spike with the grid weight at its arrival
/// (docs/plasticity.md), so a spike emitted at tick t on a synapse of delay d is given its weight by writing it in the
/// Plasticity phase of tick t + d − 1 (at once for d = 1): the last write before the arrival. Since a synapse has one
/// delay, its spikes arrive in the order they were sent and each finds its own weight. One per rule instance and
/// projection; the queue is rule state (<see cref="Capture"/>) and is dropped at a trial start, with the spikes in flight.
/// Writes go through <see cref="IPlasticityContext.SetWeight"/> (rounded onto the grid, checked), so both engines see the
/// same bits. Growth of the per-slot queues happens only while the traffic grows (amortised, as the delivery ring's).
/// </summary>
public sealed class TransmittedWeights
{
    private readonly PlasticProjection _projection;
    private readonly int _slots;
    private readonly int[][] _synapse;
    private readonly double[][] _weight;
    private readonly int[] _length;
    private readonly long[] _due;

    /// <summary>A queue for <paramref name="projection"/> (its longest delay sets the ring).</summary>
    public TransmittedWeights(PlasticProjection projection)
    {
        _projection = projection;
        int maxDelay = 1;
        foreach (int d in projection.DelayTicks) maxDelay = Math.Max(maxDelay, d);
        _slots = maxDelay;   // writes are due at t + 1 … t + D − 1, flushed at their tick
        _synapse = [.. Enumerable.Range(0, _slots).Select(_ => new int[16])];
        _weight = [.. Enumerable.Range(0, _slots).Select(_ => new double[16])];
        _length = new int[_slots];
        _due = new long[_slots];
        Array.Fill(_due, -1);
    }

    /// <summary>
    /// Gives the spike that synapse <paramref name="k"/> transmits at tick <paramref name="tick"/> the weight
    /// <paramref name="weight"/>: written now for a one-tick delay, else queued to tick + d − 1.
    /// </summary>
    public void Send(IPlasticityContext context, int k, double weight, long tick)
    {
        int d = _projection.DelayTicks[k];
        if (d == 1) { context.SetWeight(_projection, k, weight); return; }
        long due = tick + d - 1;
        int slot = (int)(due % _slots);
        if (_due[slot] != due) { _due[slot] = due; _length[slot] = 0; }
        ref int len = ref _length[slot];
        if (len == _synapse[slot].Length)
        {
            Array.Resize(ref _synapse[slot], 2 * len);
            Array.Resize(ref _weight[slot], 2 * len);
        }
        _synapse[slot][len] = k;
        _weight[slot][len++] = weight;
    }

    /// <summary>Writes what is due at <paramref name="tick"/> (call once per tick, in <see cref="IRuleInstance.OnStep"/>).</summary>
    public void Flush(IPlasticityContext context, long tick)
    {
        int slot = (int)(tick % _slots);
        if (_due[slot] != tick) return;
        var ids = _synapse[slot];
        var w = _weight[slot];
        for (int j = 0; j < _length[slot]; j++) context.SetWeight(_projection, ids[j], w[j]);
        _length[slot] = 0;
        _due[slot] = -1;
    }

    /// <summary>Nothing pending (a trial start: the spikes in flight were dropped).</summary>
    public void Clear()
    {
        Array.Fill(_due, -1);
        Array.Clear(_length);
    }

    /// <summary>The pending writes as (due tick, synapse, weight) triplets, for checkpoints.</summary>
    public double[] Capture()
    {
        var result = new List<double>();
        for (int s = 0; s < _slots; s++)
            if (_due[s] >= 0)
                for (int j = 0; j < _length[s]; j++) result.AddRange([_due[s], _synapse[s][j], _weight[s][j]]);
        return [.. result];
    }

    /// <summary>Sets the pending writes from <see cref="Capture"/>'s output.</summary>
    public void Restore(ReadOnlySpan<double> saved)
    {
        if (saved.Length % 3 != 0) throw new InvalidDataException($"pending weight writes of '{_projection.Name}': {saved.Length} values, not triplets");
        Clear();
        for (int j = 0; j < saved.Length; j += 3)
        {
            long due = (long)saved[j];
            int k = (int)saved[j + 1];
            if (due < 0 || due != saved[j] || k < 0 || k >= _projection.Count || k != saved[j + 1])
                throw new InvalidDataException($"pending weight write {j / 3} of '{_projection.Name}' names tick {saved[j]} and synapse {saved[j + 1]}");
            int slot = (int)(due % _slots);
            if (_due[slot] != due) { _due[slot] = due; _length[slot] = 0; }
            ref int len = ref _length[slot];
            if (len == _synapse[slot].Length)
            {
                Array.Resize(ref _synapse[slot], 2 * len);
                Array.Resize(ref _weight[slot], 2 * len);
            }
            _synapse[slot][len] = k;
            _weight[slot][len++] = saved[j + 2];
        }
    }
}
