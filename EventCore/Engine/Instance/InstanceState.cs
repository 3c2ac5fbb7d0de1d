using System.Diagnostics;
using Sim.EventCore.Compilation;
using Sim.EventCore.Models;
using Sim.EventCore.Numerics;
using Sim.EventCore.Plasticity;

namespace Sim.EventCore.Engine;

/// <summary>
/// One independent instance of the event engine: the populations' state and kernels (<see cref="PopulationState"/>,
/// one per population, from its model), the <see cref="DeliveryRing"/>, the <see cref="InputScheduler"/>, the
/// <see cref="SpikeHistory"/> for checkpoints, the trace-coupled input (<see cref="TraceCoupling"/>), the per-tick I/O
/// inputs and, with rules, the instance's <see cref="InstancePlasticity"/>. <see cref="Step"/> runs one tick through the
/// phases in their fixed order. Allocated once; the step loop allocates nothing.
/// </summary>
internal sealed class InstanceState : IStateReader, ISourceEmitter, IPlasticStateSource, ITickInputs
{
    private readonly CompiledNetwork _net;
    public readonly int Instance;
    public readonly PopulationState[] Populations;
    public readonly DeliveryRing Ring;
    private readonly InputScheduler _inputs;
    private readonly SpikeHistory _history = new();
    public readonly int[] Spikes;
    public int SpikeCount;
    public long Tick;
    /// <summary>Per global neuron id: the exported coupling trace (e.g. GoalLif hz) of this tick, and the trace-coupled input.</summary>
    public readonly double[] CouplingValues, TraceInput;
    private readonly bool _hasTrace;
    private readonly PopulationState[] _couplingSources;
    private double[] _traceQValue;
    /// <summary>The instance's plasticity (null without rules).</summary>
    public InstancePlasticity? Plasticity { get; private set; }
    // Presynaptic spikes of the tick (sources with multiplicity) for the rules' spike hooks, collected only when asked.
    private bool _collectPre;
    private int[] _preSource = new int[256], _preCount = new int[256];
    private int _preLength;
    public readonly PhaseClock Clock = new();

    public InstanceState(CompiledNetwork net, int instance)
    {
        _net = net;
        Instance = instance;
        int n = net.NeuronCount;
        CouplingValues = new double[n];
        TraceInput = new double[n];
        _hasTrace = net.TraceSynapses.Count > 0;
        _traceQValue = net.TraceSynapses.QValueArray;
        var context = new EventStateContext(TraceInput, _hasTrace);
        Populations = [.. net.Populations.Select(p => p.Model.CreateEventState(p, context))];
        _couplingSources = [.. Populations.Where(p => p.Model.CouplingTraceVariable >= 0)];
        Ring = new DeliveryRing(net);
        _inputs = new InputScheduler(net, instance);
        Spikes = new int[n];
        Reset();
    }

    /// <summary>Bytes of engine state per instance for <paramref name="net"/>: ring, neuron state and scratch, input schedule.</summary>
    public static long StateBytes(CompiledNetwork net) => (long)(net.MaxDelayTicks + 1) * net.NeuronCount * 2 * sizeof(double)
        + (long)net.NeuronCount * 8 * sizeof(double) + (long)(net.SourceCount - net.NeuronCount) * InputScheduler.BytesPerSource;

    /// <summary>Initial state at tick 0 (weights, plastic ones included, are kept).</summary>
    public void Reset()
    {
        Tick = 0;
        Ring.Clear();
        foreach (var p in Populations) p.Initialise(_net.Seed, Instance);
        foreach (var p in Populations) p.UpdateDrive(0);
        Array.Clear(CouplingValues); Array.Clear(TraceInput);
        _history.Clear();
        _inputs.Reset();
    }

    /// <summary>Creates this instance's instance of <paramref name="rule"/> (not yet attached; see <see cref="AttachRule"/>).</summary>
    public IRuleInstance PrepareRule(IPlasticityRule rule, PlasticityBinding binding) => EnsurePlasticity(binding).Prepare(rule);

    /// <summary>The instance's plasticity for <paramref name="binding"/>, made on first use.</summary>
    public InstancePlasticity EnsurePlasticity(PlasticityBinding binding) => Plasticity ??= new InstancePlasticity(_net, Instance, binding, this);

    /// <summary>Attaches a rule instance from <see cref="PrepareRule"/>: plastic segments are delivered at arrival from now on.</summary>
    public void AttachRule(IRuleInstance rule, PlasticityBinding binding)
    {
        Plasticity!.Attach(rule);
        Ring.Q = Plasticity.Weights.SpikeQ;
        foreach (var p in binding.Projections) if (!p.IsTraceCoupled) Ring.DeferProjection(_net.Synapses, p.Index);
        _traceQValue = Plasticity.Weights.TraceQValue;
        _collectPre = binding.WantsSpikeHooks;
    }

    /// <summary>The per-tick input array of a population (the tick I/O hook writes it; sample-and-hold).</summary>
    public double[] ExternalInput(int population) => Populations[population].EnableExternalInput();

    /// <summary>Enables the spike clamp of a population (teacher forcing).</summary>
    public double[] SpikeClamp(int population) => Populations[population].EnableClamp();

    /// <summary>One tick through every phase; returns the guard's reason to stop, or null.</summary>
    public string? Step(ISpikeSink[] sinks, IStepObserver[] observers, IRunGuard[] guards, ITickIO[] io)
    {
        long t = Tick;
        Clock.Begin(t);

        // Deliver: per-tick inputs written, drives updated; each population reads its part of this tick's slot and clears it.
        foreach (var h in io) h.BeforeTick(Instance, t, this);
        Ring.DeliverDeferred(_net.Synapses, t);
        int slotStart = Ring.SlotStart(t);
        foreach (var p in Populations)
        {
            p.UpdateDrive(t);
            p.Deliver(Ring.AccExc, Ring.AccInh, slotStart + p.Offset);
        }
        Clock.Mark(Phase.Deliver);

        // Integrate: traces first (GoalLif), then the exact trace-coupled input, then the membranes.
        var ctx = new TickContext(t, CounterRng.Key(_net.Seed, RngStreams.EscapeNoise, (ulong)Instance, (ulong)t));
        foreach (var p in Populations) p.UpdateTraces();
        if (_hasTrace)
        {
            foreach (var p in _couplingSources) p.State[p.Model.CouplingTraceVariable].CopyTo(CouplingValues, p.Offset);
            TraceCoupling.Compute(_net, Populations, _traceQValue, CouplingValues, TraceInput);
        }
        foreach (var p in Populations) p.Integrate(ctx);
        Clock.Mark(Phase.Integrate);

        // Threshold/Reset: ascending global id, so spikes come out in canonical order.
        SpikeCount = 0;
        foreach (var p in Populations)
        {
            int start = SpikeCount;
            p.Threshold(ctx, Spikes, ref SpikeCount);
            if (p.Clamp is not null) p.ApplyClamp(Spikes, start, ref SpikeCount);
        }
        Clock.Mark(Phase.Threshold);

        // Emit: neurons, then inputs, into the ring slots t + d. Sums are exact, so order does not matter.
        _history.Forget(t - (Ring.Slots - 1));
        _preLength = 0;
        for (int k = 0; k < SpikeCount; k++) EmitSource(Spikes[k], t, 1);
        _inputs.Emit(t, this);
        Clock.Mark(Phase.Emit);

        // Plasticity: rules see the state after this tick; weights they write act from the next tick.
        var spikes = new ReadOnlySpan<int>(Spikes, 0, SpikeCount);
        if (Plasticity is { } plastic)
        {
            if (_collectPre) SortPreSpikes();
            plastic.Step(t, spikes, _preSource.AsSpan(0, _preLength), _preCount.AsSpan(0, _preLength));
        }
        Clock.Mark(Phase.Plasticity);

        // Record.
        foreach (var s in sinks) s.OnSpikes(Instance, t, spikes);
        foreach (var o in observers) o.OnStep(Instance, t, this);
        foreach (var h in io) h.AfterTick(Instance, t, spikes, this);
        Clock.Mark(Phase.Record);

        // Guard.
        string? reason = null;
        foreach (var g in guards) { reason = g.Check(Instance, t, spikes); if (reason is not null) break; }
        Clock.Mark(Phase.Guard);

        Tick = t + 1;
        return reason;
    }

    /// <summary>Emits a source's spike into the ring and logs it (and, for spike hooks, collects it).</summary>
    public void EmitSource(int source, long tick, int multiplicity)
    {
        _history.Remember(tick, source, multiplicity);
        Ring.Emit(_net.Synapses, source, tick, multiplicity, tick + 1);
        if (!_collectPre) return;
        if (_preLength == _preSource.Length)
        {
            Array.Resize(ref _preSource, 2 * _preLength);
            Array.Resize(ref _preCount, 2 * _preLength);
        }
        _preSource[_preLength] = source;
        _preCount[_preLength++] = multiplicity;
    }

    // Neurons come first in ascending id, Poisson inputs ascending, spike-time and clock inputs per input: put the input
    // part in ascending id and merge repeats of one source (several spike-time entries in one tick).
    private void SortPreSpikes()
    {
        int n = 0;
        for (int k = 0; k < _preLength; k++)
        {
            int s = _preSource[k], c = _preCount[k], j = n;
            while (j > 0 && _preSource[j - 1] > s) j--;
            if (j > 0 && _preSource[j - 1] == s) { _preCount[j - 1] += c; continue; }
            for (int m = n; m > j; m--) { _preSource[m] = _preSource[m - 1]; _preCount[m] = _preCount[m - 1]; }
            _preSource[j] = s; _preCount[j] = c;
            n++;
        }
        _preLength = n;
    }

    /// <summary>The state of this instance at the current tick (see <see cref="Checkpoint"/>).</summary>
    public InstanceCheckpoint Capture()
    {
        // Tick is the next tick to run: its deliveries are still pending, so keep spikes of t' ≥ Tick − D.
        _history.Forget(Tick - 1 - (Ring.Slots - 1));
        var state = new Dictionary<string, double[]>();
        var last = new long[_net.NeuronCount];
        foreach (var p in Populations)
        {
            foreach (var (name, values) in p.StateArrays()) state[$"{p.Population.Name}.{name}"] = (double[])values.Clone();
            if (p.External is { } held) state[p.Population.Name + InstanceCheckpoint.TickInputSuffix] = (double[])held.Clone();
            if (p.Clamp is { } clamp) state[p.Population.Name + InstanceCheckpoint.ClampSuffix] = InstanceCheckpoint.EncodeClamp(clamp);
            p.LastSpike.CopyTo(last, p.Offset);
        }
        var (ticks, src, count) = _history.Snapshot();
        return new InstanceCheckpoint
        {
            State = state, LastSpike = last, HistoryTicks = ticks, HistorySources = src, HistoryCounts = count,
            PoissonNextMs = (double[])_inputs.PoissonNextMs.Clone(), PoissonCount = (long[])_inputs.PoissonCount.Clone(),
            Plastic = Plasticity?.Capture(),
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
            if (c.State.TryGetValue(p.Population.Name + InstanceCheckpoint.TickInputSuffix, out var held))
            {
                if (held.Length != p.Size) throw new InvalidDataException($"checkpoint's per-tick input of '{p.Population.Name}' has {held.Length} values, not {p.Size}");
                held.CopyTo(p.EnableExternalInput(), 0);
            }
            if (c.State.TryGetValue(p.Population.Name + InstanceCheckpoint.ClampSuffix, out var clamp))
                InstanceCheckpoint.DecodeClamp(clamp, p.Population.Name, p.EnableClamp());
            p.ForceDriveUpdate();
        }
        _inputs.Restore(c.PoissonNextMs, c.PoissonCount, tick);
        if (Plasticity is not null)
        {
            if (c.Plastic is null) throw new InvalidDataException("the checkpoint holds no plastic state, but this engine has plasticity rules");
            Plasticity.Restore(c.Plastic);
        }
        else if (c.Plastic is not null)
            throw new InvalidDataException("the checkpoint holds plastic state (learned weights, traces, rule state); add the same plasticity rules before restoring");
        for (int k = 0; k < c.HistoryTicks.Length; k++)
        {
            _history.Remember(c.HistoryTicks[k], c.HistorySources[k], c.HistoryCounts[k]);
            Ring.Emit(_net.Synapses, c.HistorySources[k], c.HistoryTicks[k], c.HistoryCounts[k], tick);
        }
    }

    public CompiledNetwork Network => _net;

    Span<double> ITickInputs.Current(int population)
        => Populations[population].External ?? throw new InvalidOperationException(
            $"population '{Populations[population].Population.Name}' is not among the per-tick input populations of any I/O hook");

    Span<double> ITickInputs.Clamp(int population)
        => Populations[population].Clamp ?? throw new InvalidOperationException(
            $"population '{Populations[population].Population.Name}' is not among the clamped populations of any I/O hook");

    double[] IPlasticStateSource.Variable(int population, int variable) => Populations[population].State[variable];

    public double Read(int population, string variable, int index)
        => Populations[population].Read(Populations[population].VariableIndex(variable), index);

    public StateHandle Resolve(int population, string variable) => new(population, Populations[population].VariableIndex(variable));

    public double Read(in StateHandle handle, int index) => Populations[handle.Population].Read(handle.Variable, index);
}

/// <summary>
/// Wall time per phase of one instance, sampled: every tick below tick 1024 (where JIT compilation and tier-up happen,
/// which a sample counted 16 times would inflate), then every 16th tick, counted 16 times (reading the clock eight
/// times per tick would cost about 10 % of a CUBA tick).
/// </summary>
internal sealed class PhaseClock
{
    /// <summary>Every how many ticks the phases are timed after the first <see cref="ExactTicks"/> (a power of two).</summary>
    public const int SampleInterval = 16;
    /// <summary>Ticks at the start of a run (tick index below this) whose phases are all timed.</summary>
    public const long ExactTicks = 1024;

    /// <summary>Stopwatch ticks per phase since the last <see cref="Drain"/>.</summary>
    public readonly long[] PhaseTicks = new long[Enum.GetValues<Phase>().Length];
    private bool _timed;
    private long _weight, _last;

    /// <summary>Starts tick <paramref name="t"/>.</summary>
    public void Begin(long t)
    {
        bool exact = t < ExactTicks;
        _timed = exact || (t & (SampleInterval - 1)) == 0;
        _weight = exact ? 1 : SampleInterval;
        if (_timed) _last = Stopwatch.GetTimestamp();
    }

    /// <summary>Ends <paramref name="phase"/> (the time since the previous mark).</summary>
    public void Mark(Phase phase)
    {
        if (!_timed) return;
        long now = Stopwatch.GetTimestamp();
        PhaseTicks[(int)phase] += _weight * (now - _last);
        _last = now;
    }

    /// <summary>Adds the collected times to <paramref name="timings"/> and clears them.</summary>
    public void Drain(PhaseTimings timings)
    {
        for (int p = 0; p < PhaseTicks.Length; p++)
        {
            timings.Add((Phase)p, PhaseTicks[p]);
            PhaseTicks[p] = 0;
        }
    }
}
