namespace Sim.Plasticity;

/// <summary>
/// Feedback matrices of the rank-R / tolerance-τ⋆ framework (Capone, Muratore &amp; Paolucci 2022; docs/rules/rank_r.md step 3).
/// All matrices are dense, row-major (element [i, j] at i·cols + j).
/// <code>
/// B (N×N) ~ N(0, (2·std(W_out))²), then B[:, :O] ← W_outᵀ          (O outputs, W_out is O×N)
/// D = B[:, :R]·B[:, :R]ᵀ   (N×N, rank R, O ≤ R ≤ N)                  rank-R rule
/// D = mean_i((B·Bᵀ)_ii)·I                                          "LTTS" variant
/// </code>
/// std is the population standard deviation over all entries of W_out (numpy's default, ddof = 0).
/// Reductions follow one canonical order (numerics contract item 7): D_ij = Σ_r B_ir·B_jr with r ascending from 0,
/// starting from +0.0; mean(diag) = (Σ_i Σ_c B_ic² with i, c ascending)/N.
/// </summary>
public static class Feedback
{
    /// <summary>
    /// B for a readout <paramref name="wOut"/> (O×N, row-major): entries drawn from N(0, (2·std(W_out))²) with the
    /// counter RNG keyed by (seed, <see cref="PlasticityRandom.FeedbackPurpose"/>, cell), element index i·N + c; then the
    /// first O columns replaced by W_outᵀ.
    /// </summary>
    public static double[] Matrix(ReadOnlySpan<double> wOut, int outputs, int n, ulong seed, ulong cell = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, outputs);
        if (wOut.Length != outputs * n) throw new ArgumentException($"W_out must be {outputs}×{n}", nameof(wOut));
        double sd = 2.0 * StandardDeviation(wOut);
        ulong key = PlasticityRandom.Key(seed, PlasticityRandom.FeedbackPurpose, cell);
        var b = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < n; c++)
                b[i * n + c] = c < outputs ? wOut[c * n + i] : sd * PlasticityRandom.Normal(key, (long)i * n + c);
        return b;
    }

    /// <summary>Population standard deviation (ddof = 0): mean first, then √(Σ(x − mean)²/n), sums in index order.</summary>
    public static double StandardDeviation(ReadOnlySpan<double> x)
    {
        if (x.Length == 0) throw new ArgumentException("empty", nameof(x));
        double s = 0;
        foreach (double v in x) s += v;
        double mean = s / x.Length, q = 0;
        foreach (double v in x) { double e = v - mean; q += e * e; }
        return Math.Sqrt(q / x.Length);
    }

    /// <summary>D = B[:, :R]·B[:, :R]ᵀ (N×N); <paramref name="b"/> is N×N row-major, O ≤ R ≤ N is checked by the caller's choice of R ≥ 1.</summary>
    public static double[] RankR(ReadOnlySpan<double> b, int n, int rank)
    {
        if (b.Length != n * n) throw new ArgumentException($"B must be {n}×{n}", nameof(b));
        if (rank < 1 || rank > n) throw new ArgumentOutOfRangeException(nameof(rank), $"R must lie in [1, {n}], got {rank}");
        var d = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int r = 0; r < rank; r++) s += b[i * n + r] * b[j * n + r];
                d[i * n + j] = s;
            }
        return d;
    }

    /// <summary>The LTTS variant D = mean(diag(B·Bᵀ))·I (N×N).</summary>
    public static double[] Ltts(ReadOnlySpan<double> b, int n)
    {
        if (b.Length != n * n) throw new ArgumentException($"B must be {n}×{n}", nameof(b));
        double s = 0;
        for (int i = 0; i < n; i++)
            for (int c = 0; c < n; c++) s += b[i * n + c] * b[i * n + c];
        double mean = s / n;
        var d = new double[n * n];
        for (int i = 0; i < n; i++) d[i * n + i] = mean;
        return d;
    }

    /// <summary>
    /// Size of a feedback matrix D (N×N, symmetric positive semi-definite, as every D built here): its spectral norm
    /// ‖D‖₂ (largest eigenvalue, by 500 power iterations from a fixed start vector) and its trace. With SGD the step
    /// along the error is η·D·err, so η·‖D‖₂ bounds how far one update moves (used to compare learning rates across R).
    /// </summary>
    public static (double SpectralNorm, double Trace) Norms(ReadOnlySpan<double> d, int n)
    {
        if (d.Length != n * n) throw new ArgumentException($"D must be {n}×{n}", nameof(d));
        double trace = 0;
        for (int i = 0; i < n; i++) trace += d[i * n + i];
        var v = new double[n];
        var w = new double[n];
        for (int i = 0; i < n; i++) v[i] = 1.0 + 0.01 * i;
        double lambda = 0;
        for (int it = 0; it < 500; it++)
        {
            double norm = 0;
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int j = 0; j < n; j++) sum += d[i * n + j] * v[j];
                w[i] = sum;
                norm += sum * sum;
            }
            double vn = 0;
            foreach (double x in v) vn += x * x;
            lambda = Math.Sqrt(norm / vn);
            if (norm == 0) break;
            double inv = 1.0 / Math.Sqrt(norm);
            for (int i = 0; i < n; i++) v[i] = w[i] * inv;
        }
        return (lambda, trace);
    }
}
