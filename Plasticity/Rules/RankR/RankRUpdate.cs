using System.Numerics.Tensors;
using Sim.EventCore.Models;
using Sim.EventCore.Plasticity;
using Sim.EventCore.Numerics;

namespace Sim.Plasticity;

/// <summary>
/// The online rank-R / tolerance-τ⋆ update of the recurrent weights (C. Capone, P. Muratore &amp; P. S. Paolucci 2022,
/// "Error-based or target-based? A unified framework for learning in recurrent spiking networks", PLoS Comput. Biol.
/// 18(6): e1010221; docs/rules/rank_r.md), for one population of N GoalLif neurons, independent of any engine. One call of
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
