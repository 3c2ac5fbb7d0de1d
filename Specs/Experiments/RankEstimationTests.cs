using Sim.Experiments;
using Xunit;

namespace Sim.Specs.Experiments;

/// <summary>The feedback-rank estimation (docs/tasks/rank_estimation.md) on small store-and-recall learners of known R.</summary>
public class RankEstimationTests
{
    private static RankEstimate Estimate(int rank, ulong seed, double noise = 0, int? probes = null, bool ltts = false) => new RankEstimation(new RankEstimationOptions
    {
        Cell = new StoreRecallOptions { Neurons = 30, Steps = 40, Epochs = 5, Rank = rank, Ltts = ltts, Seed = seed, ReadoutIterations = 200 },
        Probes = probes ?? 30, RelativeNoise = noise,
    }).Run();

    /// <summary>Exact recordings: the probe estimator finds R for low and middle ranks; the passive one does not.</summary>
    [Theory]
    [InlineData(3, 1UL)]
    [InlineData(8, 2UL)]
    [InlineData(15, 3UL)]
    public void ExactRecordingsGiveTheTrueRank(int rank, ulong seed)
    {
        var e = Estimate(rank, seed);
        Assert.Equal(rank, e.Estimated);
        Assert.NotEqual(rank, e.PassiveEstimate);
        Assert.Equal(1.0, e.SingularValues[0]);
        Assert.True(e.SingularValues[rank] < 1e-8, $"s[R] = {e.SingularValues[rank]:G3}");   // the spectrum drops after R
    }

    /// <summary>Fewer probes than R cap the estimate at P; noise can only hide dimensions (an estimate is never above R).</summary>
    [Fact]
    public void FewProbesCapTheEstimateAndNoiseHidesDimensions()
    {
        Assert.Equal(6, Estimate(15, 3, probes: 6).Estimated);
        var noisy = Estimate(15, 3, noise: 1);
        Assert.InRange(noisy.Estimated, 1, 15);
        Assert.Equal(3, Estimate(3, 1, noise: 0.1).Estimated);
        // The same seed gives the same estimate (noise from the counter stream).
        Assert.Equal(noisy, Estimate(15, 3, noise: 1), new SameEstimate());
    }

    private sealed class SameEstimate : IEqualityComparer<RankEstimate>
    {
        public bool Equals(RankEstimate? a, RankEstimate? b) => a!.Estimated == b!.Estimated && a.SingularValues.SequenceEqual(b.SingularValues);
        public int GetHashCode(RankEstimate e) => e.Estimated;
    }

    [Fact]
    public void BadOptionsAreRefused()
    {
        Assert.Throws<ArgumentException>(() => new RankEstimation(new RankEstimationOptions { Probes = 0 }).Run());
        Assert.Throws<ArgumentException>(() => new RankEstimation(new RankEstimationOptions { ProbeTicks = [30, 10] }).Run());
        Assert.Throws<ArgumentException>(() => new RankEstimation(new RankEstimationOptions { RelativeNoise = double.NaN }).Run());
    }
}
