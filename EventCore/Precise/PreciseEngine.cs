using System.Diagnostics;
using System.Runtime.InteropServices;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Models;

namespace Sim.EventCore.Precise;

/// <summary>Receives every spike of a <see cref="PreciseEngine"/> with its continuous time (the precise analogue of <c>ISpikeSink</c>).</summary>
public interface IPreciseSpikeSink
{
    /// <summary>Neuron <paramref name="neuron"/> (global id) of <paramref name="instance"/> spiked at <paramref name="timeMs"/>.</summary>
    void OnSpike(int instance, double timeMs, int neuron);
}

/// <summary>
/// Thrown by <see cref="PreciseEngine.RunMs"/> when the mean spike rate since time 0 exceeds
/// <see cref="PreciseEngine.RunawayRateHz"/> (docs/precise-engine.md, "Runaway activity"): in continuous time a network
/// of delta synapses with little or no refractoriness can branch into ever more distinct spike times (finitely many in
/// a finite time, but exponentially many), which no grid engine can do (at most one spike per neuron and tick).
/// </summary>
public sealed class PreciseRunawayException(string message) : InvalidOperationException(message);

/// <summary>Records (time, neuron) pairs in emission order (time ascending, then neuron id).</summary>
public sealed class PreciseSpikeRecorder : IPreciseSpikeSink
{
    private readonly List<(double TimeMs, int Neuron)> _spikes = [];

    /// <summary>Every spike recorded so far.</summary>
    public IReadOnlyList<(double TimeMs, int Neuron)> Spikes => _spikes;

    /// <inheritdoc/>
    public void OnSpike(int instance, double timeMs, int neuron) => _spikes.Add((timeMs, neuron));

    /// <summary>Spike times (ms, ascending) of one neuron (global id).</summary>
    public double[] TimesOf(int neuron) => [.. _spikes.Where(s => s.Neuron == neuron).Select(s => s.TimeMs)];
}

/// <summary>
/// The continuous-time, event-driven engine (docs/precise-engine.md) for the models with an exact propagator (LifDelta,
/// LifExp: <see cref="NeuronModelDefinition.SupportsPrecise"/>).
/// <para><b>Dynamics</b> belong to the models: each population's <see cref="PrecisePopulation"/> (in the model's folder,
/// e.g. LifExpPrecise) propagates the state between events in closed form, applies arrivals, resets after a spike and
/// predicts the next threshold crossing (LifDelta analytically; LifExp by a root search with a guaranteed bracket, usually
/// preceded by closed-form lower bounds). A neuron spikes at the first time u exceeds θ (strict, as on the grid); a jump or
/// the initial state may put u above θ at once; after a spike u = V_r is held for exactly t_ref. A neuron spikes at most
/// once at a given time (with t_ref = 0 an immediate re-crossing fires one ulp later).</para>
/// <para><b>Events.</b> Synaptic arrivals at t_s + d with the exact delay d of each synapse (not rounded to ticks),
/// Poisson inputs at the continuous times of <see cref="CompiledInput.NextPoissonTimeMs"/> (the same draws as the grid
/// engines), spike-time inputs at their exact times. All events of one time t are processed as one batch: first the
/// predicted threshold crossings at t (ascending neuron id), then arrivals and input spikes in (kind, id, insertion)
/// order; then every neuron touched at t is tested (u &gt; θ, ascending id) and its next crossing predicted. So
/// simultaneous jumps into one neuron are summed before the test (like a grid tick), and a crossing reached at t
/// fires before inputs arriving at the same t act. Spikes at one time are reported in ascending neuron id.
/// Weights are the compiled fixed-point weights (the same as the grid engines).</para>
/// <para><b>Scheduling</b> (docs/precise-engine.md): a spike queues one event per arrival run (its synapses with one
/// exact delay; per-delay FIFOs when a network has at most 16 delays), Poisson sources have their own indexed heap, and a
/// LifExp neuron's queue entry is usually a closed-form lower bound of its crossing rather than the crossing (the root
/// search runs only when the bounds stop advancing). None of this changes a result: the specs compare against a
/// reference mode with one queue, one event per synapse and eager root searches, bit for bit.</para>
/// <para><b>Runs.</b> <see cref="RunMs"/> processes every event with time &lt; TimeMs + duration; the stored state is
/// only changed at events, so RunMs(a); RunMs(b) gives the same spikes as RunMs(a + b) (when a + b is exact).</para>
/// <para><b>Runaway guard.</b> Delta synapses with little refractoriness can branch into exponentially many distinct
/// spike times in a finite time; <see cref="RunMs"/> throws a <see cref="PreciseRunawayException"/> once the spikes so
/// far exceed <see cref="RunawayRateHz"/> × neurons × (t + 1 ms), instead of running out of memory.</para>
/// <para><b>Accuracy.</b> Spike times agree with closed forms to a few ulps (tests: ≤ 1e-15 relative). For LifExp with
/// τ_x ≠ τ_m but nearly equal (|τ_x − τ_m| ≲ 1e-6·τ_m) the coefficients τ_x/(τ_x − τ_m) used to locate the critical
/// points cancel badly; the membrane itself is evaluated in a cancellation-free form, but grazing crossings may then be
/// decided less reliably (use τ_x = τ_m exactly for the limit case, which is handled exactly).</para>
/// <para><b>Not supported</b> (rejected with a <see cref="SpecException"/> naming the field, <see cref="Unsupported"/>):
/// models without an exact propagator (GoalLif, LifCondExp), escape noise, clock inputs, currents with time-varying
/// scales. One instance per engine (no batch).</para>
/// <para>About 580 lines: the scheduling loop (<see cref="RunMs"/>) and the event handlers it interleaves (crossings,
/// arrival runs, input spikes, bound resolution) share the queues, the touched list and the per-neuron flags, and are one
/// algorithm whose order of operations is the engine's contract; the model dynamics are outside, in the propagators.</para>
/// </summary>
public sealed class PreciseEngine
{
    private readonly CompiledNetwork _net;
    private readonly int _n;
    private readonly PreciseClock _clock;
    private readonly PrecisePopulation[] _pops;
    private readonly PrecisePopulation[] _popOf;   // by global neuron id (one load on the hot paths)
    private readonly PreciseEventHeap _events = new();
    /// <summary>The next spike time of every active Poisson source (global source id), ordered by (time, id).</summary>
    private readonly PredictionHeap _poisson;
    /// <summary>Per source: its input's index (inputs only).</summary>
    private readonly int[] _inputOfSource;
    /// <summary>Arrival runs queued per distinct delay (null: in <see cref="_events"/>, with many distinct delays).</summary>
    private readonly ArrivalFifos? _fifos;
    /// <summary>Per run: its FIFO (index of its delay among the distinct delays).</summary>
    private readonly int[] _runClass = [];
    private readonly PredictionHeap _predictions;
    private readonly List<IPreciseSpikeSink> _sinks = [];
    private readonly bool[] _touched;
    /// <summary>Per neuron: its entry in <see cref="_predictions"/> is a lower bound of the crossing, not the crossing.</summary>
    private readonly bool[] _boundOnly;
    private readonly List<int> _touchedList = [];
    private readonly List<int> _spikesNow = [];
    private readonly long[] _poissonCount;
    private readonly int[][] _inputOrder;
    private readonly int[] _inputCursor;
    // Arrival runs: the synapses of a source with one and the same exact delay, in synapse order. A spike queues one
    // event per run instead of one per synapse (see RunMs for why the processing order is unchanged).
    private readonly int[] _sourceRunStart;   // per source: its first run; sentinel at the end
    private readonly int[] _runStart;         // per run: first position in _runSynapse; sentinel at the end
    private readonly double[] _runDelayMs;    // per run: the common delay
    private readonly int[] _runSynapse;       // synapse indices, grouped by run, ascending within a run
    private readonly int[] _runSeqOrigin;     // per run: synapse k's insertion number is the event's + (k − this)
    private readonly bool _groupArrivals;
    private long _arrivalSeq;                 // insertion number of the next synapse arrival
    private ArrivalItem[] _batch = new ArrivalItem[256];
    private DueRun[] _due = new DueRun[64];

    /// <summary>Creates the engine at time 0 with the initial state of instance <paramref name="instance"/> (default: the spec's instance offset).</summary>
    public PreciseEngine(CompiledNetwork network, int? instance = null) : this(network, instance, referenceScheduling: false, eagerPredictions: false) { }

    /// <summary>
    /// As the public constructor, with the reference behaviours the fast paths are tested against (same results).
    /// <paramref name="referenceScheduling"/>: one queue for everything, as a plain event-driven simulator would have it
    /// — one event per synapse keyed by its target (time, kind, target, insertion number; the queue leaves arrivals in
    /// the processing order by itself), Poisson spikes in the same queue, touched neurons sorted.
    /// <paramref name="eagerPredictions"/>: every LifExp prediction runs the root search at once (from the start).
    /// </summary>
    internal PreciseEngine(CompiledNetwork network, int? instance, bool referenceScheduling, bool eagerPredictions)
    {
        bool groupArrivals = !referenceScheduling;
        if (network.Synapses.DelayMs is null)
            throw new ArgumentException("the precise engine needs the exact synaptic delays: compile with NetworkCompiler.Compile(spec, exactDelays: true) (Sim.Experiments.EngineFactory.Compile does)", nameof(network));
        _net = network;
        Instance = instance ?? network.Spec.Run.InstanceOffset;
        var errors = Unsupported(network.Spec);
        if (errors.Count > 0) throw new SpecException(errors);

        _n = network.NeuronCount;
        int n = _n;
        _clock = new PreciseClock(n);
        _popOf = new PrecisePopulation[n];
        _touched = new bool[n];
        _pops = new PrecisePopulation[network.Populations.Length];
        foreach (var pop in network.Populations)
        {
            var drive = new double[pop.Size];
            for (int i = 0; i < pop.Size; i++)
            {
                double d = pop.ConstantDrive[i];
                foreach (var cur in pop.Currents) d += cur.Amplitude[i] * 1.0;
                drive[i] = d;
            }
            var state = pop.Model.StateVariables.Select(_ => new double[pop.Size]).ToArray();
            pop.Model.Initialise(pop, network.Seed, Instance, state);
            _pops[pop.Index] = pop.Model.CreatePrecise(pop, _clock, state, drive, eagerPredictions)
                ?? throw new InvalidOperationException($"model {pop.Model.Name} has no precise propagator");
            Array.Fill(_popOf, _pops[pop.Index], pop.Offset, pop.Size);
        }

        _groupArrivals = groupArrivals;
        BuildArrivalRuns(network.Synapses, network.SourceCount, groupArrivals, out _sourceRunStart, out _runStart, out _runDelayMs,
            out _runSynapse, out _runSeqOrigin);
        if (groupArrivals)
        {
            var distinct = _runDelayMs.Distinct().Order().ToArray();
            if (distinct.Length <= ArrivalFifos.MaxClasses)
            {
                _fifos = new ArrivalFifos(distinct.Length);
                _runClass = [.. _runDelayMs.Select(d => Array.BinarySearch(distinct, d))];
            }
        }
        _predictions = new PredictionHeap(n);
        _boundOnly = new bool[n];
        for (int i = 0; i < n; i++) Predict(i);

        // Inputs: Poisson processes at their continuous times; spike-time arrays in (time, index) order, one pending event each.
        _poissonCount = new long[network.SourceCount];
        _poisson = new PredictionHeap(network.SourceCount);
        _inputOfSource = new int[network.SourceCount];
        _inputOrder = new int[network.Inputs.Length][];
        _inputCursor = new int[network.Inputs.Length];
        foreach (var inp in network.Inputs)
        {
            if (inp.RatePerMs is { } rate)
            {
                var ps = (PoissonInput)inp.Spec;
                for (int s = 0; s < inp.Size; s++)
                {
                    if (rate[s] <= 0) continue;
                    double t0 = inp.NextPoissonTimeMs(network.Seed, Instance, s, 0, ps.StartMs);
                    _inputOfSource[inp.Offset + s] = inp.Index;
                    if (inp.PoissonStopped(t0)) continue;
                    if (referenceScheduling) _events.Push(t0, PreciseEventKind.Input, inp.Offset + s, inp.Index);
                    else _poisson.Set(inp.Offset + s, t0);
                }
            }
            else if (inp.SpikeTimesMs is { } times)
            {
                var order = Enumerable.Range(0, times.Length).OrderBy(k => times[k]).ThenBy(k => inp.SpikeIndices![k]).ToArray();
                _inputOrder[inp.Index] = order;
                if (order.Length > 0) _events.Push(times[order[0]], PreciseEventKind.Input, inp.Offset + inp.SpikeIndices![order[0]], inp.Index);
            }
        }
    }

    /// <summary>
    /// What in <paramref name="spec"/> the precise engine cannot run, as errors naming the field (located in the file):
    /// models without an exact propagator, escape noise, time-varying currents, clock inputs. Empty when it can.
    /// </summary>
    public static IReadOnlyList<SpecError> Unsupported(NetworkSpec spec)
    {
        var errors = new List<SpecError>();
        var precise = string.Join(", ", ModelRegistry.All.Where(m => m.SupportsPrecise).Select(m => m.Name));
        for (int p = 0; p < spec.Populations.Count; p++)
        {
            var pop = spec.Populations[p];
            if (!pop.Parameters.Model.SupportsPrecise)
                errors.Add(new SpecError($"populations[{p}].model", $"population '{pop.Name}': model {pop.Parameters.Model.Name} has no exact propagator; the precise engine supports {precise}"));
            if (pop.Noise is not null)
                errors.Add(new SpecError($"populations[{p}].escape_noise", $"population '{pop.Name}': escape noise is not supported by the precise engine"));
        }
        for (int c = 0; c < spec.Currents.Count; c++)
            if (spec.Currents[c].TimesMs is { Length: > 0 })
                errors.Add(new SpecError($"currents[{c}].times_ms", $"current into '{spec.Currents[c].Target}': time-varying scales are not supported by the precise engine (only constant currents)"));
        for (int i = 0; i < spec.Inputs.Count; i++)
            if (spec.Inputs[i] is ClockInput)
                errors.Add(new SpecError($"inputs[{i}]", $"input '{spec.Inputs[i].Name}': clock inputs are not supported by the precise engine"));
        if (spec.Run.MaxRateHz is not null)
            errors.Add(new SpecError("run.max_rate_hz", "the precise engine has no windowed rate guard (only its fixed runaway guard, PreciseEngine.RunawayRateHz); remove max_rate_hz or use a grid engine"));
        return [.. errors.Select(e => e with { Location = NetworkSpecValidator.Locate(spec, e.Field) })];
    }

    /// <summary>The compiled network.</summary>
    public CompiledNetwork Network => _net;
    /// <summary>The instance index (selects initial-state and Poisson draws).</summary>
    public int Instance { get; }
    /// <summary>Simulated time (ms): the end of the last run.</summary>
    public double TimeMs { get; private set; }
    /// <summary>Events processed so far: threshold crossings, synaptic arrivals and input spikes.</summary>
    public long EventsProcessed { get; private set; }
    /// <summary>Spikes emitted so far.</summary>
    public long SpikeCount { get; private set; }
    /// <summary>
    /// The runaway guard (default 100 kHz, ten spikes per neuron and 0.1 ms): <see cref="RunMs"/> throws a
    /// <see cref="PreciseRunawayException"/> once the spikes so far exceed RunawayRateHz × neurons × (t + 1 ms) after
    /// the events of a time t; +∞ disables it. Checked after each time's events, which give at most one spike per neuron.
    /// </summary>
    public double RunawayRateHz { get; set; } = 100_000;
    /// <summary>Why the runaway guard stopped the engine (null while it has not); the engine then refuses to continue.</summary>
    public string? Stopped { get; private set; }
    /// <summary>Root searches for a crossing run so far (diagnostic: most LifExp predictions end at a closed-form bound).</summary>
    public long CrossingSearches => _pops.Sum(p => p.CrossingSearches);

    /// <summary>Neuron i's entry in the prediction queue (+∞ if none) and whether it is a lower bound (specs).</summary>
    internal (double TimeMs, bool IsBound) Prediction(int i) => (_predictions.TimeOf(i), _boundOnly[i]);

    /// <summary>
    /// Replaces LifExp neuron i's prediction by a lower bound at <paramref name="timeMs"/> (specs: any time not after its
    /// crossing is a valid bound, so this must not change any result).
    /// </summary>
    internal void ScheduleBound(int i, double timeMs)
    {
        if (!_popOf[i].Bounds || !(timeMs >= TimeMs)) throw new ArgumentException("a bound needs a neuron whose model predicts by bounds (LifExp) and a time not before the engine's");
        _boundOnly[i] = true;
        _predictions.Set(i, timeMs);
    }

    /// <summary>Adds a spike sink.</summary>
    public void AddSpikeSink(IPreciseSpikeSink sink) => _sinks.Add(sink);

    /// <summary>
    /// A state variable (absolute units: <c>v_mv</c>; LifExp also <c>g_exc_mv</c>, <c>g_inh_mv</c>) of every neuron of a
    /// population, propagated in closed form to <see cref="TimeMs"/> (the stored state is not changed).
    /// </summary>
    public double[] GetVariable(string population, string variable)
    {
        var pop = _net.Population(population);
        int v = pop.Model.VariableIndex(variable);
        if (v < 0) throw new ArgumentException($"'{variable}' is not a state variable of population '{population}' ({string.Join(", ", pop.Model.ReportedVariableNames)})", nameof(variable));
        var result = new double[pop.Size];
        for (int k = 0; k < pop.Size; k++) result[k] = _pops[pop.Index].Read(pop.Offset + k, v, TimeMs);
        return result;
    }

    /// <summary>Processes every event with time &lt; <see cref="TimeMs"/> + <paramref name="durationMs"/>, then sets TimeMs to that end.</summary>
    public void RunMs(double durationMs)
    {
        if (!(durationMs >= 0) || !double.IsFinite(durationMs)) throw new ArgumentOutOfRangeException(nameof(durationMs), "duration must be finite and ≥ 0");
        if (Stopped is not null) throw new PreciseRunawayException($"the run was stopped by the runaway guard ({Stopped}); create a new engine");
        double end = TimeMs + durationMs;
        var syn = _net.Synapses;
        while (true)
        {
            double tq = Math.Min(_events.Count > 0 ? _events.Min.Time : double.PositiveInfinity,
                Math.Min(_poisson.Count > 0 ? _poisson.MinTime : double.PositiveInfinity, _fifos?.MinTime ?? double.PositiveInfinity));
            // A lower bound that could come before the next event is replaced by a later bound or by the exact crossing
            // (never earlier than the bound, and computed from the same stored state as an eager prediction would be).
            while (_predictions.Count > 0 && _boundOnly[_predictions.MinId] && _predictions.MinTime <= tq && _predictions.MinTime < end)
                Resolve(_predictions.MinId, _predictions.MinTime);
            double tp = _predictions.Count > 0 ? _predictions.MinTime : double.PositiveInfinity;
            double t = Math.Min(tq, tp);
            if (!(t < end)) break;

            // Predicted threshold crossings at t, ascending id.
            while (_predictions.Count > 0 && _predictions.MinTime == t)
            {
                // A bound due at t with a lower id than a crossing at t: resolve it first (its crossing, if at t,
                // then comes next in id order; never fire at a bound).
                if (_boundOnly[_predictions.MinId]) { Resolve(_predictions.MinId, t); continue; }
                int i = _predictions.PopMin();
                EventsProcessed++;
                _popOf[i].Propagate(i, t);
                Fire(i, t, syn);
            }
            // Arrivals at t, then input spikes at t in ascending source id (Poisson and spike-time sources merged).
            while (true)
            {
                bool heapDue = _events.Count > 0 && _events.Min.Time == t;
                if ((heapDue && _events.Min.Kind == PreciseEventKind.Arrival) || _fifos?.MinTime == t) { ArriveAll(t, syn); continue; }
                bool poissonDue = _poisson.Count > 0 && _poisson.MinTime == t;
                if (!heapDue && !poissonDue) break;
                EventsProcessed++;
                if (poissonDue && (!heapDue || _poisson.MinId < _events.Min.Id)) PoissonSpike(_poisson.MinId, t, syn);
                else InputSpike(_events.Pop(), t, syn);
            }
            // Jumps above threshold, then new predictions for every neuron touched at t.
            if (_groupArrivals) SortTouched();
            else _touchedList.Sort();
            foreach (int i in _touchedList)
            {
                var pop = _popOf[i];
                if (pop.Jumps && pop.CrossedByJump(i, t)) Fire(i, t, syn);
            }
            foreach (int i in _touchedList)
            {
                _touched[i] = false;
                Predict(i);
            }
            _touchedList.Clear();
            if (_spikesNow.Count > 0)
            {
                _spikesNow.Sort();
                foreach (int i in _spikesNow)
                    foreach (var s in _sinks) s.OnSpike(Instance, t, i);
                _spikesNow.Clear();
                if (SpikeCount > RunawayRateHz * 1e-3 * _n * (t + 1.0)) Runaway(t);
            }
        }
        TimeMs = end;
    }

    /// <summary>Stops the engine at t (its state is that after the events of t): the mean rate since 0 is above the guard.</summary>
    private void Runaway(double t)
    {
        Stopped = $"runaway activity: {SpikeCount} spikes of {_n} neurons by t = {t:R} ms, a mean rate above RunawayRateHz = {RunawayRateHz:G4} Hz " +
            "(with delta synapses and little refractoriness the spike times branch without bound in continuous time)";
        TimeMs = t;
        throw new PreciseRunawayException(Stopped);
    }

    /// <summary>
    /// Puts the neurons touched at this time in ascending id: usually they already are (one arrival run, whose targets
    /// the compiler sorted); a long list is rebuilt from the flags (a vectorised scan), a short one sorted.
    /// </summary>
    private void SortTouched()
    {
        var list = CollectionsMarshal.AsSpan(_touchedList);
        int j = 1;
        while (j < list.Length && list[j - 1] < list[j]) j++;
        if (j >= list.Length) return;
        if (list.Length * 16 < _n) { list.Sort(); return; }
        var flags = _touched.AsSpan();
        int c = 0;
        for (int from = 0; ;)
        {
            int k = flags[from..].IndexOf(true);
            if (k < 0) break;
            list[c++] = from + k;
            from += k + 1;
        }
        Debug.Assert(c == list.Length);
    }

    private void Touch(int i)
    {
        if (_touched[i]) return;
        _touched[i] = true;
        _touchedList.Add(i);
    }

    private void Fire(int i, double t, SynapseTable syn)
    {
        _popOf[i].Reset(i, t);
        _clock.LastSpike[i] = t;
        SpikeCount++;
        _spikesNow.Add(i);
        Touch(i);
        Emit(i, t, syn);
    }

    /// <summary>
    /// Queues the arrivals of a spike of <paramref name="source"/> at <paramref name="t"/>: one event per arrival run (time
    /// t + d, insertion number of the run's first synapse); synapse k of the source gets insertion number
    /// base + (k − first synapse of the source), the number it would have had if each arrival were queued on its own.
    /// </summary>
    private void Emit(int source, double t, SynapseTable syn)
    {
        int from = syn.SegmentStart[syn.SegmentOffsets[source]], to = syn.SegmentStart[syn.SegmentOffsets[source + 1]];
        long seqBase = _arrivalSeq;
        _arrivalSeq += to - from;
        for (int r = _sourceRunStart[source]; r < _sourceRunStart[source + 1]; r++)
        {
            if (_fifos is not null) _fifos.Push(_runClass[r], t + _runDelayMs[r], seqBase + (_runSeqOrigin[r] - from), r);
            else _events.Push(t + _runDelayMs[r], PreciseEventKind.Arrival, _groupArrivals ? source : syn.Target[_runSynapse[_runStart[r]]], r,
                seqBase + (_runSeqOrigin[r] - from));
        }
    }

    /// <summary>One synapse arrival of a batch: target, insertion number, synapse.</summary>
    private readonly record struct ArrivalItem(int Target, long Seq, int Synapse);

    /// <summary>Orders arrivals by (target, insertion number), the order of the per-synapse event queue.</summary>
    private readonly struct ArrivalOrder : IComparer<ArrivalItem>
    {
        public int Compare(ArrivalItem a, ArrivalItem b) => a.Target != b.Target ? a.Target.CompareTo(b.Target) : a.Seq.CompareTo(b.Seq);
    }

    /// <summary>An arrival run due now: the insertion number of its spike's first synapse, and the run.</summary>
    private readonly record struct DueRun(long Seq, int Run);

    /// <summary>Orders due runs by insertion number (emission order).</summary>
    private readonly struct DueRunOrder : IComparer<DueRun>
    {
        public int Compare(DueRun a, DueRun b) => a.Seq.CompareTo(b.Seq);
    }

    /// <summary>
    /// Processes every arrival run queued for time t (they are at the top of the queue). The per-synapse queue would
    /// deliver them in (target, insertion number) order; only the order per target matters (arrivals at different
    /// neurons do not interact within one time: each updates its own neuron, and the touched neurons are tested in
    /// ascending id afterwards). So the runs are taken in emission order and each in synapse order, which orders every
    /// target's arrivals by insertion number. Two runs of one spike (different delays landing at the same time after
    /// rounding) share an insertion base and would interleave: then every arrival is sorted by (target, insertion).
    /// With one event per synapse (the reference), the queue's own order is used.
    /// </summary>
    private void ArriveAll(double t, SynapseTable syn)
    {
        int runs = 0;
        while (_events.Count > 0 && _events.Min.Time == t && _events.Min.Kind == PreciseEventKind.Arrival)
        {
            var e = _events.Pop();
            if (runs == _due.Length) Array.Resize(ref _due, 2 * _due.Length);
            _due[runs++] = new DueRun(e.Seq, e.Payload);
        }
        while (_fifos is not null && _fifos.TryPopAt(t, out long seq, out int run))
        {
            if (runs == _due.Length) Array.Resize(ref _due, 2 * _due.Length);
            _due[runs++] = new DueRun(seq, run);
        }
        var due = _due.AsSpan(0, runs);
        bool distinct = true;
        if (_groupArrivals && runs > 1)
        {
            due.Sort(default(DueRunOrder));
            for (int j = 1; j < runs && distinct; j++) distinct = due[j].Seq != due[j - 1].Seq;
        }
        int[] target = syn.TargetArray;
        long count = 0;
        if (distinct)
        {
            foreach (var d in due)
                for (int p = _runStart[d.Run], b = _runStart[d.Run + 1]; p < b; p++)
                {
                    int k = _runSynapse[p];
                    Arrive(target[k], k, t, syn);
                    count++;
                }
        }
        else
        {
            int n = 0;
            foreach (var d in due)
            {
                int a = _runStart[d.Run], b = _runStart[d.Run + 1], origin = _runSeqOrigin[d.Run];
                if (n + (b - a) > _batch.Length) Array.Resize(ref _batch, Math.Max(2 * _batch.Length, n + (b - a)));
                for (int p = a; p < b; p++)
                {
                    int k = _runSynapse[p];
                    _batch[n++] = new ArrivalItem(target[k], d.Seq + (k - origin), k);
                }
            }
            var batch = _batch.AsSpan(0, n);
            batch.Sort(default(ArrivalOrder));
            foreach (ref readonly var item in batch) Arrive(item.Target, item.Synapse, t, syn);
            count = n;
        }
        EventsProcessed += count;
    }

    /// <summary>Groups each source's synapses into runs of equal exact delay (delays ascending; synapse order within a run).</summary>
    private static void BuildArrivalRuns(SynapseTable syn, int sources, bool group, out int[] sourceRunStart, out int[] runStart,
        out double[] runDelay, out int[] runSynapse, out int[] runSeqOrigin)
    {
        double[] delay = syn.DelayMs!;
        sourceRunStart = new int[sources + 1];
        runSynapse = new int[syn.Target.Length];
        var starts = new List<int>();
        var delays = new List<double>();
        var origins = new List<int>();
        int pos = 0;
        int[] order = [];
        for (int s = 0; s < sources; s++)
        {
            sourceRunStart[s] = starts.Count;
            int from = syn.SegmentStart[syn.SegmentOffsets[s]], to = syn.SegmentStart[syn.SegmentOffsets[s + 1]], m = to - from;
            if (order.Length < m) order = new int[m];
            var o = order.AsSpan(0, m);
            for (int j = 0; j < m; j++) o[j] = from + j;
            o.Sort((x, y) => delay[x] != delay[y] ? delay[x].CompareTo(delay[y]) : x.CompareTo(y));
            for (int j = 0; j < m; j++)
            {
                int k = o[j];
                if (j == 0 || !group || delay[k] != delay[o[j - 1]])
                {
                    starts.Add(pos);
                    delays.Add(delay[k]);
                    origins.Add(group ? from : k);
                }
                runSynapse[pos++] = k;
            }
        }
        sourceRunStart[sources] = starts.Count;
        starts.Add(pos);
        runStart = [.. starts];
        runDelay = [.. delays];
        runSeqOrigin = [.. origins];
    }

    private void Arrive(int i, int synapse, double t, SynapseTable syn)
    {
        _popOf[i].Arrive(i, syn.Q[synapse], t);
        Touch(i);
    }

    /// <summary>
    /// A spike of an input source from the main queue (spike-time sources; Poisson sources too with the reference
    /// scheduling): its arrivals, then the source's next spike is queued.
    /// </summary>
    private void InputSpike(in PreciseEvent e, double t, SynapseTable syn)
    {
        var inp = _net.Inputs[e.Payload];
        Emit(e.Id, t, syn);
        if (inp.RatePerMs is not null)
        {
            double next = inp.NextPoissonTimeMs(_net.Seed, Instance, e.Id - inp.Offset, ++_poissonCount[e.Id], t);
            if (!inp.PoissonStopped(next)) _events.Push(next, PreciseEventKind.Input, e.Id, inp.Index);
            return;
        }
        var order = _inputOrder[inp.Index];
        int c = ++_inputCursor[inp.Index];
        if (c < order.Length) _events.Push(inp.SpikeTimesMs![order[c]], PreciseEventKind.Input, inp.Offset + inp.SpikeIndices![order[c]], inp.Index);
    }

    /// <summary>A spike of Poisson source <paramref name="source"/> at t: its arrivals, then its next spike time (the shared continuous-time draw).</summary>
    private void PoissonSpike(int source, double t, SynapseTable syn)
    {
        var inp = _net.Inputs[_inputOfSource[source]];
        Emit(source, t, syn);
        double next = inp.NextPoissonTimeMs(_net.Seed, Instance, source - inp.Offset, ++_poissonCount[source], t);
        _poisson.Set(source, inp.PoissonStopped(next) ? double.PositiveInfinity : next);
    }

    /// <summary>Sets neuron i's entry in the prediction heap from its model's prediction (a crossing, +∞, or a lower bound).</summary>
    private void Predict(int i) => Schedule(i, _popOf[i].Predict(i));

    /// <summary>A bound that came due at <paramref name="t"/>: the model's next bound or the exact crossing.</summary>
    private void Resolve(int i, double t) => Schedule(i, _popOf[i].Resolve(i, t));

    private void Schedule(int i, Prediction p)
    {
        _boundOnly[i] = p.IsBound;
        _predictions.Set(i, p.Time);
    }
}
