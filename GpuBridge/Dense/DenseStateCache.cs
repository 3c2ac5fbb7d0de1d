using Sim.EventCore.Engine;
using Sim.EventCore.Plasticity;

namespace Sim.GpuBridge;

/// <summary>
/// CPU copies of the dense state for the C# side of a tick (plasticity rules, tick I/O): a stored variable of a
/// population is copied from the device once per tick, on first use, for the whole batch, and handed out per batch
/// element in arrays that are reused from tick to tick (no allocation after the first tick).
/// </summary>
internal sealed class DenseStateCache(DensePopulation[] populations, int batch)
{
    private readonly Copy?[][] _copies = [.. populations.Select(p => new Copy?[p.Pop.Model.StateVariables.Count])];
    private long _tick = -1;

    private sealed class Copy(int batch, int n)
    {
        public readonly double[] All = new double[batch * n];
        public readonly double[][] PerInstance = [.. Enumerable.Range(0, batch).Select(_ => new double[n])];
        public long Tick = long.MinValue;
    }

    /// <summary>Marks every copy stale (the state changed).</summary>
    public void Invalidate() => _tick++;

    /// <summary>Stored variable <paramref name="variable"/> of a population in batch element <paramref name="batchIndex"/>.</summary>
    public double[] Variable(int population, int variable, int batchIndex)
    {
        var copy = _copies[population][variable] ??= new Copy(batch, populations[population].Pop.Size);
        if (copy.Tick != _tick)
        {
            populations[population].CopyStored(variable, copy.All);
            int n = copy.PerInstance[0].Length;
            for (int b = 0; b < batch; b++) copy.All.AsSpan(b * n, n).CopyTo(copy.PerInstance[b]);
            copy.Tick = _tick;
        }
        return copy.PerInstance[batchIndex];
    }

    /// <summary>The state source of one batch element, for its <see cref="InstancePlasticity"/>.</summary>
    public IPlasticStateSource For(int batchIndex) => new Source(this, batchIndex);

    private sealed class Source(DenseStateCache cache, int batchIndex) : IPlasticStateSource
    {
        public double[] Variable(int population, int variable) => cache.Variable(population, variable, batchIndex);
    }
}

/// <summary>The <see cref="ITickInputs"/> of one batch element of a dense engine: slices of the populations' per-tick input arrays.</summary>
internal sealed class DenseTickInputs(DensePopulation[] populations) : ITickInputs
{
    /// <summary>The batch element being written.</summary>
    public int Batch { get; set; }

    public Span<double> Current(int population)
    {
        var p = populations[population];
        var all = p.External ?? throw new InvalidOperationException($"population '{p.Pop.Name}' is not among the per-tick input populations of any I/O hook");
        return all.AsSpan(Batch * p.Pop.Size, p.Pop.Size);
    }

    public Span<double> Clamp(int population)
    {
        var p = populations[population];
        var all = p.Clamp ?? throw new InvalidOperationException($"population '{p.Pop.Name}' is not among the clamped populations of any I/O hook");
        return all.AsSpan(Batch * p.Pop.Size, p.Pop.Size);
    }
}
