using System.Numerics.Tensors;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.EventCore.Plasticity;
using Sim.EventCore.Numerics;

namespace Sim.Plasticity;

/// <summary>
/// The online rank-R / tolerance-τ⋆ update of the recurrent weights (C. Capone, P. Muratore &amp; P. S. Paolucci 2022,
/// "Error-based or target-based? A unified framework for learning in recurrent spiking networks", PLoS Comput. Biol.
/// 18(6): e1010221; docs/models/rank_r_rule.md), for one population of N GoalLif neurons, independent of any engine. One call of
/// <see cref="Update"/> per tick, after z[t+1] is known:
/// <code>
/// ŝ ← α⋆·ŝ + (1−α⋆)·z[t+1]                                   (<see cref="SpikeFilter"/>)
/// err_j = ŝ*_j[t+1] − ŝ_j
/// e_i   = Σ_j D_ij·err_j          j ascending from +0.0 (canonical order, numerics contract item 7)
///         (or the output-space form of Eq. 8, <see cref="OutputSpaceFeedback"/>; see <see cref="ErrorFeedback"/>)
/// g_i   = e_i·p_i                  p_i = ψ(v_i[t+1]) from the neuron model (GoalLif: σ(v)(1 − σ(v)), <see cref="SigmoidPseudoDerivative"/>)
/// d_ij  = g_i·ej_j[t+1]  (i ≠ j),  d_ii = 0
/// W     ← optimizer(W, d)          SGD: W_ij ← W_ij + η·d_ij
/// W_ii  ← 0
/// Q_ij  = round_half_even(W_ij·2^F)                           (numerics contract item 8)
/// </code>
/// W (float64, row-major N×N, [i, j] = from j to i) is the master copy: updates accumulate in it unrounded, and Q, the
/// grid image the neuron kernel uses (w = Q·2^-F), is formed from it when needed: by the engine as the rule writes a
/// row (<see cref="IPlasticityContext.SetIncomingWeights"/>), or on reading <see cref="GridWeights"/>.
/// </summary>
public sealed class RankRUpdate
{
    private double[]? _acc;
    private readonly double[] _w, _e, _g, _dir;
    private readonly ErrorFeedback _feedback;
    private readonly long[] _q;
    private readonly IOptimizer _optimizer;
    private readonly double _gridScale;
    private bool _gridStale;
    private double[]? _qValue;

    /// <summary>Creates the update.</summary>
    /// <param name="n">N, neurons.</param>
    /// <param name="feedback">D (N×N, row-major), e.g. from <see cref="Feedback.RankR"/> or <see cref="Feedback.Ltts"/>.</param>
    /// <param name="dtMs">Time step (ms).</param>
    /// <param name="tauStarMs">τ⋆ (ms).</param>
    /// <param name="optimizer">How d is applied (the paper: <see cref="Sgd"/> with η = 5/√N).</param>
    /// <param name="weightFractionBits">F of the weight grid 2^-F.</param>
    /// <param name="initialWeights">Initial W (N×N row-major, diagonal ignored); null for W = 0.</param>
    public RankRUpdate(int n, double[] feedback, double dtMs, double tauStarMs, IOptimizer optimizer, int weightFractionBits, double[]? initialWeights = null)
        : this(new NeuronSpaceFeedback(feedback, n), dtMs, tauStarMs, optimizer, weightFractionBits, initialWeights) { }

    /// <summary>Creates the update with any error feedback (neuron-space D or the output-space form).</summary>
    public RankRUpdate(ErrorFeedback feedback, double dtMs, double tauStarMs, IOptimizer optimizer, int weightFractionBits, double[]? initialWeights = null)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        int n = feedback.Neurons;
        if (initialWeights is not null && initialWeights.Length != n * n) throw new ArgumentException($"W must be {n}×{n}", nameof(initialWeights));
        N = n;
        _feedback = feedback;
        _w = initialWeights is null ? new double[n * n] : (double[])initialWeights.Clone();
        for (int i = 0; i < n; i++) _w[i * n + i] = 0;
        _q = new long[n * n];
        _e = new double[n]; _g = new double[n]; _dir = new double[n * n];
        _optimizer = optimizer;
        Filter = new SpikeFilter(n, dtMs, tauStarMs);
        WeightFractionBits = weightFractionBits;
        _gridScale = Math.ScaleB(1.0, weightFractionBits);
        Quantize();
    }

    /// <summary>N.</summary>
    public int N { get; }
    /// <summary>F: the weights act as Q·2^-F.</summary>
    public int WeightFractionBits { get; }
    /// <summary>The filter of the network's spikes (ŝ).</summary>
    public SpikeFilter Filter { get; }
    /// <summary>The error feedback (neuron-space D or output-space B⁺).</summary>
    public ErrorFeedback Feedback => _feedback;
    /// <summary>The optimizer.</summary>
    public IOptimizer Optimizer => _optimizer;
    /// <summary>Master weights W (float64, row-major, [i, j] from j to i).</summary>
    public ReadOnlySpan<double> Weights => _w;
    /// <summary>Grid weights Q = round_half_even(W·2^F) (row-major).</summary>
    public ReadOnlySpan<long> GridWeights
    {
        get
        {
            if (_gridStale) Quantize();
            return _q;
        }
    }
    /// <summary>The last update direction d (row-major), for inspection and tests.</summary>
    public ReadOnlySpan<double> LastDirection => _dir;

    /// <summary>Filters z into ŝ without learning (for evaluation passes).</summary>
    public void Observe(ReadOnlySpan<double> z) => Filter.Step(z);

    /// <summary>
    /// One online update (see the class summary): filter z, compute d, apply it, zero the diagonal. Q is formed from W
    /// on demand (<see cref="GridWeights"/>, or by the network when the rule writes W into it), which is where an out-of-range weight throws.
    /// </summary>
    /// <param name="z">z[t+1] (0/1).</param>
    /// <param name="psi">p_i = ψ(v_i[t+1]), the neuron model's pseudo-derivative (GoalLif: σ(v)(1 − σ(v)), <see cref="SigmoidPseudoDerivative"/>).</param>
    /// <param name="ej">ej[t+1] (presynaptic eligibility).</param>
    /// <param name="targetTrace">ŝ*[t+1] (neuron space), or Y*[t+1] (output space; see <see cref="ErrorFeedback.TargetLength"/>).</param>
    public void Update(ReadOnlySpan<double> z, ReadOnlySpan<double> psi, ReadOnlySpan<double> ej, ReadOnlySpan<double> targetTrace)
    {
        int n = N;
        if (psi.Length != n || ej.Length != n) throw new ArgumentException($"expected vectors of length {n}");
        if (targetTrace.Length != _feedback.TargetLength) throw new ArgumentException($"expected a target row of length {_feedback.TargetLength}", nameof(targetTrace));
        Filter.Step(z);
        _feedback.Project(targetTrace, Filter.Value, _e);
        for (int i = 0; i < n; i++) _g[i] = _e[i] * psi[i];
        // d_ij = ej_j·g_i (d_ii = 0), row by row while the row is in L1, then one of: sum it (per trial, tick order; W is
        // left alone until EndTrial), apply it with SGD at once (Sgd.Step is element-wise, so a row at a time is the
        // same as the whole matrix), or keep the whole d for another optimizer (Adam's state is per element of W).
        bool perTrial = Mode == UpdateMode.PerTrial;
        var acc = perTrial ? _acc ??= new double[n * n] : null;
        var sgd = perTrial ? null : _optimizer as Sgd;
        for (int i = 0; i < n; i++)
        {
            var d = _dir.AsSpan(i * n, n);
            TensorPrimitives.Multiply(ej, _g[i], d);
            d[i] = 0;
            if (acc is not null)
            {
                var a = acc.AsSpan(i * n, n);
                TensorPrimitives.Add(a, d, a);
            }
            else if (sgd is not null)
            {
                var w = _w.AsSpan(i * n, n);
                sgd.Step(w, d);
                w[i] = 0;
            }
        }
        if (perTrial) { PendingTicks++; return; }
        if (sgd is null)
        {
            _optimizer.Step(_w, _dir);
            for (int i = 0; i < n; i++) _w[i * n + i] = 0;
        }
        _gridStale = true;
    }

    private InvalidOperationException OutOfGrid(int k)
        => new($"a plastic weight W[{k / N}, {k % N}] = {_w[k]:G6} has left the representable range of the grid 2^-{WeightFractionBits} (|W·2^F| < 2^51)");

    /// <summary>When the weights change: every tick (<see cref="UpdateMode.Online"/>, the paper's protocol) or once per trial.</summary>
    public UpdateMode Mode
    {
        get;
        set
        {
            if (PendingTicks > 0) throw new InvalidOperationException("the mode cannot change in the middle of a trial with pending updates");
            field = value;
        }
    }

    /// <summary>Ticks accumulated since the last <see cref="EndTrial"/> (per-trial mode).</summary>
    public int PendingTicks { get; private set; }

    /// <summary>
    /// Per-trial mode: applies the summed direction D = Σ_t d_t of the trial with the optimizer (one step, e.g.
    /// W ← W + η·D for SGD), zeroes the diagonal and clears the sum. Online mode, or no pending tick: nothing to do.
    /// </summary>
    /// <returns>True when a step was applied (W changed).</returns>
    public bool EndTrial()
    {
        if (Mode != UpdateMode.PerTrial || _acc is null || PendingTicks == 0) return false;
        _optimizer.Step(_w, _acc);
        for (int i = 0; i < N; i++) _w[i * N + i] = 0;
        Array.Clear(_acc);
        PendingTicks = 0;
        _gridStale = true;
        return true;
    }

    /// <summary>The update's state for a checkpoint: W, ŝ, the per-trial sum and the optimizer's state.</summary>
    public Dictionary<string, double[]> Capture()
    {
        var state = new Dictionary<string, double[]> { ["w"] = (double[])_w.Clone(), ["filter"] = Filter.Value.ToArray(), ["pending"] = [PendingTicks] };
        if (_acc is not null) state["acc"] = (double[])_acc.Clone();
        foreach (var (name, values) in _optimizer.Capture()) state["opt/" + name] = values;
        return state;
    }

    /// <summary>Sets the state from <see cref="Capture"/>.</summary>
    public void Restore(IReadOnlyDictionary<string, double[]> state)
    {
        if (!state.TryGetValue("w", out var w) || w.Length != _w.Length || !state.TryGetValue("filter", out var f) || !state.TryGetValue("pending", out var pending))
            throw new InvalidDataException("rank-R rule state incomplete");
        w.CopyTo(_w, 0);
        Filter.Load(f);
        PendingTicks = (int)pending[0];
        if (state.TryGetValue("acc", out var acc)) _acc = (double[])acc.Clone();
        else if (_acc is not null) Array.Clear(_acc);
        _optimizer.Restore(state.Where(kv => kv.Key.StartsWith("opt/", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[4..], kv => kv.Value));
        _gridStale = true;
    }

    private void Quantize()
    {
        _qValue ??= new double[_q.Length];   // only for GridWeights, never in the tick loop
        int k = FixedPoint.QuantizeRow(_w, _gridScale, _q, _qValue, out _);
        if (k >= 0) throw OutOfGrid(k);
        _gridStale = false;
    }
}

/// <summary>One learner of the rank-R rule: its feedback, τ⋆, optimizer, targets and update mode (one per instance).</summary>
/// <param name="Feedback">The error feedback (neuron-space D or output-space B⁺); owned by this learner (it has scratch state).</param>
/// <param name="TauStarMs">τ⋆ (ms).</param>
/// <param name="Optimizer">How the update is applied; owned by this learner (Adam has per-element state).</param>
/// <param name="Target">Row t for tick t: ŝ*[t] (neuron space) or Y*[t] (output space, <see cref="OutputSpaceFeedback.Targets"/>).</param>
public sealed record RankRCell(ErrorFeedback Feedback, double TauStarMs, IOptimizer Optimizer, double[][] Target)
{
    /// <summary>Online (every tick, the paper's protocol) or per-trial updates.</summary>
    public UpdateMode Mode { get; init; } = UpdateMode.Online;
}

/// <summary>
/// The rank-R rule plugged into an engine (<see cref="IPlasticityRule"/>). It makes the population's trace-coupled
/// projection onto itself plastic (the model's W_rec: all-to-all without autapses, with an explicit weight grid, e.g.
/// F = 20, so that the grid does not depend on the initial weights), and every instance gets its own learner
/// (<see cref="RankRInstance"/>, with its own <see cref="RankRCell"/>: a batch of instances can learn different cells at
/// once, e.g. a sweep over R as the dense engine's batch dimension). In the Plasticity phase of every tick a learner
/// reads v, z and ej of the population and the model's pseudo-derivative, runs <see cref="RankRUpdate.Update"/> against
/// its target row of that tick and writes W row by row (<see cref="IPlasticityContext.SetIncomingWeights"/>, rounded to the
/// grid and checked against the exactness bound); the weights act from the next tick. The tick within a trial is the
/// engine tick; call <see cref="ISimulationEngine.ResetState"/> at the start of each epoch (it resets ŝ) and
/// <see cref="ISimulationEngine.EndTrial"/> at its end (the per-trial update point).
/// </summary>
public sealed class RankRRule : IPlasticityRule
{
    private readonly Func<int, RankRCell> _cellOf;
    private readonly List<RankRInstance> _instances = [];
    private readonly string _population;
    private readonly int _pop, _offset, _n;
    private readonly double _gridUnit;
    private readonly int _gridBits;
    private PlasticProjection? _projection;

    /// <summary>Attaches the rule to population <paramref name="population"/> with one cell per instance.</summary>
    /// <param name="network">The network.</param>
    /// <param name="population">A GoalLif population with a trace projection onto itself.</param>
    /// <param name="cellOf">The cell of instance k (a new feedback and optimizer object for each).</param>
    public RankRRule(CompiledNetwork network, string population, Func<int, RankRCell> cellOf)
    {
        ArgumentNullException.ThrowIfNull(cellOf);
        var p = network.Population(population);
        if (p.Model != GoalLifModel.Instance) throw new ArgumentException($"population '{population}' is {p.Model.Name}; the rank-R rule needs goal_lif", nameof(population));
        _population = population;
        _pop = p.Index; _offset = p.Offset; _n = p.Size;
        _gridBits = p.TraceWeightFractionBits;
        _gridUnit = FixedPoint.Scale(p.TraceWeightFractionBits);
        var tr = network.TraceSynapses;
        for (int i = 0; i < _n; i++)
        {
            int start = tr.RowStart[_offset + i], len = tr.RowStart[_offset + i + 1] - start;
            bool ok = len == _n - 1;
            for (int k = 0; ok && k < len; k++) ok = tr.Source[start + k] == _offset + (k < i ? k : k + 1);
            if (!ok)
                throw new ArgumentException($"population '{population}' needs exactly one trace projection onto itself, all-to-all without autapses (neuron {i} has {len} trace inputs)", nameof(population));
        }
        _cellOf = cellOf;
    }

    /// <summary>
    /// Attaches the rule with one feedback, τ⋆ and optimizer for a single instance (these objects hold state, so an
    /// engine with several instances needs the per-instance constructor).
    /// </summary>
    public RankRRule(CompiledNetwork network, string population, ErrorFeedback feedback, double tauStarMs, IOptimizer optimizer, double[][]? target = null)
        : this(network, population, SingleCell(feedback, tauStarMs, optimizer, target)) { }

    /// <summary>As the single-instance constructor, with a neuron-space D (N×N, row-major).</summary>
    public RankRRule(CompiledNetwork network, string population, double[] feedback, double tauStarMs, IOptimizer optimizer)
        : this(network, population, new NeuronSpaceFeedback(feedback, network.Population(population).Size), tauStarMs, optimizer) { }

    private static Func<int, RankRCell> SingleCell(ErrorFeedback feedback, double tauStarMs, IOptimizer optimizer, double[][]? target)
    {
        bool used = false;
        return _ =>
        {
            if (used) throw new InvalidOperationException("this rank-R rule was made with one feedback and optimizer object, which cannot serve several instances; give a per-instance cell factory");
            used = true;
            return new RankRCell(feedback, tauStarMs, optimizer, target ?? []);
        };
    }

    /// <summary>The learners, one per instance, in the order the engine created them.</summary>
    public IReadOnlyList<RankRInstance> Instances => _instances;

    /// <summary>The learner of a single-instance engine (the first one).</summary>
    public RankRUpdate Core => _instances.Count > 0 ? _instances[0].Core : throw new InvalidOperationException("the rule has not been added to an engine yet");

    /// <inheritdoc/>
    public void Bind(PlasticityBinding binding)
    {
        var specs = binding.Network.Spec.Projections;
        int index = -1;
        for (int i = 0; i < specs.Count; i++) if (specs[i].Source == _population && specs[i].Target == _population) index = i;
        if (index < 0) throw new ArgumentException($"population '{_population}' has no projection onto itself");
        _projection = binding.Projection(index);
        if (!_projection.IsTraceCoupled) throw new ArgumentException($"the projection '{_projection.Name}' onto '{_population}' is not trace-coupled");
    }

    /// <inheritdoc/>
    public IRuleInstance CreateInstance(IPlasticityContext context)
    {
        var cell = _cellOf(context.Instance);
        if (cell.Feedback.Neurons != _n) throw new ArgumentException($"the feedback is for {cell.Feedback.Neurons} neurons, the population has {_n}");
        foreach (var row in cell.Target)
            if (row.Length != cell.Feedback.TargetLength) throw new ArgumentException($"each target row needs {cell.Feedback.TargetLength} values");
        var w0 = new double[_n * _n];
        for (int i = 0; i < _n; i++)
        {
            var incoming = _projection!.Incoming(_offset + i);
            foreach (int k in incoming) w0[i * _n + _projection.Pre[k] - _offset] = context.GetWeight(_projection, k);
        }
        var core = new RankRUpdate(cell.Feedback, context.Network.DtMs, cell.TauStarMs, cell.Optimizer, _gridBits, w0) { Mode = cell.Mode };
        var made = new RankRInstance(this, core, cell.Target);
        _instances.Add(made);
        return made;
    }

    internal int Population => _pop;
    internal int Offset => _offset;
    internal PlasticProjection Projection => _projection!;
}

/// <summary>The rank-R learner of one instance (<see cref="RankRRule"/>).</summary>
public sealed class RankRInstance : ICheckpointableRuleInstance
{
    private readonly RankRRule _rule;
    private readonly double[] _row, _psi;

    internal RankRInstance(RankRRule rule, RankRUpdate core, double[][] target)
    {
        _rule = rule;
        Core = core;
        Target = target;
        _row = new double[core.N - 1];
        _psi = new double[core.N];
    }

    /// <summary>The engine-independent update (weights, filter, optimizer).</summary>
    public RankRUpdate Core { get; }

    /// <summary>The targets of a trial, row t for tick t (replace them between trials to change the task).</summary>
    public double[][] Target { get; set; }

    /// <summary>When false, the learner only filters the spikes (ŝ) and leaves the weights alone.</summary>
    public bool Learning { get; set; } = true;

    /// <inheritdoc/>
    public void OnStep(IPlasticityContext context)
    {
        var z = context.Variable(_rule.Population, "z");
        if (!Learning) { Core.Observe(z); return; }
        long tick = context.Tick;
        if (tick >= Target.Length) throw new InvalidOperationException($"tick {tick} is beyond the {Target.Length} ticks of the target; reset the trial");
        context.PseudoDerivative(_rule.Population, _psi);
        Core.Update(z, _psi, context.Variable(_rule.Population, "ej"), Target[tick]);
        if (Core.Mode == UpdateMode.PerTrial) return;   // the weights change at the trial's end
        WriteWeights(context);
    }

    /// <inheritdoc/>
    public void OnTrialStart(IPlasticityContext context) => Core.Filter.Reset();

    /// <inheritdoc/>
    public void OnTrialEnd(IPlasticityContext context)
    {
        // Nothing to write when no step was applied (a write would bump the weights' version for nothing).
        if (Core.Mode == UpdateMode.PerTrial && Core.EndTrial()) WriteWeights(context);
    }

    /// <summary>Writes W (without its diagonal) row by row: row i's incoming synapses are its sources in ascending order.</summary>
    private void WriteWeights(IPlasticityContext context)
    {
        int n = Core.N;
        var w = Core.Weights;
        for (int i = 0; i < n; i++)
        {
            var r = w.Slice(i * n, n);
            r[..i].CopyTo(_row);
            r[(i + 1)..].CopyTo(_row.AsSpan(i));
            context.SetIncomingWeights(_rule.Projection, _rule.Offset + i, _row);
        }
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, double[]> Capture() => Core.Capture();

    /// <inheritdoc/>
    public void Restore(IReadOnlyDictionary<string, double[]> state) => Core.Restore(state);
}

/// <summary>When a rule changes the weights.</summary>
public enum UpdateMode
{
    /// <summary>Every tick, acting from the next tick (MODELS.md §3.1 step 4, the paper's protocol).</summary>
    Online,
    /// <summary>
    /// Once per trial: the directions of every tick are summed (in tick order) and applied in one optimizer step at the
    /// end of the trial; the weights are constant during a trial.
    /// </summary>
    PerTrial,
}
