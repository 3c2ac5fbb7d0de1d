using System.Diagnostics;
using Sim.EventCore.Compilation;

namespace Sim.EventCore.Engine;

/// <summary>Receives the source spikes an <see cref="InputScheduler"/> emits in a tick.</summary>
internal interface ISourceEmitter
{
    /// <summary>Source <paramref name="source"/> spiked <paramref name="multiplicity"/> times in tick <paramref name="tick"/>.</summary>
    void EmitSource(int source, long tick, int multiplicity);
}

/// <summary>
/// The input sources of one instance on the grid: Poisson processes (continuous-time spike times from the counter RNG,
/// <see cref="CompiledInput.NextPoissonTimeMs"/>; a spike at s falls into tick ⌊s/dt⌋ and several in one tick deliver
/// that many times), spike-time arrays and clocks. Poisson spikes are scheduled in a calendar of the next 64 ticks (one
/// bit per input source and tick: ascending source order for free) in front of a binary heap on (tick, source) for
/// spikes further ahead; at high input rates almost every source fires within a few ticks, so most never touch the heap.
/// </summary>
internal sealed class InputScheduler
{
    private readonly CompiledNetwork _net;
    private readonly int _instance;
    private readonly double[] _poissonNext;
    private readonly long[] _poissonCount;
    private const int CalendarTicks = 64;   // a power of two
    private readonly ulong[] _calendar;
    private readonly int[] _calendarCount = new int[CalendarTicks];
    private readonly int _calendarWords, _calendarBase;
    private readonly ulong[] _poissonKey;   // per source, fixed for the instance
    private readonly int[] _inputOfSource;  // input index of every input source (source id − NeuronCount)
    private readonly long[] _heapTick;
    private readonly int[] _heapSrc;
    private int _heapCount;
    private readonly int[] _spikeCursor;
    private long _tick;

    public InputScheduler(CompiledNetwork net, int instance)
    {
        _net = net;
        _instance = instance;
        int n = net.NeuronCount;
        int poissonSources = net.Inputs.Where(i => i.RatePerMs is not null).Sum(i => i.Size);
        _poissonNext = new double[net.SourceCount];
        _poissonKey = new ulong[net.SourceCount];
        _inputOfSource = new int[net.SourceCount - n];
        foreach (var inp in net.Inputs) Array.Fill(_inputOfSource, inp.Index, inp.Offset - n, inp.Size);
        _poissonCount = new long[net.SourceCount];
        _heapTick = new long[poissonSources];
        _heapSrc = new int[poissonSources];
        _calendarBase = n;
        _calendarWords = (net.SourceCount - n + 63) / 64;
        _calendar = new ulong[CalendarTicks * _calendarWords];
        _spikeCursor = new int[net.Inputs.Length];
    }

    /// <summary>Bytes of the schedule per input source (next time, counter, key, calendar bits, heap entry).</summary>
    public const int BytesPerSource = 8 + 8 + 8 + 8 + 12;

    /// <summary>The Poisson generators' next spike time per source id (0 for other sources).</summary>
    public double[] PoissonNextMs => _poissonNext;
    /// <summary>The Poisson generators' spike counter per source id.</summary>
    public long[] PoissonCount => _poissonCount;

    /// <summary>Generators at tick 0.</summary>
    public void Reset()
    {
        _tick = 0;
        Array.Clear(_spikeCursor);
        _heapCount = 0;
        Array.Clear(_calendar); Array.Clear(_calendarCount);
        foreach (var inp in _net.Inputs)
        {
            if (inp.RatePerMs is null) continue;
            var spec = (Description.PoissonInput)inp.Spec;
            for (int s = 0; s < inp.Size; s++)
            {
                int src = inp.Offset + s;
                _poissonCount[src] = 0;
                if (inp.RatePerMs[s] <= 0) continue;
                _poissonKey[src] = inp.PoissonKey(_net.Seed, _instance, s);
                _poissonNext[src] = inp.NextPoissonTimeFromKeyMs(_poissonKey[src], s, 0, spec.StartMs);
                Schedule(inp, src);
            }
        }
    }

    /// <summary>Generators as saved at <paramref name="tick"/>: the calendar and heap are rebuilt from the next spike times.</summary>
    public void Restore(double[] next, long[] count, long tick)
    {
        if (next.Length != _poissonNext.Length) throw new InvalidDataException("checkpoint has a different number of input sources");
        Reset();
        _tick = tick;
        next.CopyTo(_poissonNext, 0);
        count.CopyTo(_poissonCount, 0);
        _heapCount = 0;
        Array.Clear(_calendar); Array.Clear(_calendarCount);
        foreach (var inp in _net.Inputs)
            if (inp.RatePerMs is not null)
                for (int s = 0; s < inp.Size; s++)
                {
                    int src = inp.Offset + s;
                    if (inp.RatePerMs[s] > 0 && TimeGrid.FloorTicks(_poissonNext[src], _net.DtMs) >= tick) Schedule(inp, src);
                }
        // Spike-time cursors are positions in a tick-sorted list; the emit loop skips entries before the tick.
        Array.Clear(_spikeCursor);
    }

    private void Schedule(CompiledInput inp, int src)
    {
        double t = _poissonNext[src];
        if (inp.PoissonStopped(t)) return;
        ScheduleAt(TimeGrid.FloorTicks(t, _net.DtMs), src);
    }

    private void ScheduleAt(long tick, int src)
    {
        Debug.Assert(tick >= _tick, "a Poisson spike scheduled in the past");
        if (tick < _tick + CalendarTicks) CalendarAdd(tick, src);
        else HeapPush(tick, src);
    }

    private void CalendarAdd(long tick, int src)
    {
        int bucket = (int)(tick & (CalendarTicks - 1)), bit = src - _calendarBase;
        _calendar[bucket * _calendarWords + (bit >> 6)] |= 1UL << (bit & 63);
        _calendarCount[bucket]++;
    }

    /// <summary>
    /// Emits every input spike of tick <paramref name="t"/>: Poisson sources due this tick in ascending source order (a
    /// source with several spikes in the tick once, with their count), then spike-time and clock inputs in input order.
    /// </summary>
    public void Emit<TEmitter>(long t, TEmitter emitter) where TEmitter : ISourceEmitter
    {
        _tick = t;
        // Heap entries that came within the calendar's horizon move into it first.
        while (_heapCount > 0 && _heapTick[0] < t + CalendarTicks)
        {
            long due = _heapTick[0];
            int s = _heapSrc[0];
            HeapPop();
            CalendarAdd(due, s);
        }
        int bucket = (int)(t & (CalendarTicks - 1));
        if (_calendarCount[bucket] > 0)
        {
            int words = _calendarWords, first = bucket * words;
            for (int w = 0; w < words; w++)
            {
                ulong word = _calendar[first + w];
                if (word == 0) continue;
                _calendar[first + w] = 0;   // new entries from this loop go to later ticks, i.e. other buckets
                while (word != 0)
                {
                    int src = _calendarBase + (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(word);
                    word &= word - 1;
                    var inp = _net.Inputs[_inputOfSource[src - _calendarBase]];
                    int local = src - inp.Offset;
                    int count = 0;
                    double next;
                    long nextTick;
                    bool stopped;
                    do
                    {
                        count++;
                        next = _poissonNext[src] = inp.NextPoissonTimeFromKeyMs(_poissonKey[src], local, ++_poissonCount[src], _poissonNext[src]);
                        nextTick = TimeGrid.FloorTicks(next, _net.DtMs);
                        stopped = inp.PoissonStopped(next);
                    } while (nextTick == t && !stopped);
                    emitter.EmitSource(src, t, count);
                    if (!stopped) ScheduleAt(nextTick, src);
                }
            }
            _calendarCount[bucket] = 0;
        }
        for (int i = 0; i < _net.Inputs.Length; i++)
        {
            var inp = _net.Inputs[i];
            if (inp.SpikeTicks is { } ticks)
            {
                ref int c = ref _spikeCursor[i];
                while (c < ticks.Length && ticks[c] < t) c++;
                while (c < ticks.Length && ticks[c] == t) { emitter.EmitSource(inp.Offset + inp.SpikeIndices![c], t, 1); c++; }
            }
            else if (inp.ClockSpanTicks > 0)
            {
                int ch = inp.ClockChannelAt(t);
                if (ch >= 0) emitter.EmitSource(inp.Offset + ch, t, 1);
            }
        }
    }

    // Binary min-heap on (tick, source): ties broken by source id, so the pop order is deterministic.
    private void HeapPush(long tick, int src)
    {
        int i = _heapCount++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (Less(_heapTick[parent], _heapSrc[parent], tick, src)) break;
            _heapTick[i] = _heapTick[parent]; _heapSrc[i] = _heapSrc[parent];
            i = parent;
        }
        _heapTick[i] = tick; _heapSrc[i] = src;
    }

    private void HeapPop()
    {
        int last = --_heapCount;
        if (last == 0) return;
        long tick = _heapTick[last];
        int src = _heapSrc[last];
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= last) break;
            if (child + 1 < last && Less(_heapTick[child + 1], _heapSrc[child + 1], _heapTick[child], _heapSrc[child])) child++;
            if (Less(tick, src, _heapTick[child], _heapSrc[child])) break;
            _heapTick[i] = _heapTick[child]; _heapSrc[i] = _heapSrc[child];
            i = child;
        }
        _heapTick[i] = tick; _heapSrc[i] = src;
    }

    private static bool Less(long t1, int s1, long t2, int s2) => t1 < t2 || (t1 == t2 && s1 < s2);
}
