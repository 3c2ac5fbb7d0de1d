using Microsoft.Extensions.ObjectPool;

namespace Sim.Probes.Spikes;

/// <summary>
/// A fixed-capacity block of recorded spikes of one instance: tick and global neuron id per entry, in the order the
/// engine reported them (ascending tick, then ascending neuron id). Chunks are pooled
/// (<see cref="ObjectPool{T}"/>): a monitor fills one per instance, hands it to the writer when full and rents the next.
/// </summary>
public sealed class SpikeChunk : IResettable
{
    /// <summary>Creates an empty chunk holding up to <paramref name="capacity"/> spikes.</summary>
    public SpikeChunk(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Ticks = new long[capacity];
        Neurons = new int[capacity];
    }

    /// <summary>Tick of each spike (the step in which it was emitted; time = tick · dt).</summary>
    public long[] Ticks { get; }
    /// <summary>Global neuron id of each spike (population offset + local index).</summary>
    public int[] Neurons { get; }
    /// <summary>Number of valid entries.</summary>
    public int Count { get; internal set; }
    /// <summary>Instance the spikes belong to (−1 when unassigned).</summary>
    public int Instance { get; internal set; } = -1;
    /// <summary>Maximum number of entries.</summary>
    public int Capacity => Ticks.Length;

    /// <summary>Empties the chunk for reuse.</summary>
    public bool TryReset()
    {
        Count = 0;
        Instance = -1;
        return true;
    }
}

/// <summary>Creates chunks of one capacity and resets them on return.</summary>
internal sealed class SpikeChunkPolicy(int capacity) : PooledObjectPolicy<SpikeChunk>
{
    public override SpikeChunk Create() => new(capacity);
    public override bool Return(SpikeChunk obj) => obj.Capacity == capacity && obj.TryReset();
}
