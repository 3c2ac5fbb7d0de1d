using Sim.EventCore.Precise;

namespace Sim.Probes.Analysis;

/// <summary>Spike-time jitter across repeated trials (see <see cref="SpikeTrainDistances.Jitter"/>).</summary>
/// <param name="MeanMs">Mean signed deviation Δ = t_match − t_ref (ms); NaN when nothing matched.</param>
/// <param name="MeanAbsMs">Mean |Δ| (ms); NaN when nothing matched.</param>
/// <param name="StdMs">Standard deviation of Δ (1/n normalisation); NaN when nothing matched.</param>
/// <param name="Matched">Number of matched spikes.</param>
/// <param name="Unmatched">Spikes without a partner within the window.</param>
public sealed record JitterResult(double MeanMs, double MeanAbsMs, double StdMs, long Matched, long Unmatched);

/// <summary>A cross-correlogram: pair counts per lag bin.</summary>
/// <param name="LagsMs">Bin centres k·bin (ms), k = −K…K.</param>
/// <param name="Counts">Number of pairs (a_i, b_j) whose lag b_j − a_i falls into bin k.</param>
/// <param name="BinMs">Bin width (ms).</param>
public sealed record CrossCorrelogram(double[] LagsMs, long[] Counts, double BinMs);

/// <summary>
/// Spike-train distances and timing statistics at a timescale τ, for single trains given as spike times in ms
/// (any order on input; they are sorted internally). All methods are pure and allocation-light.
/// </summary>
public static class SpikeTrainDistances
{
    /// <summary>
    /// van Rossum distance (van Rossum 2001, Neural Comput. 13:751) with an exponential kernel of time constant τ:
    /// <code>
    /// f(t) = Σ_i e^{−(t − a_i)/τ}·Θ(t − a_i),   g(t) = Σ_j e^{−(t − b_j)/τ}·Θ(t − b_j)
    /// D²   = (1/τ) ∫_{−∞}^{∞} (f(t) − g(t))² dt
    /// </code>
    /// Normalisation: one extra spike (a = {t}, b = {}) gives D² = 1/2, so D = 1/√2; two coincident trains give 0.
    /// Computed exactly in O(n + m) by integrating piecewise between the merged spike times: with c_k the value of f − g
    /// just after the k-th merged event and Δ_k the gap to the next one, D² = Σ_k (c_k²/2)·(1 − e^{−2Δ_k/τ})
    /// (Δ = ∞ after the last), a sum of non-negative terms (no cancellation).
    /// </summary>
    /// <returns>D (not squared).</returns>
    public static double VanRossum(ReadOnlySpan<double> a, ReadOnlySpan<double> b, double tauMs)
    {
        if (!(tauMs > 0)) throw new ArgumentOutOfRangeException(nameof(tauMs), "τ must be > 0");
        var x = Sorted(a);
        var y = Sorted(b);
        int i = 0, j = 0;
        double c = 0, last = double.NaN, d2 = 0;
        while (i < x.Length || j < y.Length)
        {
            double t = j >= y.Length || (i < x.Length && x[i] <= y[j]) ? x[i] : y[j];
            if (!double.IsNaN(last))
            {
                double gap = t - last;
                d2 += 0.5 * c * c * -ExponentialSum.ExpM1(-2 * gap / tauMs);
                c *= Math.Exp(-gap / tauMs);
            }
            while (i < x.Length && x[i] == t) { c += 1; i++; }
            while (j < y.Length && y[j] == t) { c -= 1; j++; }
            last = t;
        }
        d2 += 0.5 * c * c;
        return Math.Sqrt(d2);
    }

    /// <summary>
    /// Victor–Purpura spike-time distance D^spike[q] (Victor &amp; Purpura 1996, J. Neurophysiol. 76:1310): the minimal
    /// cost of transforming train a into b by deleting or inserting spikes (cost 1 each) and shifting a spike by Δt
    /// (cost q·|Δt|), by dynamic programming in O(n·m) time and O(m) memory:
    /// <code>
    /// G[i][0] = i,  G[0][j] = j,
    /// G[i][j] = min(G[i−1][j] + 1,  G[i][j−1] + 1,  G[i−1][j−1] + q·|a_i − b_j|)
    /// </code>
    /// q = 0 gives the difference of spike counts; q → ∞ gives the number of non-coincident spikes.
    /// </summary>
    /// <param name="qPerMs">Cost per ms of shifting a spike (q ≥ 0); 2/q is the timescale.</param>
    public static double VictorPurpura(ReadOnlySpan<double> a, ReadOnlySpan<double> b, double qPerMs)
    {
        if (!(qPerMs >= 0)) throw new ArgumentOutOfRangeException(nameof(qPerMs), "q must be ≥ 0");
        var x = Sorted(a);
        var y = Sorted(b);
        var prev = new double[y.Length + 1];
        var cur = new double[y.Length + 1];
        for (int j = 0; j <= y.Length; j++) prev[j] = j;
        for (int i = 1; i <= x.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= y.Length; j++)
            {
                double shift = prev[j - 1] + (qPerMs == 0 ? 0 : qPerMs * Math.Abs(x[i - 1] - y[j - 1]));
                cur[j] = Math.Min(Math.Min(prev[j] + 1, cur[j - 1] + 1), shift);
            }
            (prev, cur) = (cur, prev);
        }
        return prev[y.Length];
    }

    /// <summary>
    /// Spike-time jitter across repeated trials of the same stimulus: for every ordered pair of distinct trials (r, s) and
    /// every spike t of trial r, the nearest spike t′ of trial s is its match if |t′ − t| ≤ <paramref name="windowMs"/>
    /// (otherwise the spike counts as unmatched); the deviations Δ = t′ − t of all matches are summarised by their mean
    /// (≈ 0 by symmetry), mean absolute value and standard deviation (1/n). For trials that are copies of one train shifted
    /// by independent N(0, σ²) jitters, std Δ ≈ σ√2. Cost O(R²·n log n).
    /// </summary>
    public static JitterResult Jitter(IReadOnlyList<double[]> trials, double windowMs)
    {
        if (!(windowMs >= 0)) throw new ArgumentOutOfRangeException(nameof(windowMs), "window must be ≥ 0");
        var sorted = trials.Select(t => Sorted(t)).ToArray();
        double sum = 0, sumAbs = 0, sumSq = 0;
        long matched = 0, unmatched = 0;
        for (int r = 0; r < sorted.Length; r++)
            for (int s = 0; s < sorted.Length; s++)
            {
                if (r == s) continue;
                var other = sorted[s];
                foreach (double t in sorted[r])
                {
                    int k = Array.BinarySearch(other, t);
                    if (k < 0) k = ~k;
                    double best = double.PositiveInfinity;
                    if (k < other.Length) best = other[k] - t;
                    if (k > 0 && t - other[k - 1] < Math.Abs(best)) best = other[k - 1] - t;
                    if (Math.Abs(best) <= windowMs) { matched++; sum += best; sumAbs += Math.Abs(best); sumSq += best * best; }
                    else unmatched++;
                }
            }
        if (matched == 0) return new JitterResult(double.NaN, double.NaN, double.NaN, 0, unmatched);
        double mean = sum / matched;
        return new JitterResult(mean, sumAbs / matched, Math.Sqrt(Math.Max(0, sumSq / matched - mean * mean)), matched, unmatched);
    }

    /// <summary>ISI coefficient of variation σ/μ of one train (σ with 1/n), via <see cref="SpikeStatistics"/>; NaN with fewer than 3 spikes.</summary>
    /// <param name="train">Spike times (ms).</param>
    /// <param name="durationMs">Only spikes in [0, duration) count.</param>
    public static double IsiCv(ReadOnlySpan<double> train, double durationMs)
        => SpikeStatistics.Compute("train", 1, Sorted(train), new int[train.Length], durationMs).IsiCv;

    /// <summary>Fano factor var/mean (1/W) of one train's counts in ⌊T/window⌋ consecutive windows, via <see cref="SpikeStatistics"/>.</summary>
    public static double FanoFactor(ReadOnlySpan<double> train, double durationMs, double windowMs)
        => SpikeStatistics.Compute("train", 1, Sorted(train), new int[train.Length], durationMs, windowMs).FanoFactor;

    /// <summary>Fano factor across trials: var/mean (var with 1/R) of the spike counts of R trials in [fromMs, toMs); NaN for a zero mean.</summary>
    public static double FanoAcrossTrials(IReadOnlyList<double[]> trials, double fromMs, double toMs)
    {
        var counts = trials.Select(t => (double)t.Count(x => x >= fromMs && x < toMs)).ToArray();
        if (counts.Length == 0) return double.NaN;
        double mean = counts.Average();
        if (mean == 0) return double.NaN;
        return counts.Select(c => (c - mean) * (c - mean)).Average() / mean;
    }

    /// <summary>
    /// Cross-correlogram of b relative to a (Perkel, Gerstein &amp; Moore 1967): C[k] = #{(i, j) : b_j − a_i ∈ [(k − ½)·bin, (k + ½)·bin)},
    /// k = −K…K with K = round(maxLag/bin), as raw counts per bin (divide by n_a·bin for a conditional rate).
    /// The auto-correlogram is CrossCorrelogram(a, a, …) and includes the zero-lag self pairs. Cost O(n + m + pairs in range).
    /// </summary>
    public static CrossCorrelogram CrossCorrelogram(ReadOnlySpan<double> a, ReadOnlySpan<double> b, double binMs, double maxLagMs)
    {
        if (!(binMs > 0)) throw new ArgumentOutOfRangeException(nameof(binMs), "bin must be > 0");
        if (!(maxLagMs >= 0)) throw new ArgumentOutOfRangeException(nameof(maxLagMs), "max lag must be ≥ 0");
        int kMax = (int)Math.Round(maxLagMs / binMs);
        var counts = new long[2 * kMax + 1];
        var lags = new double[2 * kMax + 1];
        for (int k = -kMax; k <= kMax; k++) lags[k + kMax] = k * binMs;
        var x = Sorted(a);
        var y = Sorted(b);
        double lo = (-kMax - 0.5) * binMs, hi = (kMax + 0.5) * binMs;
        int start = 0;
        foreach (double t in x)
        {
            while (start < y.Length && y[start] - t < lo) start++;
            for (int j = start; j < y.Length; j++)
            {
                double lag = y[j] - t;
                if (lag >= hi) break;
                int k = (int)Math.Floor(lag / binMs + 0.5);
                if (k >= -kMax && k <= kMax) counts[k + kMax]++;
            }
        }
        return new CrossCorrelogram(lags, counts, binMs);
    }

    private static double[] Sorted(ReadOnlySpan<double> t)
    {
        var a = t.ToArray();
        Array.Sort(a);
        return a;
    }
}
