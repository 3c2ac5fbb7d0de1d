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
/// The continuous-time, event-driven engine (DESIGN.md, PreciseEngine) for LifDelta and LifExp populations.
/// <para><b>Dynamics.</b> In the frame u = v − E_L, between events the state is propagated in closed form:
/// LifDelta (MODELS.md §1.2) u(t₀+h) = u_∞ + (u₀ − u_∞)e^{−h/τ_m}, u_∞ = I_ext·τ_m;
/// LifExp (MODELS.md §1.1) g_x(t₀+h) = g_x e^{−h/τ_x} and
/// u(t₀+h) = I + (u₀ − I)e^{−h/τ_m} + Σ_x g_x·τ_x/(τ_x − τ_m)·(e^{−h/τ_x} − e^{−h/τ_m}),
/// evaluated as g_x·τ_x/(τ_x − τ_m)·e^{−h/τ_m}·expm1(−h(τ_m − τ_x)/(τ_x τ_m)) (limit g_x·(h/τ_m)e^{−h/τ_m} for τ_x = τ_m).</para>
/// <para><b>Spikes.</b> A neuron spikes at the first time u exceeds θ = V_t − E_L. Under LifDelta's constant drive the
/// crossing is analytic: t* = t₀ + τ_m·ln((u_∞ − u₀)/(u_∞ − θ)) when u_∞ &gt; θ (computed with log1p). For LifExp,
/// u − θ is a constant plus three exponentials and <see cref="ExponentialSum.FirstUpCrossing"/> finds its first upward
/// crossing with a guaranteed bracket (proof there). A jump (LifDelta) or the initial state may put u above θ: the neuron
/// then spikes at that instant. Tangency (max u = θ exactly) does not spike (strict v &gt; V_t, as in the grid engines).
/// After a spike u = V_r is held for exactly t_ref (the interval [t_s, t_s + t_ref)); LifDelta jumps arriving inside it
/// are discarded (NEST semantics, as in the grid engine), LifExp arrivals still add to g_e/g_i, which keep decaying.
/// A neuron spikes at most once at a given time (with t_ref = 0, an input at its own spike time that puts u above θ
/// makes it fire again one ulp later).</para>
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
/// <para><b>Accuracy.</b> Spike times agree with closed forms to a few ulps (tests: ≤ 1e-15 relative). For LifExp with
/// τ_x ≠ τ_m but nearly equal (|τ_x − τ_m| ≲ 1e-6·τ_m) the coefficients τ_x/(τ_x − τ_m) used to locate the critical
/// points cancel badly; the membrane itself is evaluated in a cancellation-free form, but grazing crossings may then be
/// decided less reliably (use τ_x = τ_m exactly for the limit case, which is handled exactly).</para>
/// <para><b>Not supported</b> (rejected with a <see cref="SpecException"/> naming the field): GoalLif populations,
/// escape noise, clock inputs, currents with time-varying scales. One instance per engine (no batch).</para>
/// </summary>
public sealed class PreciseEngine
{
    private readonly CompiledNetwork _net;
    private readonly int _n;
    private readonly bool[] _isExp;
    private readonly double[] _tauM, _tauE, _tauI, _drive, _theta, _reset, _tref, _eLeak, _scale;
    private readonly double[] _u, _ge, _gi, _tLast, _refEnd, _lastSpike;
    private readonly int[] _popOf;
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
    /// <summary>Per LifExp neuron: the maximum of the synaptic kernels k_e, k_i (see <see cref="NoCrossingBefore"/>).</summary>
    private readonly double[] _kMaxE, _kMaxI;
    private readonly List<int> _touchedList = [];
    private readonly List<int> _spikesNow = [];
    private readonly long[] _poissonCount;
    private readonly int[][] _inputOrder;
    private readonly int[] _inputCursor;
    private readonly ExpTerm[] _terms = new ExpTerm[7];
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
        _eagerPredictions = eagerPredictions;
        // Continuous delays need the exact per-synapse delays; recompiling draws the same synapses (counter-based RNG).
        if (network.Synapses.DelayMs is null) network = NetworkCompiler.Compile(network.Spec, exactDelays: true);
        _net = network;
        Instance = instance ?? network.Spec.Run.InstanceOffset;
        var spec = network.Spec;
        var errors = new List<SpecError>();
        for (int p = 0; p < network.Populations.Length; p++)
        {
            var pop = network.Populations[p];
            if (!pop.Model.SupportsPrecise)
                errors.Add(new SpecError($"populations[{p}].model", $"population '{pop.Name}': model {pop.Model.Name} has no exact propagator; the precise engine supports {string.Join(", ", ModelRegistry.All.Where(m => m.SupportsPrecise).Select(m => m.Name))}"));
            if (pop.Spec.Noise is not null)
                errors.Add(new SpecError($"populations[{p}].noise", $"population '{pop.Name}': escape noise is not supported by the precise engine"));
        }
        for (int c = 0; c < spec.Currents.Count; c++)
            if (spec.Currents[c].TimesMs is { Length: > 0 })
                errors.Add(new SpecError($"currents[{c}].times_ms", $"current into '{spec.Currents[c].Target}': time-varying scales are not supported by the precise engine (only constant currents)"));
        for (int i = 0; i < network.Inputs.Length; i++)
            if (network.Inputs[i].Spec is ClockInput)
                errors.Add(new SpecError($"inputs[{i}]", $"input '{network.Inputs[i].Name}': clock inputs are not supported by the precise engine"));
        if (errors.Count > 0)
        {
            var located = errors.Select(e => e with { Location = Locate(spec, e.Field) }).ToList();
            throw new SpecException(located);
        }

        _n = network.NeuronCount;
        int n = _n;
        _isExp = new bool[n];
        _tauM = new double[n]; _tauE = new double[n]; _tauI = new double[n]; _drive = new double[n];
        _theta = new double[n]; _reset = new double[n]; _tref = new double[n]; _eLeak = new double[n]; _scale = new double[n];
        _u = new double[n]; _ge = new double[n]; _gi = new double[n];
        _tLast = new double[n]; _refEnd = new double[n]; _lastSpike = new double[n];
        _popOf = new int[n];
        _touched = new bool[n];
        Array.Fill(_refEnd, double.NegativeInfinity);
        Array.Fill(_lastSpike, double.NegativeInfinity);
        foreach (var pop in network.Populations)
        {
            int o = pop.Offset;
            Array.Fill(_popOf, pop.Index, o, pop.Size);
            Array.Fill(_scale, Math.ScaleB(1.0, -pop.WeightFractionBits), o, pop.Size);
            for (int i = 0; i < pop.Size; i++)
            {
                double d = pop.ConstantDrive[i];
                foreach (var cur in pop.Currents) d += cur.Amplitude[i] * 1.0;
                _drive[o + i] = d;
            }
            var state = pop.Model.StateVariables.Select(_ => new double[pop.Size]).ToArray();
            pop.Model.Initialise(pop, network.Seed, Instance, state);
            if (pop.Constants is LifExpConstants c)
            {
                for (int i = 0; i < pop.Size; i++)
                {
                    _isExp[o + i] = true;
                    _tauM[o + i] = c.TauMemMs[i]; _tauE[o + i] = c.TauExcMs[i]; _tauI[o + i] = c.TauInhMs[i]; _tref[o + i] = c.RefractoryMs[i];
                    _theta[o + i] = c.ThetaU[i]; _reset[o + i] = c.ResetU[i]; _eLeak[o + i] = c.ELeakMv[i];
                    _u[o + i] = state[LifExpModel.U][i]; _ge[o + i] = state[LifExpModel.GExc][i]; _gi[o + i] = state[LifExpModel.GInh][i];
                }
            }
            else if (pop.Constants is LifDeltaConstants d)
            {
                for (int i = 0; i < pop.Size; i++)
                {
                    _tauM[o + i] = d.TauMemMs[i]; _tref[o + i] = d.RefractoryMs[i];
                    _theta[o + i] = d.ThetaU[i]; _reset[o + i] = d.ResetU[i]; _eLeak[o + i] = d.ELeakMv[i];
                    _u[o + i] = state[LifDeltaModel.U][i];
                }
            }
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
        _kMaxE = new double[n];
        _kMaxI = new double[n];
        for (int i = 0; i < n; i++)
            if (_isExp[i]) { _kMaxE[i] = KernelMaximum(_tauM[i], _tauE[i]); _kMaxI[i] = KernelMaximum(_tauM[i], _tauI[i]); }
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

    private static SourceLocation? Locate(NetworkSpec spec, string field)
    {
        for (string f = field; f.Length > 0; f = f.Contains('.') ? f[..f.LastIndexOf('.')] : "")
            if (spec.Locations.TryGetValue(f, out var loc)) return loc;
        return null;
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
    /// <summary>Root searches for a LifExp crossing run so far (diagnostic: most predictions end at a closed-form bound).</summary>
    public long CrossingSearches { get; private set; }

    /// <summary>Every LifExp prediction runs the root search at once (the reference for the lazy predictions).</summary>
    private readonly bool _eagerPredictions;

    /// <summary>Neuron i's entry in the prediction queue (+∞ if none) and whether it is a lower bound (specs).</summary>
    internal (double TimeMs, bool IsBound) Prediction(int i) => (_predictions.TimeOf(i), _boundOnly[i]);

    /// <summary>
    /// Replaces LifExp neuron i's prediction by a lower bound at <paramref name="timeMs"/> (specs: any time not after its
    /// crossing is a valid bound, so this must not change any result).
    /// </summary>
    internal void ScheduleBound(int i, double timeMs)
    {
        if (!_isExp[i] || !(timeMs >= TimeMs)) throw new ArgumentException("a bound needs a LifExp neuron and a time not before the engine's");
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
        var vars = pop.Model.ReportedVariableNames;
        int v = -1;
        for (int k = 0; k < vars.Count; k++) if (vars[k] == variable) v = k;
        if (v < 0) throw new ArgumentException($"'{variable}' is not a state variable of population '{population}' ({string.Join(", ", vars)})", nameof(variable));
        var result = new double[pop.Size];
        for (int k = 0; k < pop.Size; k++)
        {
            int i = pop.Offset + k;
            StateAt(i, TimeMs, out double u, out double ge, out double gi);
            result[k] = v switch { 0 => u + _eLeak[i], 1 => ge, _ => gi };
        }
        return result;
    }

    /// <summary>Processes every event with time &lt; <see cref="TimeMs"/> + <paramref name="durationMs"/>, then sets TimeMs to that end.</summary>
    public void RunMs(double durationMs)
    {
        if (!(durationMs >= 0) || !double.IsFinite(durationMs)) throw new ArgumentOutOfRangeException(nameof(durationMs), "duration must be finite and ≥ 0");
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
                Propagate(i, t);
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
                if (!_isExp[i] && t >= _refEnd[i] && _lastSpike[i] != t && _u[i] > _theta[i]) Fire(i, t, syn);
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
            }
        }
        TimeMs = end;
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
        _u[i] = _reset[i];
        _refEnd[i] = t + _tref[i];
        _lastSpike[i] = t;
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
        Propagate(i, t);
        double w = syn.Q[synapse] * _scale[i];
        if (_isExp[i])
        {
            if (syn.Q[synapse] >= 0) _ge[i] += w; else _gi[i] += w;
        }
        else if (t >= _refEnd[i]) _u[i] += w;
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

    /// <summary>Advances neuron i's stored state to time t (≥ its last update) in closed form.</summary>
    private void Propagate(int i, double t)
    {
        if (t <= _tLast[i]) return;
        StateAt(i, t, out _u[i], out _ge[i], out _gi[i]);
        _tLast[i] = t;
    }

    /// <summary>State of neuron i at time t ≥ its last update, without changing it.</summary>
    private void StateAt(int i, double t, out double u, out double ge, out double gi)
    {
        double t0 = _tLast[i];
        u = _u[i]; ge = _ge[i]; gi = _gi[i];
        if (t <= t0) return;
        double start = Math.Max(t0, _refEnd[i]);
        if (_isExp[i])
        {
            if (start > t0)
            {
                // Refractory part: u held at reset, currents decay.
                double hr = Math.Min(t, start) - t0;
                ge *= Math.Exp(-hr / _tauE[i]);
                gi *= Math.Exp(-hr / _tauI[i]);
                u = _reset[i];
                if (t <= start) return;
            }
            double h = t - start;
            u = ExpMembrane(i, u, ge, gi, h);
            ge *= Math.Exp(-h / _tauE[i]);
            gi *= Math.Exp(-h / _tauI[i]);
        }
        else
        {
            if (start > t0) { u = _reset[i]; if (t <= start) return; }
            double h = t - start, uInf = _drive[i] * _tauM[i];
            u = uInf + (u - uInf) * Math.Exp(-h / _tauM[i]);
        }
    }

    /// <summary>LifExp membrane after h ms from (u, g_e, g_i), not refractory.</summary>
    private double ExpMembrane(int i, double u, double ge, double gi, double h)
    {
        double tm = _tauM[i], em = Math.Exp(-h / tm), drive = _drive[i];
        return drive + (u - drive) * em + ge * SynapticKernel(h, tm, _tauE[i], em) + gi * SynapticKernel(h, tm, _tauI[i], em);
    }

    /// <summary>
    /// τ_x/(τ_x − τ_m)·(e^{−h/τ_x} − e^{−h/τ_m}) in a cancellation-free form, κ·e^{−h/τ_m}·expm1(h(τ_x − τ_m)/(τ_x τ_m));
    /// (h/τ_m)e^{−h/τ_m} when τ_x = τ_m. For τ_x &gt; τ_m the expm1 argument grows with h and overflows after a long
    /// silence (h(τ_x − τ_m)/(τ_x τ_m) &gt; 700, e.g. 10.5 s for τ_x = 30, τ_m = 10 ms), where e^{−h/τ_m} has long
    /// underflowed: there the same value is computed as −κ·e^{−h/τ_x}·expm1(−h(τ_x − τ_m)/(τ_x τ_m)), which cannot
    /// overflow (0·∞ would give NaN).
    /// </summary>
    internal static double SynapticKernel(double h, double tauM, double tauX, double em)
    {
        if (tauX == tauM) return h / tauM * em;
        double x = -h * (tauM - tauX) / (tauX * tauM);
        if (x > 700) return -(tauX / (tauX - tauM)) * Math.Exp(-h / tauX) * ExponentialSum.ExpM1(-x);
        return tauX / (tauX - tauM) * em * ExponentialSum.ExpM1(x);
    }

    /// <summary>
    /// Sets neuron i's entry in the prediction heap from its stored state: the crossing time, +∞ (no crossing), or, for
    /// LifExp, a lower bound of the crossing (<see cref="NoCrossingBefore"/>) when it lies at least
    /// <see cref="MinBoundStep"/>·τ_m ahead. A bound that comes due before any event touches the neuron is replaced
    /// (<see cref="Resolve"/>) by the next bound from the state at that time, or by the exact crossing once the bounds
    /// stop advancing. Under frequent input (CUBA, the low-rate family at 10 Hz) most predictions thus never run the root
    /// search. Spike times are unchanged: the exact crossing is always computed from the stored state, as an eager
    /// prediction would have been (spec: lazy = eager).
    /// </summary>
    private void Predict(int i)
    {
        double t0 = _tLast[i], start = Math.Max(t0, _refEnd[i]);
        if (!_isExp[i])
        {
            _boundOnly[i] = false;
            _predictions.Set(i, DeltaCrossing(i, t0, start));
            return;
        }
        StateAt(i, start, out double us, out double ge, out double gi);   // the state where the free trajectory starts
        double h = _eagerPredictions ? (NeverCrosses(i, us, ge, gi) ? double.PositiveInfinity : 0) : NoCrossingBefore(i, us, ge, gi);
        SetBoundOrCrossing(i, start, h);
    }

    /// <summary>
    /// A bound that came due at <paramref name="t"/> (no event touched neuron i since it was set): the next bound from
    /// the state at t (closed form from the stored state, which is not changed), or the exact crossing.
    /// </summary>
    private void Resolve(int i, double t)
    {
        StateAt(i, t, out double u, out double ge, out double gi);
        SetBoundOrCrossing(i, t, NoCrossingBefore(i, u, ge, gi));
    }

    /// <summary>+∞, a bound at from + h, or (h below <see cref="MinBoundStep"/>·τ_m) the exact crossing.</summary>
    private void SetBoundOrCrossing(int i, double from, double h)
    {
        if (double.IsPositiveInfinity(h))
        {
            _boundOnly[i] = false;
            _predictions.Set(i, double.PositiveInfinity);
            return;
        }
        if (h >= MinBoundStep * _tauM[i])
        {
            // Four ulps of the time below the rounded sum: the state at `from` was evaluated at start + (from − start)
            // rounded, which for long runs can differ from `from` by more than the 10⁻⁹ relative margin of h.
            double tb = from + h * (1 - 1e-9);
            tb -= 4 * (Math.BitIncrement(tb) - tb);
            if (tb > from)
            {
                _boundOnly[i] = true;
                _predictions.Set(i, tb);
                return;
            }
        }
        _boundOnly[i] = false;
        double exact = ExactCrossing(i);
        if (exact < from)
            throw new InvalidOperationException($"PreciseEngine: neuron {i}'s crossing at {exact:R} ms lies before its lower bound {from:R} ms (internal error: please report the network)");
        _predictions.Set(i, exact);
        CrossingSearches++;
    }

    /// <summary>Bounds shorter than this fraction of τ_m are not scheduled: the root search runs instead.</summary>
    private const double MinBoundStep = 1.0 / 64;

    /// <summary>LifDelta's next crossing from its stored state in closed form (at <paramref name="start"/> if above θ).</summary>
    private double DeltaCrossing(int i, double t0, double start)
    {
        double theta = _theta[i];
        double u0 = start > t0 ? _reset[i] : _u[i];
        if (u0 > theta) return AfterLastSpike(i, start);
        double uInf = _drive[i] * _tauM[i];
        if (!(uInf > theta)) return double.PositiveInfinity;
        // t* = τ ln((u∞ − u₀)/(u∞ − θ)) = τ log1p((θ − u₀)/(u∞ − θ)).
        return start + _tauM[i] * ExponentialSum.Log1P((theta - u0) / (uInf - theta));
    }

    /// <summary>
    /// The constant bound of <see cref="NoCrossingBefore"/> rules out any crossing from (u, g_e, g_i), not refractory.
    /// </summary>
    private bool NeverCrosses(int i, double u, double ge, double gi) => NeverCrosses(i, u, ge, gi, out _, out _);

    /// <inheritdoc cref="NeverCrosses(int, double, double, double)"/>
    /// <param name="margin">ε = 10⁻⁹·(|I| + |θ| + |u| + |g_e| + |g_i|).</param>
    /// <param name="gMax">Ĝ = Σ_x max(0, g_x)·k̂_x.</param>
    private bool NeverCrosses(int i, double u, double ge, double gi, out double margin, out double gMax)
    {
        double drive = _drive[i], theta = _theta[i];
        margin = 1e-9 * (Math.Abs(drive) + Math.Abs(theta) + Math.Abs(u) + Math.Abs(ge) + Math.Abs(gi));
        gMax = Math.Max(0, ge) * _kMaxE[i] + Math.Max(0, gi) * _kMaxI[i];
        return (drive - theta) + Math.Max(0, u - drive) + gMax < -margin;
    }

    /// <summary>
    /// A time h ≥ 0 such that LifExp neuron i, not refractory, with state (u, g_e, g_i) now and no further input, does
    /// not cross θ before h (+∞: never; 0: possibly at once).
    /// <para>In x = h/τ_m, u(h) − θ = (I − θ) + (u − I)e^{−x} + Σ_x g_x k_x(h) with the synaptic kernel
    /// k_x(h) = κ_x(e^{−h/τ_x} − e^{−h/τ_m}) = (1/τ_m)∫₀^h e^{−s/τ_x}e^{−(h−s)/τ_m} ds, which lies in
    /// [0, min(x, k̂_x)], k̂_x = (τ_x/τ_m)^{τ_m/(τ_m − τ_x)} its maximum (1/e for τ_x = τ_m). Two upper bounds of
    /// u − θ follow, each increasing in h:
    /// B₁(x) = (u − θ) + (max(0, I − u) + g⁺)·x (e^{−x} ≥ 1 − x; g⁺ = Σ max(0, g_x)), and
    /// B₂(x) = (I − θ) + (u − I)e^{−x} + Ĝ, Ĝ = Σ max(0, g_x)·k̂_x (constant when u ≥ I).
    /// No crossing can occur before both are ≥ −ε, ε = 10⁻⁹·(|I| + |θ| + |u| + |g_e| + |g_i|), a margin far above
    /// the rounding of evaluating u: h = τ_m·max(x₁, x₂) with x₁ = (θ − u − ε)/(max(0, I − u) + g⁺) and
    /// x₂ = ln((I − u)/(I − θ + Ĝ + ε)) (0 if negative); never if B₂ stays below −ε. The result is used shrunk by
    /// 1 − 10⁻⁹ (rounding of the logarithm and of adding it to a time).</para>
    /// </summary>
    private double NoCrossingBefore(int i, double u, double ge, double gi)
    {
        if (NeverCrosses(i, u, ge, gi, out double margin, out double gMax)) return double.PositiveInfinity;
        double drive = _drive[i], theta = _theta[i], tm = _tauM[i];
        double gPos = Math.Max(0, ge) + Math.Max(0, gi);
        double gap = theta - u - margin;
        if (!(gap > 0)) return 0;
        double slope = Math.Max(0, drive - u) + gPos;
        if (!(slope > 0)) return double.PositiveInfinity;              // u − θ ≤ u − θ < −ε for all h
        double x = gap / slope;
        if (u < drive)
        {
            double c = (drive - theta) + gMax + margin;                // > 0 here (else the first test returned)
            double x2 = Math.Log((drive - u) / c);
            if (x2 > x) x = x2;
        }
        double h = tm * x;
        return double.IsFinite(h) && h > 0 ? h : 0;
    }

    /// <summary>
    /// An upper bound of max_h k_x(h) = (τ_x/τ_m)^{τ_m/(τ_m − τ_x)} (1/e for τ_x = τ_m): the value raised by a
    /// relative 10⁻⁹ (for τ_x close to τ_m the exponent carries a relative error of about 10⁻¹⁶·τ_m/|τ_m − τ_x|),
    /// never above the elementary bound min(1, τ_x/τ_m).
    /// </summary>
    internal static double KernelMaximum(double tauM, double tauX)
    {
        double r = tauX / tauM;
        if (tauX == tauM) return Math.Exp(-1) * (1 + 1e-9);
        if (Math.Abs(tauX - tauM) < 1e-6 * tauM) return Math.Min(1, r);
        double k = Math.Pow(r, tauM / (tauM - tauX));
        return double.IsFinite(k) ? Math.Min(Math.Min(1, r), k * (1 + 1e-9)) : Math.Min(1, r);
    }

    /// <summary>The time of LifExp neuron i's next threshold crossing from its stored state (root search), or +∞.</summary>
    private double ExactCrossing(int i)
    {
        double start = Math.Max(_tLast[i], _refEnd[i]);
        double theta = _theta[i];
        StateAt(i, start, out double us, out double ge, out double gi);   // the state where the free trajectory starts
        double tm = _tauM[i], te = _tauE[i], ti = _tauI[i], drive = _drive[i];
        // u(h) − θ = (I − θ) + (u_s − I)e^{−h/τ_m} + Σ_x g_x κ_x (e^{−h/τ_x} − e^{−h/τ_m}), κ_x = τ_x/(τ_x − τ_m).
        int m = 0;
        _terms[m++] = new ExpTerm(0, drive - theta, 0);
        _terms[m++] = new ExpTerm(1 / tm, us - drive, 0);
        AddSynapticTerms(ref m, ge, tm, te);
        AddSynapticTerms(ref m, gi, tm, ti);
        var membrane = new MembraneAboveThreshold(this, i, us, ge, gi, theta);
        double h = ExponentialSum.FirstUpCrossing(_terms.AsSpan(0, m), ref membrane);
        return AfterLastSpike(i, start + h);
    }

    /// <summary>u(h) − θ of neuron i from (u_s, g_e, g_i) in the cancellation-free form of <see cref="ExpMembrane"/>.</summary>
    private readonly struct MembraneAboveThreshold(PreciseEngine engine, int i, double u, double ge, double gi, double theta) : ExponentialSum.IFunction
    {
        public double At(double h) => engine.ExpMembrane(i, u, ge, gi, h) - theta;
    }

    /// <summary>At most one spike per neuron and time: with t_ref = 0 an immediate re-crossing fires one ulp later.</summary>
    private double AfterLastSpike(int i, double t) => t == _lastSpike[i] ? Math.BitIncrement(t) : t;

    private void AddSynapticTerms(ref int m, double g, double tm, double tx)
    {
        if (g == 0) return;
        if (tx == tm) { _terms[m++] = new ExpTerm(1 / tm, 0, g / tm); return; }
        double k = g * tx / (tx - tm);
        _terms[m++] = new ExpTerm(1 / tx, k, 0);
        _terms[m++] = new ExpTerm(1 / tm, -k, 0);
    }
}
