using System.Collections.Concurrent;
using Microsoft.Extensions.ObjectPool;
using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;

namespace Sim.Probes.Spikes;

/// <summary>Where a <see cref="SpikeMonitor"/> keeps its spikes.</summary>
public sealed record SpikeMonitorOptions
{
    /// <summary>
    /// Path of the spike stream file (<see cref="SpikeStreamFormat"/>), one file for all instances; null keeps every
    /// spike in memory (tests, short runs).
    /// </summary>
    public string? StreamPath { get; init; }
    /// <summary>Spikes per chunk (one chunk per instance is filling at a time; a full chunk is written and recycled).</summary>
    public int ChunkEntries { get; init; } = 64 * 1024;

    /// <summary>
    /// Chunk entries for a batch: 64 Ki for few instances, fewer for large batches so that the chunks filling at once
    /// (one per instance, 12 B per entry) stay near 48 MiB in all (at least 1 Ki entries each).
    /// </summary>
    public static int ChunkEntriesFor(int batchSize) => (int)Math.Clamp((4L << 20) / Math.Max(1, batchSize), 1024, 64 * 1024);

    /// <summary>Bytes the chunks of <paramref name="batchSize"/> instances can hold at once: one filling per instance and the write queue (stream mode).</summary>
    public long ChunkBytes(int batchSize) => (long)(batchSize + WriteQueueChunks + 1) * ChunkEntries * (sizeof(long) + sizeof(int));
    /// <summary>Full chunks that may wait for the writer thread before recording threads block (stream mode).</summary>
    public int WriteQueueChunks { get; init; } = 8;
}

/// <summary>The spikes of one population in one instance, ascending by (time, neuron id).</summary>
/// <param name="Population">Population name.</param>
/// <param name="Size">Number of neurons of the population.</param>
/// <param name="Instance">Instance index.</param>
/// <param name="TimesMs">Spike times (ms) = tick · dt, the tick being the step in which the spike was emitted.</param>
/// <param name="NeuronIds">Population-local neuron index of each spike.</param>
public sealed record PopulationSpikes(string Population, int Size, int Instance, double[] TimesMs, int[] NeuronIds)
{
    /// <summary>Number of spikes.</summary>
    public int Count => TimesMs.Length;
}

/// <summary>
/// Records every spike of chosen populations (Brian2 <c>SpikeMonitor</c>) for every instance of a batch.
/// Each instance fills its own pooled <see cref="SpikeChunk"/>; nothing is allocated per tick. In stream mode a full
/// chunk goes to a writer thread that appends it to the spike stream file and returns it to the pool, so memory stays
/// bounded whatever the run length; in memory mode full chunks are kept.
/// <see cref="OnSpikes"/> may be called concurrently for different instances (never for one instance at once).
/// Call <see cref="Flush"/> (between runs, not during one) before reading results.
/// </summary>
public sealed class SpikeMonitor : ISpikeSink, IDisposable
{
    private readonly int[] _recordedIndexOf; // global neuron id → index in Populations, −1 when not recorded
    private readonly InstanceBuffer[] _buffers;
    private readonly ObjectPool<SpikeChunk> _pool;
    private readonly BlockingCollection<SpikeChunk>? _queue;
    private readonly Thread? _writerThread;
    private readonly SpikeStreamWriter? _writer;
    private readonly object _sync = new();
    private int _pending;
    private volatile Exception? _writerError;
    private bool _disposed;

    private sealed class InstanceBuffer(SpikeChunk current, int populations)
    {
        public SpikeChunk Current = current;
        public readonly List<SpikeChunk> Filled = [];
        public readonly long[] Counts = new long[populations];
        public long TicksSeen;
    }

    /// <summary>Creates a monitor.</summary>
    /// <param name="network">The network being run.</param>
    /// <param name="populations">Names of the populations to record; null or empty records all.</param>
    /// <param name="batchSize">Number of instances (the engine's <c>BatchSize</c>).</param>
    /// <param name="firstInstance">Instance index of batch element 0 (the engine's <c>FirstInstance</c>).</param>
    /// <param name="options">Storage options; default: in memory.</param>
    public SpikeMonitor(CompiledNetwork network, IEnumerable<string>? populations = null, int batchSize = 1, int firstInstance = 0,
        SpikeMonitorOptions? options = null)
        : this(network, populations, batchSize, firstInstance, options, pool: null) { }

    internal SpikeMonitor(CompiledNetwork network, IEnumerable<string>? populations, int batchSize, int firstInstance,
        SpikeMonitorOptions? options, ObjectPool<SpikeChunk>? pool)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        options ??= new SpikeMonitorOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ChunkEntries, 1, nameof(options));
        Network = network;
        BatchSize = batchSize;
        FirstInstance = firstInstance;
        var names = populations?.Distinct().ToArray() ?? [];
        Populations = names.Length == 0 ? network.Populations : [.. network.Populations.Where(p => names.Contains(p.Name))];
        foreach (var n in names) _ = network.Population(n); // throws for an unknown name
        _recordedIndexOf = new int[network.NeuronCount];
        Array.Fill(_recordedIndexOf, -1);
        for (int r = 0; r < Populations.Count; r++) Array.Fill(_recordedIndexOf, r, Populations[r].Offset, Populations[r].Size);

        StreamPath = options.StreamPath;
        int queueChunks = Math.Max(1, options.WriteQueueChunks);
        _pool = pool ?? new DefaultObjectPool<SpikeChunk>(new SpikeChunkPolicy(options.ChunkEntries), 2 * batchSize + queueChunks + 1);
        _buffers = new InstanceBuffer[batchSize];
        for (int b = 0; b < batchSize; b++) _buffers[b] = new InstanceBuffer(Rent(firstInstance + b), Populations.Count);
        if (StreamPath is not null)
        {
            _writer = new SpikeStreamWriter(StreamPath, network, Populations, firstInstance, batchSize);
            _queue = new BlockingCollection<SpikeChunk>(queueChunks);
            _writerThread = new Thread(WriterLoop) { IsBackground = true, Name = "spike stream writer" };
            _writerThread.Start();
        }
    }

    /// <summary>The network.</summary>
    public CompiledNetwork Network { get; }
    /// <summary>The recorded populations, in global-id order.</summary>
    public IReadOnlyList<CompiledPopulation> Populations { get; }
    /// <summary>Number of instances.</summary>
    public int BatchSize { get; }
    /// <summary>Instance index of batch element 0.</summary>
    public int FirstInstance { get; }
    /// <summary>The spike stream file, or null in memory mode.</summary>
    public string? StreamPath { get; }

    /// <inheritdoc />
    public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
    {
        var buf = _buffers[instance - FirstInstance];
        buf.TicksSeen = tick + 1;
        var chunk = buf.Current;
        var counts = buf.Counts;
        foreach (int n in neurons)
        {
            int r = _recordedIndexOf[n];
            if (r < 0) continue;
            counts[r]++;
            if (chunk.Count == chunk.Capacity) chunk = HandOff(buf, instance);
            int k = chunk.Count;
            chunk.Ticks[k] = tick;
            chunk.Neurons[k] = n;
            chunk.Count = k + 1;
        }
    }

    /// <summary>Spikes recorded so far for a population in batch element <paramref name="batchIndex"/>.</summary>
    public long SpikeCount(int batchIndex, string population) => _buffers[batchIndex].Counts[RecordedIndex(population)];

    /// <summary>Ticks seen so far by batch element <paramref name="batchIndex"/> (last reported tick + 1).</summary>
    public long TicksSeen(int batchIndex) => _buffers[batchIndex].TicksSeen;

    /// <summary>
    /// Stream mode: writes every partly filled chunk and waits until the writer has flushed everything to the file,
    /// then rethrows any write error. Memory mode: nothing to do. Call between runs, never during one.
    /// </summary>
    /// <exception cref="IOException">Writing the stream failed.</exception>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_queue is null) return;
        for (int b = 0; b < _buffers.Length; b++)
            if (_buffers[b].Current.Count > 0) HandOff(_buffers[b], FirstInstance + b);
        lock (_sync)
            while (_pending > 0) Monitor.Wait(_sync);
        if (_writerError is { } e) throw new IOException($"writing the spike stream '{StreamPath}' failed: {e.Message}", e);
    }

    /// <summary>
    /// All recorded spikes of batch element <paramref name="batchIndex"/>: ticks and global neuron ids, ascending by
    /// (tick, id). Stream mode reads them back from the file (after <see cref="Flush"/>).
    /// </summary>
    public (long[] Ticks, int[] Neurons) GetAllSpikes(int batchIndex)
    {
        long total = _buffers[batchIndex].Counts.Sum();
        var ticks = new long[total];
        var neurons = new int[total];
        int k = 0;
        foreach (var (t, n) in BlockMemory(batchIndex))
        {
            t.Span.CopyTo(ticks.AsSpan(k));
            n.Span.CopyTo(neurons.AsSpan(k));
            k += t.Length;
        }
        return (ticks, neurons);
    }

    /// <summary>The spikes of one recorded population in batch element <paramref name="batchIndex"/> (times in ms, local ids).</summary>
    public PopulationSpikes GetSpikes(int batchIndex, string population)
    {
        int r = RecordedIndex(population);
        var pop = Populations[r];
        long total = _buffers[batchIndex].Counts[r];
        var times = new double[total];
        var ids = new int[total];
        int k = 0;
        var clock = new TickClock(Network.DtMs);
        int lo = pop.Offset, hi = pop.Offset + pop.Size;
        foreach (var (tm, nm) in BlockMemory(batchIndex))
        {
            var t = tm.Span;
            var n = nm.Span;
            for (int i = 0; i < t.Length; i++)
                if (n[i] >= lo && n[i] < hi)
                {
                    times[k] = clock.TimeMs(t[i]);
                    ids[k] = n[i] - lo;
                    k++;
                }
        }
        if (k != total) throw new InvalidDataException($"spike stream holds {k} spikes of '{population}' for instance {FirstInstance + batchIndex}, the monitor counted {total}");
        return new PopulationSpikes(pop.Name, pop.Size, FirstInstance + batchIndex, times, ids);
    }

    /// <summary>
    /// The spikes of one recorded population in batch element <paramref name="batchIndex"/> as consecutive slices of at
    /// most <paramref name="maxSpikes"/> spikes (times in ms, local ids), in time order: what writers use so that the
    /// memory of the output stage does not grow with the length of the run. The arrays of a slice are reused by the
    /// next one; copy what must outlive it.
    /// </summary>
    public IEnumerable<PopulationSpikes> GetSpikeSlices(int batchIndex, string population, int maxSpikes = 1 << 20)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSpikes);
        int r = RecordedIndex(population);
        var pop = Populations[r];
        long total = _buffers[batchIndex].Counts[r];
        int capacity = (int)Math.Clamp(total, 1, maxSpikes);
        var times = new double[capacity];
        var ids = new int[capacity];
        int k = 0;
        long seen = 0;
        var clock = new TickClock(Network.DtMs);
        int lo = pop.Offset, hi = pop.Offset + pop.Size;
        // Fills the slice from block position i on; returns where it stopped (the block's end when it fits).
        int Fill(ReadOnlyMemory<long> tm, ReadOnlyMemory<int> nm, int i)
        {
            var t = tm.Span;
            var n = nm.Span;
            for (; i < t.Length && k < capacity; i++)
                if (n[i] >= lo && n[i] < hi)
                {
                    times[k] = clock.TimeMs(t[i]);
                    ids[k] = n[i] - lo;
                    k++;
                    seen++;
                }
            return i;
        }
        foreach (var (tm, nm) in BlockMemory(batchIndex))
            for (int i = Fill(tm, nm, 0); k == capacity; i = Fill(tm, nm, i))
            {
                yield return new PopulationSpikes(pop.Name, pop.Size, FirstInstance + batchIndex, times, ids);
                k = 0;
                if (i == tm.Length) break;
            }
        if (seen != total) throw new InvalidDataException($"spike stream holds {seen} spikes of '{population}' for instance {FirstInstance + batchIndex}, the monitor counted {total}");
        if (k > 0) yield return new PopulationSpikes(pop.Name, pop.Size, FirstInstance + batchIndex, times[..k], ids[..k]);
    }

    /// <summary>Blocks of (ticks, global ids) of one batch element, in time order.</summary>
    internal IEnumerable<(ReadOnlyMemory<long> Ticks, ReadOnlyMemory<int> Neurons)> BlockMemory(int batchIndex)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (StreamPath is null)
        {
            var buf = _buffers[batchIndex];
            foreach (var c in buf.Filled) yield return (c.Ticks.AsMemory(0, c.Count), c.Neurons.AsMemory(0, c.Count));
            yield return (buf.Current.Ticks.AsMemory(0, buf.Current.Count), buf.Current.Neurons.AsMemory(0, buf.Current.Count));
            yield break;
        }
        Flush();
        using var reader = new SpikeStreamReader(StreamPath);
        foreach (var rec in reader.Records(FirstInstance + batchIndex)) yield return (rec.Ticks, rec.Neurons);
        if (reader.Truncated) throw new InvalidDataException($"spike stream '{StreamPath}' is torn or corrupt");
    }

    private int RecordedIndex(string population)
    {
        for (int r = 0; r < Populations.Count; r++)
            if (Populations[r].Name == population) return r;
        throw new ArgumentException($"population '{population}' is not recorded by this spike monitor", nameof(population));
    }

    private SpikeChunk Rent(int instance)
    {
        var c = _pool.Get();
        c.Instance = instance;
        return c;
    }

    // Called on the instance's thread when its chunk is full (and by Flush): only here may anything allocate or block.
    private SpikeChunk HandOff(InstanceBuffer buf, int instance)
    {
        var full = buf.Current;
        if (_queue is null) buf.Filled.Add(full);
        else
        {
            lock (_sync) _pending++;
            _queue.Add(full);
        }
        buf.Current = Rent(instance);
        return buf.Current;
    }

    private void WriterLoop()
    {
        foreach (var chunk in _queue!.GetConsumingEnumerable())
        {
            try
            {
                if (_writerError is null) _writer!.Write(chunk);
            }
            catch (Exception e)
            {
                _writerError = e; // keep draining so recording threads never block on a dead writer
            }
            finally
            {
                _pool.Return(chunk);
                lock (_sync)
                {
                    _pending--;
                    if (_pending == 0) Monitor.PulseAll(_sync);
                }
            }
        }
    }

    /// <summary>
    /// Stream mode: writes the remaining spikes, stops the writer thread and closes the file (throws an
    /// <see cref="IOException"/> if writing failed). Returns every chunk to the pool.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        Exception? error = null;
        try
        {
            if (_queue is not null) Flush();
        }
        catch (IOException e) { error = e; }
        _disposed = true;
        _queue?.CompleteAdding();
        _writerThread?.Join();
        _queue?.Dispose();
        _writer?.Dispose();
        foreach (var buf in _buffers)
        {
            foreach (var c in buf.Filled) _pool.Return(c);
            buf.Filled.Clear();
            _pool.Return(buf.Current);
        }
        if (error is not null) throw error;
    }
}
