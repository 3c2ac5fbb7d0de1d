using System.Numerics.Tensors;
using System.Diagnostics;
using Sim.EventCore.Compilation;
using Sim.EventCore.Models;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Engine;

/// <summary>
/// Everything one independent instance owns: neuron state, the delivery ring (calendar queue of fixed-point
/// sums, one slot per tick of the maximum delay), the Poisson event heap, input cursors and the spike buffer.
/// Allocated once; the step loop allocates nothing.
/// </summary>
internal sealed class InstanceState : IPlasticityContext
{
    private readonly CompiledNetwork _net;
    public readonly int Instance;
    public readonly PopulationState[] Populations;
    public readonly double[] AccExc, AccInh;
    public readonly int RingSlots;
    public readonly int[] Spikes;
    public int SpikeCount;
    public long Tick;
    /// <summary>Per global neuron id: the exported coupling trace (e.g. GoalLif hz) of this tick, and the trace-coupled input.</summary>
    public readonly double[] CouplingValues, TraceInput;
    private readonly bool _hasTrace;
    private readonly PopulationState[] _couplingSources;
    // Poisson sources: next spike time, spike counter, and a binary heap of (tick, source id) ordered by tick then id.
    private readonly double[] _poissonNext;
    private readonly long[] _poissonCount;
    // Poisson schedule: a calendar of the next CalendarTicks ticks (one bit per input source and tick, ascending source
    // order for free) in front of a binary heap on (tick, source) for spikes further ahead. At high input rates almost
    // every source fires within a few ticks, so most spikes never touch the heap.
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
    // Source spikes of the last RingSlots − 1 ticks (circular log), for checkpoints: (tick, source, count).
    private long[] _histTick = new long[4096];
    private int[] _histSrc = new int[4096], _histCount = new int[4096];
    private int _histHead, _histLen;
    public readonly long[] PhaseTicks = new long[Enum.GetValues<Phase>().Length];
    /// <summary>Every how many ticks the phases are timed after the first <see cref="PhaseExactTicks"/> (a power of two).</summary>
    public const int PhaseSampleInterval = 16;
    /// <summary>Ticks at the start of a run (tick index below this) whose phases are all timed.</summary>
    public const long PhaseExactTicks = 1024;

    public InstanceState(CompiledNetwork net, int instance)
    {
        _net = net;
        Instance = instance;
        int n = net.NeuronCount;
        CouplingValues = new double[n];
        TraceInput = new double[n];
        _hasTrace = net.TraceSynapses.Count > 0;
        var context = new EventStateContext(CouplingValues, TraceInput);
        Populations = [.. net.Populations.Select(p => p.Model.CreateEventState(p, context))];
        _couplingSources = [.. Populations.Where(p => p.Model.CouplingTraceVariable >= 0)];
        RingSlots = net.MaxDelayTicks + 1;
        AccExc = new double[(long)RingSlots * n];
        AccInh = new double[(long)RingSlots * n];
        Spikes = new int[n];
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
        Reset();
    }

    /// <summary>Initial state at tick 0.</summary>
    public void Reset()
    {
        Tick = 0;
        Array.Clear(AccExc); Array.Clear(AccInh);
        foreach (var p in Populations) p.Initialise(_net.Seed, Instance);
        foreach (var p in Populations) p.UpdateDrive(0);
        Array.Clear(CouplingValues); Array.Clear(TraceInput);
        Array.Clear(_spikeCursor);
        _histHead = _histLen = 0;
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
                _poissonKey[src] = inp.PoissonKey(_net.Seed, Instance, s);
                _poissonNext[src] = inp.NextPoissonTimeFromKeyMs(_poissonKey[src], s, 0, spec.StartMs);
                SchedulePoisson(inp, src);
            }
        }
    }

    private void SchedulePoisson(CompiledInput inp, int src)
    {
        double t = _poissonNext[src];
        if (inp.PoissonStopped(t)) return;
        ScheduleAt(TimeGrid.FloorTicks(t, _net.DtMs), src);
    }

    private void ScheduleAt(long tick, int src)
    {
        Debug.Assert(tick >= Tick, "a Poisson spike scheduled in the past");
        if (tick < Tick + CalendarTicks) CalendarAdd(tick, src);
        else HeapPush(tick, src);
    }

    private void CalendarAdd(long tick, int src)
    {
        int bucket = (int)(tick & (CalendarTicks - 1)), bit = src - _calendarBase;
        _calendar[bucket * _calendarWords + (bit >> 6)] |= 1UL << (bit & 63);
        _calendarCount[bucket]++;
    }

    /// <summary>One tick through every phase; returns the guard's reason to stop, or null.</summary>
    public string? Step(ISpikeSink[] sinks, IStepObserver[] observers, IRunGuard[] guards, IPlasticityRule[] rules)
    {
        long t = Tick;
        int n = _net.NeuronCount;
        // Phase timing: every tick of the first 1024 (where JIT compilation and tier-up happen, which a sample counted 16
        // times would inflate), then every 16th tick, counted 16 times (reading the clock eight times per tick would
        // cost about 10 % of a CUBA tick).
        bool exact = t < PhaseExactTicks;
        bool timed = exact || (t & (PhaseSampleInterval - 1)) == 0;
        long weight = exact ? 1 : PhaseSampleInterval;
        long t0 = timed ? Stopwatch.GetTimestamp() : 0;

        // Deliver: each population reads its part of this tick's slot and clears it (read, then clear, in one pass).
        int slotStart = (int)(t % RingSlots) * n;
        foreach (var p in Populations)
        {
            p.UpdateDrive(t);
            p.Deliver(AccExc, AccInh, slotStart + p.Offset);
        }
        long t1 = timed ? Stopwatch.GetTimestamp() : 0;

        // Integrate: traces first (GoalLif), then the exact trace-coupled input, then the membranes.
        var ctx = new TickContext(t, CounterRng.Key(_net.Seed, RngStreams.EscapeNoise, (ulong)Instance, (ulong)t));
        foreach (var p in Populations) p.UpdateTraces();
        if (_hasTrace)
        {
            foreach (var p in _couplingSources) p.State[p.Model.CouplingTraceVariable].CopyTo(CouplingValues, p.Offset);
            ComputeTraceInput();
        }
        foreach (var p in Populations) p.Integrate(ctx);
        long t2 = timed ? Stopwatch.GetTimestamp() : 0;

        // Threshold/Reset: ascending global id, so spikes come out in canonical order.
        SpikeCount = 0;
        foreach (var p in Populations) p.Threshold(ctx, Spikes, ref SpikeCount);
        long t3 = timed ? Stopwatch.GetTimestamp() : 0;

        // Emit: neurons, then inputs, into the ring slots t + d. Sums are exact, so order does not matter.
        var syn = _net.Synapses;
        Forget(t);
        for (int k = 0; k < SpikeCount; k++) EmitSource(syn, Spikes[k], t, n);
        EmitInputs(syn, t, n);
        long t4 = timed ? Stopwatch.GetTimestamp() : 0;

        // Plasticity: rules see the state after this tick; weights they write act from the next tick.
        foreach (var r in rules) r.Apply(Instance, t, this);
        long t4b = timed ? Stopwatch.GetTimestamp() : 0;

        // Record.
        var spikes = new ReadOnlySpan<int>(Spikes, 0, SpikeCount);
        foreach (var s in sinks) s.OnSpikes(Instance, t, spikes);
        foreach (var o in observers) o.OnStep(Instance, t, this);
        long t5 = timed ? Stopwatch.GetTimestamp() : 0;

        // Guard.
        string? reason = null;
        foreach (var g in guards) { reason = g.Check(Instance, t, spikes); if (reason is not null) break; }
        long t6 = timed ? Stopwatch.GetTimestamp() : 0;

        Tick = t + 1;
        if (timed)
        {
            PhaseTicks[(int)Phase.Deliver] += weight * (t1 - t0);
            PhaseTicks[(int)Phase.Integrate] += weight * (t2 - t1);
            PhaseTicks[(int)Phase.Threshold] += weight * (t3 - t2);
            PhaseTicks[(int)Phase.Emit] += weight * (t4 - t3);
            PhaseTicks[(int)Phase.Plasticity] += weight * (t4b - t4);
            PhaseTicks[(int)Phase.Record] += weight * (t5 - t4b);
            PhaseTicks[(int)Phase.Guard] += weight * (t6 - t5);
        }
        return reason;
    }

    private void ComputeTraceInput()
    {
        var tr = _net.TraceSynapses;
        int[] rowStart = tr.RowStart, src = tr.Source;
        var runs = tr.Runs;
        int[] runStart = runs.RowRunStart, first = runs.First, firstSrc = runs.FirstSource, runLen = runs.Length;
        double[] q = tr.QValueArray, hz = CouplingValues;
        foreach (var p in Populations)
        {
            if (!p.Model.TakesTraceInput) continue;
            // W_rec·hz as an exact sum: hz = H·2^-G_in with H an integer (every source trace lies on a grid at least as
            // coarse), so every product Q·hz and every partial sum is a multiple of 2^-G_in below 2^53·2^-G_in (the row
            // bound): exact in float64 in any order. Rows made of long runs of consecutive sources (all-to-all) use
            // vectorised dot products over contiguous slices, other rows a gather. "+ 0.0" turns an all −0 sum into +0.
            double unit = Math.ScaleB(1.0, -p.Population.TraceWeightFractionBits);
            for (int i = p.Offset; i < p.Offset + p.Size; i++)
            {
                double sum = 0;
                int r0 = runStart[i], r1 = runStart[i + 1];
                if ((r1 - r0) * 8 <= rowStart[i + 1] - rowStart[i])
                {
                    for (int r = r0; r < r1; r++)
                        sum += TensorPrimitives.Dot(q.AsSpan(first[r], runLen[r]), hz.AsSpan(firstSrc[r], runLen[r]));
                }
                else
                {
                    for (int k = rowStart[i]; k < rowStart[i + 1]; k++) sum += q[k] * hz[src[k]];
                }
                TraceInput[i] = (sum + 0.0) * unit;
            }
        }
    }

    private void Remember(long t, int source, int count)
    {
        if (_histLen == _histTick.Length)
        {
            // Grows only until the peak number of pending spike groups is reached.
            int cap = _histTick.Length * 2;
            var nt = new long[cap]; var ns = new int[cap]; var nc = new int[cap];
            for (int k = 0; k < _histLen; k++)
            {
                int j = (_histHead + k) % _histTick.Length;
                nt[k] = _histTick[j]; ns[k] = _histSrc[j]; nc[k] = _histCount[j];
            }
            _histTick = nt; _histSrc = ns; _histCount = nc; _histHead = 0;
        }
        int at = (_histHead + _histLen) % _histTick.Length;
        _histTick[at] = t; _histSrc[at] = source; _histCount[at] = count;
        _histLen++;
    }

    private void Forget(long now)
    {
        // After the Deliver phase of tick `now`, spikes emitted at t' ≤ now − D have been delivered entirely.
        long oldest = now - (RingSlots - 1);
        while (_histLen > 0 && _histTick[_histHead] <= oldest) { _histHead = (_histHead + 1) % _histTick.Length; _histLen--; }
    }

    private void EmitSource(SynapseTable syn, int source, long t, int n, int multiplicity = 1)
    {
        Remember(t, source, multiplicity);
        EmitInto(syn, source, t, n, multiplicity, t + 1);
    }

    /// <summary>Adds a source's weights to the ring slots t + d for every delay d with t + d ≥ <paramref name="fromTick"/>.</summary>
    private void EmitInto(SynapseTable syn, int source, long t, int n, int multiplicity, long fromTick)
    {
        int[] segStart = syn.SegmentStartArray, target = syn.TargetArray, q = syn.QArray, delay = syn.SegmentDelayArray;
        byte[] rec = syn.SegmentReceptorArray;
        for (int g = syn.SegmentOffsets[source]; g < syn.SegmentOffsets[source + 1]; g++)
        {
            if (t + delay[g] < fromTick) continue;
            long slotBase = ((t + delay[g]) % RingSlots) * n;
            var acc = (rec[g] == 0 ? AccExc : AccInh).AsSpan((int)slotBase, n);
            int end = segStart[g + 1];
            if (multiplicity == 1) DeliveryKernel.ScatterAdd(acc, target, q, segStart[g], end);
            else DeliveryKernel.ScatterAdd(acc, target, q, segStart[g], end, multiplicity);
        }
    }

    private void EmitInputs(SynapseTable syn, long t, int n)
    {
        // Poisson: every source due this tick, in ascending source order; a source with several spikes in the tick
        // delivers each. Heap entries that came within the calendar's horizon move into it first.
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
                    var inp = InputOf(src);
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
                    EmitSource(syn, src, t, n, count);
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
                while (c < ticks.Length && ticks[c] == t) { EmitSource(syn, inp.Offset + inp.SpikeIndices![c], t, n); c++; }
            }
            else if (inp.ClockSpanTicks > 0)
            {
                int ch = inp.ClockChannelAt(t);
                if (ch >= 0) EmitSource(syn, inp.Offset + ch, t, n);
            }
        }
    }

    private CompiledInput InputOf(int src) => _net.Inputs[_inputOfSource[src - _net.NeuronCount]];

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

    /// <summary>The state of this instance at the current tick (see <see cref="Checkpoint"/>).</summary>
    public InstanceCheckpoint Capture()
    {
        // Tick is the next tick to run: its deliveries are still pending, so keep spikes of t' ≥ Tick − D.
        Forget(Tick - 1);
        var state = new Dictionary<string, double[]>();
        var last = new long[_net.NeuronCount];
        foreach (var p in Populations)
        {
            foreach (var (name, values) in p.StateArrays()) state[$"{p.Population.Name}.{name}"] = (double[])values.Clone();
            p.LastSpike.CopyTo(last, p.Offset);
        }
        var ticks = new long[_histLen]; var src = new int[_histLen]; var count = new int[_histLen];
        for (int k = 0; k < _histLen; k++)
        {
            int j = (_histHead + k) % _histTick.Length;
            ticks[k] = _histTick[j]; src[k] = _histSrc[j]; count[k] = _histCount[j];
        }
        return new InstanceCheckpoint
        {
            State = state, LastSpike = last, HistoryTicks = ticks, HistorySources = src, HistoryCounts = count,
            PoissonNextMs = (double[])_poissonNext.Clone(), PoissonCount = (long[])_poissonCount.Clone(),
        };
    }

    /// <summary>Sets this instance to a captured state at <paramref name="tick"/>.</summary>
    public void Restore(InstanceCheckpoint c, long tick)
    {
        Reset();
        Tick = tick;
        foreach (var p in Populations)
        {
            foreach (var (name, values) in p.StateArrays())
            {
                string key = $"{p.Population.Name}.{name}";
                if (!c.State.TryGetValue(key, out var saved) || saved.Length != values.Length)
                    throw new InvalidDataException($"checkpoint lacks state '{key}' of length {values.Length}");
                saved.CopyTo(values, 0);
            }
            c.LastSpike.AsSpan(p.Offset, p.Size).CopyTo(p.LastSpike);
            p.ForceDriveUpdate();
        }
        if (c.PoissonNextMs.Length != _poissonNext.Length) throw new InvalidDataException("checkpoint has a different number of input sources");
        c.PoissonNextMs.CopyTo(_poissonNext, 0);
        c.PoissonCount.CopyTo(_poissonCount, 0);
        _heapCount = 0;
        Array.Clear(_calendar); Array.Clear(_calendarCount);
        foreach (var inp in _net.Inputs)
            if (inp.RatePerMs is not null)
                for (int s = 0; s < inp.Size; s++)
                {
                    int src = inp.Offset + s;
                    if (inp.RatePerMs[s] > 0 && TimeGrid.FloorTicks(_poissonNext[src], _net.DtMs) >= tick) SchedulePoisson(inp, src);
                }
        // Spike-time cursors are positions in a tick-sorted list; the emit loop skips entries before the tick.
        Array.Clear(_spikeCursor);
        int n = _net.NeuronCount;
        for (int k = 0; k < c.HistoryTicks.Length; k++)
        {
            Remember(c.HistoryTicks[k], c.HistorySources[k], c.HistoryCounts[k]);
            EmitInto(_net.Synapses, c.HistorySources[k], c.HistoryTicks[k], n, c.HistoryCounts[k], tick);
        }
    }

    public CompiledNetwork Network => _net;

    public ReadOnlySpan<double> Variable(int population, string variable)
    {
        var p = Populations[population];
        var vars = p.Model.StateVariables;
        for (int k = 0; k < vars.Count; k++) if (vars[k].Name == variable) return p.State[k];
        throw new ArgumentException($"'{variable}' is not a state variable of population '{Populations[population].Population.Name}'", nameof(variable));
    }

    public void SetTraceRow(int target, ReadOnlySpan<long> q) => _net.SetTraceRow(target, q);
    public void SetTraceRowWeights(int target, ReadOnlySpan<double> weights) => _net.SetTraceRowWeights(target, weights);

    public double Read(int population, string variable, int index)
        => Populations[population].Read(Populations[population].VariableIndex(variable), index);

    public StateHandle Resolve(int population, string variable) => new(population, Populations[population].VariableIndex(variable));

    public double Read(in StateHandle handle, int index) => Populations[handle.Population].Read(handle.Variable, index);
}
