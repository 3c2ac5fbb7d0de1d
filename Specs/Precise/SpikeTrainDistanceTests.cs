using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sim.Probes.Analysis;
using Xunit;

namespace Sim.Specs.Precise;

/// <summary>Spike-train distances and timing statistics: hand-computed values and metric properties.</summary>
public class SpikeTrainDistanceTests
{
    private static double[] Train(Random r, int maxCount) =>
        [.. Enumerable.Range(0, r.Next(maxCount + 1)).Select(_ => Math.Round(r.NextDouble() * 100, 3)).Order()];

    [Fact]
    public void VanRossumHandComputedValues()
    {
        // One extra spike: D² = 1/2.
        Assert.Equal(Math.Sqrt(0.5), SpikeTrainDistances.VanRossum([3.0], [], 10), 15);
        // {0} vs {d}: D² = 1 − e^{−d/τ}.
        Assert.Equal(Math.Sqrt(1 - Math.Exp(-0.4)), SpikeTrainDistances.VanRossum([0.0], [4.0], 10), 14);
        // {0, d} vs {}: D² = ½(2 + 2e^{−d/τ}) = 1 + e^{−d/τ}.
        Assert.Equal(Math.Sqrt(1 + Math.Exp(-0.5)), SpikeTrainDistances.VanRossum([0.0, 5.0], [], 10), 14);
        Assert.Equal(0.0, SpikeTrainDistances.VanRossum([1.0, 2.0, 7.5], [7.5, 1.0, 2.0], 3));
        // Large τ: D² → (n − m)²/2 (only counts matter); small τ: D² → (#non-coincident)/2.
        Assert.Equal(Math.Sqrt(0.5), SpikeTrainDistances.VanRossum([1.0, 2.0], [50.0], 1e9), 6);
        Assert.Equal(Math.Sqrt(1.5), SpikeTrainDistances.VanRossum([1.0, 2.0], [50.0], 1e-6), 12);
    }

    [Fact]
    public void VictorPurpuraHandComputedValues()
    {
        Assert.Equal(0.0, SpikeTrainDistances.VictorPurpura([1.0, 5.0], [5.0, 1.0], 1));
        Assert.Equal(0.4, SpikeTrainDistances.VictorPurpura([0.0], [4.0], 0.1), 14);      // shift: q·4
        Assert.Equal(2.0, SpikeTrainDistances.VictorPurpura([0.0], [40.0], 0.1), 14);     // delete + insert
        Assert.Equal(1.0, SpikeTrainDistances.VictorPurpura([0.0, 2.0, 9.0], [10.0, 30.0], 0));   // q = 0: |n − m|
        // {0, 10} vs {1, 20}: shifting both costs q·(1 + 10), shifting 0→1 and deleting/inserting costs q + 2.
        Assert.Equal(1.1, SpikeTrainDistances.VictorPurpura([0.0, 10.0], [1.0, 20.0], 0.1), 14);   // 1.1 < 2.1
        Assert.Equal(2.3, SpikeTrainDistances.VictorPurpura([0.0, 10.0], [1.0, 20.0], 0.3), 14);   // 3.3 > 2.3
    }

    [Property(MaxTest = 200)]
    public Property DistancesAreMetrics(int seed)
    {
        var r = new Random(seed);
        var a = Train(r, 12);
        var b = Train(r, 12);
        var c = Train(r, 12);
        double tau = 0.5 + 20 * r.NextDouble(), q = 2 * r.NextDouble();
        bool ok = true;
        foreach (Func<double[], double[], double> d in new Func<double[], double[], double>[]
                 { (x, y) => SpikeTrainDistances.VanRossum(x, y, tau), (x, y) => SpikeTrainDistances.VictorPurpura(x, y, q) })
        {
            double ab = d(a, b), ba = d(b, a), bc = d(b, c), ac = d(a, c);
            ok &= d(a, a) == 0 && ab >= 0;
            ok &= Math.Abs(ab - ba) <= 1e-12 * (1 + ab);
            ok &= ac <= ab + bc + 1e-12 * (1 + ab + bc);
        }
        return ok.Label($"a=[{string.Join(",", a)}] b=[{string.Join(",", b)}] c=[{string.Join(",", c)}] τ={tau} q={q}");
    }

    [Property(MaxTest = 100)]
    public Property VanRossumEqualsTheDoubleSumFormula(int seed)
    {
        // Independent O(n·m) form: D² = ½[Σ_ij e^{−|a_i−a_j|/τ} + Σ_ij e^{−|b_i−b_j|/τ} − 2Σ_ij e^{−|a_i−b_j|/τ}].
        var r = new Random(seed);
        var a = Train(r, 10);
        var b = Train(r, 10);
        double tau = 0.5 + 20 * r.NextDouble();
        double S(double[] x, double[] y) => x.Sum(xi => y.Sum(yj => Math.Exp(-Math.Abs(xi - yj) / tau)));
        double d2 = 0.5 * (S(a, a) + S(b, b) - 2 * S(a, b));
        double got = SpikeTrainDistances.VanRossum(a, b, tau);
        return (Math.Abs(got * got - d2) <= 1e-9 * (1 + d2)).Label($"{got * got} vs {d2}");
    }

    [Fact]
    public void JitterOfShiftedCopies()
    {
        // Trial 1 = trial 0 shifted by +0.5 ms, trial 2 by −0.5 ms; spikes 20 ms apart so matches are unambiguous.
        double[] baseTrain = [.. Enumerable.Range(0, 10).Select(k => 10.0 + 20 * k)];
        var trials = new[] { baseTrain, baseTrain.Select(t => t + 0.5).ToArray(), baseTrain.Select(t => t - 0.5).ToArray() };
        var j = SpikeTrainDistances.Jitter(trials, 2.0);
        // Pairs (0,1):+0.5 (1,0):−0.5 (0,2):−0.5 (2,0):+0.5 (1,2):−1 (2,1):+1, 10 spikes each.
        Assert.Equal(60, j.Matched);
        Assert.Equal(0, j.Unmatched);
        Assert.Equal(0.0, j.MeanMs, 12);
        Assert.Equal((4 * 0.5 + 2 * 1.0) / 6, j.MeanAbsMs, 12);
        Assert.Equal(Math.Sqrt((4 * 0.25 + 2 * 1.0) / 6), j.StdMs, 12);
        // A window below the shifts matches nothing.
        Assert.Equal(60, SpikeTrainDistances.Jitter(trials, 0.25).Unmatched);
    }

    [Fact]
    public void IsiCvFanoAndCorrelograms()
    {
        double[] regular = [.. Enumerable.Range(0, 50).Select(k => 5.0 + 10 * k)];
        Assert.Equal(0.0, SpikeTrainDistances.IsiCv(regular, 1000), 12);
        Assert.Equal(0.0, SpikeTrainDistances.FanoFactor(regular, 500, 100), 12);   // 10 spikes in every 100 ms window
        // Counts {2, 4} across two trials: mean 3, var 1 → 1/3.
        Assert.Equal(1.0 / 3, SpikeTrainDistances.FanoAcrossTrials([[1.0, 2.0], [1.0, 2.0, 3.0, 4.0]], 0, 10), 12);

        // a = {0, 10}, b = {1, 12}: lags 1, 12, −9, 2. Bins of 1 ms up to ±10: lag 12 is out of range.
        var ccg = SpikeTrainDistances.CrossCorrelogram([0.0, 10.0], [1.0, 12.0], 1.0, 10.0);
        Assert.Equal(21, ccg.Counts.Length);
        Assert.Equal(-10.0, ccg.LagsMs[0]);
        Assert.Equal(3, ccg.Counts.Sum());
        Assert.Equal(1, ccg.Counts[10 + 1]);
        Assert.Equal(1, ccg.Counts[10 + 2]);
        Assert.Equal(1, ccg.Counts[10 - 9]);
        // Auto-correlogram of a regular train: peaks at multiples of the period, zero-lag self pairs included.
        var acg = SpikeTrainDistances.CrossCorrelogram(regular, regular, 1.0, 25.0);
        Assert.Equal(50, acg.Counts[25]);
        Assert.Equal(49, acg.Counts[25 + 10]);
        Assert.Equal(48, acg.Counts[25 - 20]);
        Assert.Equal(50 + 2 * 49 + 2 * 48, acg.Counts.Sum());
    }
}
