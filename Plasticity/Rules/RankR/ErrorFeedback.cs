using System.Numerics.Tensors;

namespace Sim.Plasticity;

/// <summary>
/// How the rank-R rule turns the target and the network's filtered spikes ŝ into the per-neuron learning signal e_i
/// (Capone, Muratore &amp; Paolucci 2022; docs/rules/rank_r.md step 4). Two forms:
/// <see cref="NeuronSpaceFeedback"/> (e = D·(ŝ* − ŝ)) and <see cref="OutputSpaceFeedback"/> (the paper's Eq. 8).
/// Every reduction follows one documented canonical order (numerics contract item 7).
/// </summary>
public abstract class ErrorFeedback
{
    /// <summary>N, neurons.</summary>
    public abstract int Neurons { get; }
    /// <summary>Length of one target row (N for the neuron-space form, R for the output-space form).</summary>
    public abstract int TargetLength { get; }
    /// <summary>A short description for reports.</summary>
    public abstract string Name { get; }

    /// <summary>Writes e (length N) from one target row and ŝ (length N).</summary>
    public abstract void Project(ReadOnlySpan<double> target, ReadOnlySpan<double> filtered, Span<double> e);
}

/// <summary>
/// Neuron-space form: err_j = ŝ*_j − ŝ_j, e_i = Σ_j D_ij·err_j with j ascending from +0.0; D (N×N, row-major) from
/// <see cref="Feedback.RankR"/> or <see cref="Feedback.Ltts"/>. Target rows are ŝ*[t] (length N).
/// </summary>
public sealed class NeuronSpaceFeedback : ErrorFeedback
{
    private readonly double[] _d, _dT, _err;
    private readonly int _n;

    /// <summary>Wraps D (copied).</summary>
    public NeuronSpaceFeedback(double[] d, int n, string name = "neuron space")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        if (d.Length != n * n) throw new ArgumentException($"D must be {n}×{n}", nameof(d));
        _d = (double[])d.Clone(); _n = n; _err = new double[n]; Name = name;
        _dT = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) _dT[j * n + i] = _d[i * n + j];
    }

    /// <inheritdoc/>
    public override int Neurons => _n;
    /// <inheritdoc/>
    public override int TargetLength => _n;
    /// <inheritdoc/>
    public override string Name { get; }

    /// <inheritdoc/>
    public override void Project(ReadOnlySpan<double> target, ReadOnlySpan<double> filtered, Span<double> e)
    {
        int n = _n;
        TensorPrimitives.Subtract(target[..n], filtered[..n], _err);
        // e_i = (((0 + D_i0·err_0) + D_i1·err_1) + …): the same sequence for every i, vectorised across i by walking
        // the columns of D (stored transposed); element-wise multiply then add, never fused.
        e = e[..n];
        e.Clear();
        for (int j = 0; j < n; j++) TensorPrimitives.MultiplyAdd(_dT.AsSpan(j * n, n), _err[j], e, e);
    }
}

/// <summary>
/// Output-space form (the paper's Eq. 8, docs/rules/rank_r.md): with B⁺ = B[:, :R] (N×R),
/// <code>
/// Y*[t] = [y*[t], B[:, O:R]ᵀ·ŝ*[t]]             (length R; <see cref="Targets"/>)
/// c_r   = Y*_r − Σ_j B⁺_jr·ŝ_j                   j ascending from +0.0
/// e_i   = Σ_r B⁺_ir·c_r                          r ascending from +0.0
/// </code>
/// It differs from the neuron-space form D = B⁺B⁺ᵀ only in the first O components of the target, which are the
/// true outputs y* instead of their readout W_out·ŝ* (equal when the readout is exact). The reading of "B_q" as the
/// R − O random columns B[:, O:R] is [inferred] from the paper's text.
/// </summary>
public sealed class OutputSpaceFeedback : ErrorFeedback
{
    private readonly double[] _bPlus, _bPlusT, _c;
    private readonly int _n, _r;

    /// <summary>Takes B⁺ = B[:, :R] from the full B (N×N, row-major).</summary>
    public OutputSpaceFeedback(ReadOnlySpan<double> b, int n, int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        if (b.Length != n * n) throw new ArgumentException($"B must be {n}×{n}", nameof(b));
        if (rank < 1 || rank > n) throw new ArgumentOutOfRangeException(nameof(rank), $"R must lie in [1, {n}], got {rank}");
        _n = n; _r = rank;
        _bPlus = new double[n * rank];
        for (int i = 0; i < n; i++)
            for (int r = 0; r < rank; r++) _bPlus[i * rank + r] = b[i * n + r];
        _c = new double[rank];
        _bPlusT = new double[rank * n];
        for (int i = 0; i < n; i++)
            for (int r = 0; r < rank; r++) _bPlusT[r * n + i] = _bPlus[i * rank + r];
    }

    /// <inheritdoc/>
    public override int Neurons => _n;
    /// <inheritdoc/>
    public override int TargetLength => _r;
    /// <inheritdoc/>
    public override string Name => $"output space (Eq. 8), R = {_r}";
    /// <summary>B⁺ (N×R, row-major).</summary>
    public ReadOnlySpan<double> BPlus => _bPlus;

    /// <summary>
    /// Y*[t] = [y*[t], B[:, O:R]ᵀ·ŝ*[t]] for every t (sums over neurons j ascending from +0.0).
    /// </summary>
    public double[][] Targets(IReadOnlyList<double[]> y, IReadOnlyList<double[]> targetTrace)
    {
        if (y.Count != targetTrace.Count) throw new ArgumentException("y* and ŝ* differ in length", nameof(targetTrace));
        var result = new double[y.Count][];
        for (int t = 0; t < y.Count; t++)
        {
            int o = y[t].Length;
            if (o > _r) throw new ArgumentException($"{o} outputs exceed R = {_r}", nameof(y));
            var row = new double[_r];
            y[t].CopyTo(row, 0);
            for (int r = o; r < _r; r++)
            {
                double s = 0;
                for (int j = 0; j < _n; j++) s += _bPlus[j * _r + r] * targetTrace[t][j];
                row[r] = s;
            }
            result[t] = row;
        }
        return result;
    }

    /// <inheritdoc/>
    public override void Project(ReadOnlySpan<double> target, ReadOnlySpan<double> filtered, Span<double> e)
    {
        int n = _n, rank = _r;
        // Both sums keep their canonical order per element and are vectorised across the other index.
        var c = _c.AsSpan();
        c.Clear();
        for (int j = 0; j < n; j++) TensorPrimitives.MultiplyAdd(_bPlus.AsSpan(j * rank, rank), filtered[j], c, c);
        TensorPrimitives.Subtract(target[..rank], c, c);
        e = e[..n];
        e.Clear();
        for (int r = 0; r < rank; r++) TensorPrimitives.MultiplyAdd(_bPlusT.AsSpan(r * n, n), c[r], e, e);
    }
}
