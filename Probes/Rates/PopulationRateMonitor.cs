using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;

namespace Sim.Probes.Rates;

/// <summary>
/// Population rate (Brian2 <c>PopulationRateMonitor</c>, but binned): counts the spikes of one population per bin of
/// B = round(bin_ms / dt) ticks (at least one), per instance. Bin j covers ticks [jB, (j+1)B); its rate is
/// count / (size · width_s) in Hz, width_s being the bin's width in seconds, the last bin being only as wide as the
/// ticks run so far. A monitor of a resumed run (<c>startTick</c> &gt; 0) holds the bins from the one containing the start
/// tick on, on the same grid as the uninterrupted run; its first bin is only as wide as its part after the start tick.
/// Storage grows by doubling (pre-sized for the network's run duration).
/// </summary>
public sealed class PopulationRateMonitor : ISpikeSink
{
    private readonly InstanceBuffer[] _buffers;
    private readonly int _lo, _hi;

    private sealed class InstanceBuffer(int capacity)
    {
        public long[] Counts = new long[capacity];
        public long TicksSeen;
    }

    /// <summary>Creates a monitor from a <see cref="RateMonitorSpec"/>.</summary>
    public PopulationRateMonitor(CompiledNetwork network, RateMonitorSpec spec, int batchSize = 1, int firstInstance = 0)
        : this(network, spec.Population, spec.BinMs, batchSize, firstInstance) { }

    /// <summary>Creates a monitor from a <see cref="RateMonitorSpec"/> for a run that starts at <paramref name="startTick"/>.</summary>
    public PopulationRateMonitor(CompiledNetwork network, RateMonitorSpec spec, int batchSize, int firstInstance, long startTick)
        : this(network, spec.Population, spec.BinMs, batchSize, firstInstance, startTick) { }

    /// <summary>Creates a monitor.</summary>
    /// <param name="network">The network being run.</param>
    /// <param name="population">Population name.</param>
    /// <param name="binMs">Bin width (ms), rounded to whole ticks (at least one).</param>
    /// <param name="batchSize">Number of instances.</param>
    /// <param name="firstInstance">Instance index of batch element 0.</param>
    /// <param name="startTick">The tick the run starts at (a resumed run's checkpoint tick; 0 otherwise).</param>
    public PopulationRateMonitor(CompiledNetwork network, string population, double binMs, int batchSize = 1, int firstInstance = 0, long startTick = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(startTick);
        var pop = network.Population(population);
        Network = network;
        Population = pop.Name;
        Size = pop.Size;
        _lo = pop.Offset;
        _hi = pop.Offset + pop.Size;
        BinTicks = Math.Max(1, TimeGrid.Ticks(binMs, network.DtMs));
        BatchSize = batchSize;
        FirstInstance = firstInstance;
        StartTick = startTick;
        _firstBin = startTick / BinTicks;
        int capacity = (int)Math.Clamp(Math.Max(0, network.DurationTicks - startTick) / BinTicks + 2, 1, 1 << 24);
        _buffers = new InstanceBuffer[batchSize];
        for (int b = 0; b < batchSize; b++) _buffers[b] = new InstanceBuffer(capacity) { TicksSeen = startTick };
    }

    private readonly long _firstBin;

    /// <summary>The tick the run started at: bins before the one holding it are not kept.</summary>
    public long StartTick { get; }

    /// <summary>The network.</summary>
    public CompiledNetwork Network { get; }
    /// <summary>Population name.</summary>
    public string Population { get; }
    /// <summary>Number of neurons of the population.</summary>
    public int Size { get; }
    /// <summary>Bin width in ticks (B).</summary>
    public long BinTicks { get; }
    /// <summary>Bin width (ms) = B · dt.</summary>
    public double BinMs => BinTicks * Network.DtMs;
    /// <summary>Number of instances.</summary>
    public int BatchSize { get; }
    /// <summary>Instance index of batch element 0.</summary>
    public int FirstInstance { get; }

    /// <inheritdoc />
    public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
    {
        if (tick < StartTick) return;
        var buf = _buffers[instance - FirstInstance];
        buf.TicksSeen = tick + 1;
        // Spikes come in ascending id order, so the population's spikes are one contiguous run.
        int lo = LowerBound(neurons, _lo), hi = LowerBound(neurons, _hi);
        if (hi == lo) return;
        long bin = tick / BinTicks - _firstBin;
        if (bin >= buf.Counts.Length) Array.Resize(ref buf.Counts, (int)Math.Max(bin + 1, 2L * buf.Counts.Length));
        buf.Counts[bin] += hi - lo;
    }

    /// <summary>Number of bins so far: ⌈ticks run / B⌉ (from the bin holding <see cref="StartTick"/>).</summary>
    public int BinCount(int batchIndex)
    {
        long seen = _buffers[batchIndex].TicksSeen;
        return seen <= StartTick ? 0 : (int)((seen + BinTicks - 1) / BinTicks - _firstBin);
    }

    /// <summary>Spike count per bin.</summary>
    public long[] Counts(int batchIndex) => _buffers[batchIndex].Counts.AsSpan(0, BinCount(batchIndex)).ToArray();

    /// <summary>Start time of each bin (ms) = j · B · dt (the first bin of a resumed run: its start tick).</summary>
    public double[] BinStartsMs(int batchIndex)
    {
        var t = new double[BinCount(batchIndex)];
        for (int j = 0; j < t.Length; j++) t[j] = TimeGrid.TimeMs(Math.Max(StartTick, (_firstBin + j) * BinTicks), Network.DtMs);
        return t;
    }

    /// <summary>Population rate per bin (Hz): count / (size · bin width in s), the last bin possibly narrower.</summary>
    public double[] RatesHz(int batchIndex)
    {
        var buf = _buffers[batchIndex];
        var rates = new double[BinCount(batchIndex)];
        for (int j = 0; j < rates.Length; j++)
        {
            long from = Math.Max(StartTick, (_firstBin + j) * BinTicks);
            long width = Math.Min((_firstBin + j + 1) * BinTicks, buf.TicksSeen) - from;
            rates[j] = buf.Counts[j] / (Size * width * Network.DtMs / 1000.0);
        }
        return rates;
    }

    private static int LowerBound(ReadOnlySpan<int> sorted, int value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < value) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
