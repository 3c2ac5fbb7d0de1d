using Microsoft.Extensions.ObjectPool;
using Sim.Probes.Spikes;
using Xunit;
using static Sim.Specs.Probes.ProbeTestSupport;

namespace Sim.Specs.Probes;

public sealed class SpikeMonitorSpecs
{
    /// <summary>Spike times are the decimal tick·dt rounded once (run.h5 shows 999.9, not 999.9000000000001).</summary>
    [Theory]
    [InlineData("0.1")]
    [InlineData("0.05")]
    [InlineData("0.025")]
    [InlineData("0.01")]
    [InlineData("0.125")]
    [InlineData("1")]
    public void TickTimesAreTheCorrectlyRoundedDecimal(string dt)
    {
        decimal dtDec = decimal.Parse(dt, System.Globalization.CultureInfo.InvariantCulture);
        double dtMs = (double)dtDec;
        var rng = new Random(5);
        for (int k = 0; k < 20000; k++)
        {
            long tick = k < 10000 ? k : rng.NextInt64(0, 100_000_000);
            Assert.Equal((double)(tick * dtDec), Sim.EventCore.Compilation.TimeGrid.TimeMs(tick, dtMs));
        }
        Assert.Equal(999.9, Sim.EventCore.Compilation.TimeGrid.TimeMs(9999, 0.1));
    }

    [Fact]
    public void Records_exactly_the_spikes_a_plain_sink_sees()
    {
        var net = SmallCuba();
        using var engine = Engine(net);
        var reference = new CollectingSink(1, engine.FirstInstance);
        using var monitor = new SpikeMonitor(net);
        engine.AddSpikeSink(reference);
        engine.AddSpikeSink(monitor);
        engine.Run(net.DurationTicks);

        var (ticks, neurons) = monitor.GetAllSpikes(0);
        Assert.True(ticks.Length > 100, $"expected activity, got {ticks.Length} spikes");
        Assert.Equal(reference.Spikes[0].Select(s => s.Tick), ticks);
        Assert.Equal(reference.Spikes[0].Select(s => s.Neuron), neurons);

        var exc = net.Population("exc");
        var excSpikes = monitor.GetSpikes(0, "exc");
        var expected = reference.Spikes[0].Where(s => s.Neuron < exc.Offset + exc.Size).ToArray();
        Assert.Equal(expected.Select(s => Sim.EventCore.Compilation.TimeGrid.TimeMs(s.Tick, net.DtMs)), excSpikes.TimesMs);
        Assert.Equal(expected.Select(s => s.Neuron - exc.Offset), excSpikes.NeuronIds);
        Assert.Equal(expected.Length, monitor.SpikeCount(0, "exc"));
        Assert.Equal(net.DurationTicks, monitor.TicksSeen(0));
    }

    [Fact]
    public void Recording_allocates_nothing_per_tick()
    {
        var net = SmallCuba(10);
        using var engine = Engine(net);
        using var spikes = new SpikeMonitor(net, options: new SpikeMonitorOptions { ChunkEntries = 1 << 16 });
        var rates = new Sim.Probes.Rates.PopulationRateMonitor(net, "exc", 1);
        var state = new Sim.Probes.State.StateMonitor(net, "exc", ["v_mv"], [0, 1], 0.1);
        int[] fired = [3, 40, 500, 900];
        var reader = engine.State(0);
        spikes.OnSpikes(0, 0, fired);
        state.OnStep(0, 0, reader); // first call resolves the handles
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (long t = 1; t < 50; t++)
        {
            spikes.OnSpikes(0, t, fired);
            rates.OnSpikes(0, t, fired);
            state.OnStep(0, t, reader);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(200, spikes.GetAllSpikes(0).Ticks.Length);
        Assert.Equal(50, state.SampleCount(0));
    }

    [Fact]
    public void Records_only_the_chosen_population()
    {
        var net = SmallCuba(100);
        using var engine = Engine(net);
        var reference = new CollectingSink(1, engine.FirstInstance);
        using var monitor = new SpikeMonitor(net, ["inh"]);
        engine.AddSpikeSink(reference);
        engine.AddSpikeSink(monitor);
        engine.Run(net.DurationTicks);

        var inh = net.Population("inh");
        var (_, neurons) = monitor.GetAllSpikes(0);
        Assert.Equal(reference.Spikes[0].Where(s => s.Neuron >= inh.Offset).Select(s => s.Neuron), neurons);
        Assert.Throws<ArgumentException>(() => monitor.GetSpikes(0, "exc"));
    }

    [Fact]
    public void Batch_of_two_on_two_threads_records_each_instance()
    {
        var net = SmallCuba(150);
        using var engine = Engine(net, batch: 2, threads: 2);
        var reference = new CollectingSink(2, engine.FirstInstance);
        using var monitor = new SpikeMonitor(net, batchSize: 2, firstInstance: engine.FirstInstance);
        engine.AddSpikeSink(reference);
        engine.AddSpikeSink(monitor);
        engine.Run(net.DurationTicks);

        for (int b = 0; b < 2; b++)
        {
            var (ticks, neurons) = monitor.GetAllSpikes(b);
            Assert.Equal(reference.Spikes[b].Select(s => s.Tick), ticks);
            Assert.Equal(reference.Spikes[b].Select(s => s.Neuron), neurons);
        }
        Assert.NotEqual(reference.Spikes[0], reference.Spikes[1]);
    }

    [Fact]
    public void Streaming_with_tiny_chunks_equals_in_memory_and_returns_every_chunk()
    {
        using var dir = new TempDir();
        var net = SmallCuba(150);
        using var engine = Engine(net, batch: 2, threads: 2);
        var tracked = new CountingPool(new DefaultObjectPool<SpikeChunk>(new SpikeChunkPolicy(7), 64));
        using var memory = new SpikeMonitor(net, batchSize: 2, firstInstance: engine.FirstInstance);
        string path = dir.File("run.spikes");
        var streamed = new SpikeMonitor(net, null, 2, engine.FirstInstance, new SpikeMonitorOptions { StreamPath = path, ChunkEntries = 7, WriteQueueChunks = 2 }, tracked);
        engine.AddSpikeSink(memory);
        engine.AddSpikeSink(streamed);
        // Two runs: the stream must continue across Run calls and flushes.
        engine.Run(net.DurationTicks / 3);
        streamed.Flush();
        engine.Run(net.DurationTicks - net.DurationTicks / 3);

        for (int b = 0; b < 2; b++)
        {
            var m = memory.GetAllSpikes(b);
            var s = streamed.GetAllSpikes(b);
            Assert.True(m.Ticks.Length > 7 * 10);
            Assert.Equal(m.Ticks, s.Ticks);
            Assert.Equal(m.Neurons, s.Neurons);
            Assert.Equal(memory.GetSpikes(b, "inh").TimesMs, streamed.GetSpikes(b, "inh").TimesMs);
            // Slices of any size (across and inside the 7-entry chunks) concatenate to the whole population.
            foreach (var source in new[] { memory, streamed })
                foreach (string pop in new[] { "exc", "inh" })
                {
                    var whole = source.GetSpikes(b, pop);
                    foreach (int size in new[] { 1, 3, 7, 50, whole.Count, whole.Count + 1 })
                    {
                        var slices = source.GetSpikeSlices(b, pop, Math.Max(1, size)).Select(x => (Times: x.TimesMs.ToArray(), Ids: x.NeuronIds.ToArray())).ToList();
                        Assert.All(slices, x => Assert.InRange(x.Times.Length, 1, Math.Max(1, size)));
                        Assert.Equal(whole.TimesMs, slices.SelectMany(x => x.Times));
                        Assert.Equal(whole.NeuronIds, slices.SelectMany(x => x.Ids));
                    }
                }
        }
        streamed.Dispose();

        using var reader = new SpikeStreamReader(path);
        Assert.Equal(2, reader.Header.BatchSize);
        Assert.Equal(net.DtMs, reader.Header.DtMs);
        Assert.Equal(["exc", "inh"], reader.Header.Populations.Select(p => p.Name));
        long total = reader.Records().Sum(r => (long)r.Ticks.Length);
        Assert.False(reader.Truncated);
        Assert.Equal(memory.GetAllSpikes(0).Ticks.Length + memory.GetAllSpikes(1).Ticks.Length, total);
        // Every rented chunk came back, and chunks were recycled rather than allocated per hand-off.
        Assert.Equal(0, tracked.Outstanding);
        Assert.True(tracked.Rented > 20, $"rented {tracked.Rented}");
        Assert.True(tracked.Created <= 2 * 2 + 2 + 3, $"created {tracked.Created} chunks for {tracked.Rented} rentals");
    }

    [Fact]
    public void A_torn_stream_stays_readable_up_to_the_last_whole_chunk()
    {
        using var dir = new TempDir();
        var net = SmallCuba(100);
        using var engine = Engine(net);
        string path = dir.File("torn.spikes");
        using var memory = new SpikeMonitor(net);
        var streamed = new SpikeMonitor(net, options: new SpikeMonitorOptions { StreamPath = path, ChunkEntries = 16 });
        engine.AddSpikeSink(memory);
        engine.AddSpikeSink(streamed);
        engine.Run(net.DurationTicks);
        streamed.Dispose();

        long full = new FileInfo(path).Length;
        using (var f = new FileStream(path, FileMode.Open)) f.SetLength(full - 10); // the process "died" mid-record
        using var reader = new SpikeStreamReader(path);
        var records = reader.Records().ToArray();
        Assert.True(reader.Truncated);
        var ticks = records.SelectMany(r => r.Ticks).ToArray();
        var all = memory.GetAllSpikes(0).Ticks;
        Assert.True(ticks.Length >= all.Length - 16 && ticks.Length < all.Length);
        Assert.Equal(all.Take(ticks.Length), ticks);
    }
}

/// <summary>Counts rentals, returns and creations of an inner pool.</summary>
internal sealed class CountingPool(ObjectPool<SpikeChunk> inner) : ObjectPool<SpikeChunk>
{
    private readonly HashSet<SpikeChunk> _seen = new(ReferenceEqualityComparer.Instance);
    private int _outstanding, _rented;
    public int Outstanding => Volatile.Read(ref _outstanding);
    public int Rented => Volatile.Read(ref _rented);
    public int Created { get { lock (_seen) return _seen.Count; } }

    public override SpikeChunk Get()
    {
        var c = inner.Get();
        Interlocked.Increment(ref _outstanding);
        Interlocked.Increment(ref _rented);
        lock (_seen) _seen.Add(c);
        return c;
    }

    public override void Return(SpikeChunk obj)
    {
        Interlocked.Decrement(ref _outstanding);
        inner.Return(obj);
    }
}
