using Sim.EventCore.Precise;
using Xunit;

namespace Sim.Specs.Precise;

/// <summary>The public entry points of <see cref="ExponentialSum"/> on functions with closed-form roots.</summary>
public class ExponentialSumTests
{
    [Fact]
    public void ZerosAndFirstUpCrossingMatchClosedForms()
    {
        // e^{-h} − 0.5: one zero at ln 2 (a downward crossing).
        var down = new[] { new ExpTerm(1, 1, 0), new ExpTerm(0, -0.5, 0) };
        var zeros = ExponentialSum.Zeros(down, 0, double.PositiveInfinity);
        Assert.Single(zeros);
        Assert.Equal(Math.Log(2), zeros[0], 1e-15);
        Assert.Equal(0, ExponentialSum.FirstUpCrossing(down));   // already above 0 at h = 0
        Assert.Equal(double.PositiveInfinity, ExponentialSum.FirstUpCrossing([new ExpTerm(1, 0.5, 0), new ExpTerm(0, -0.7, 0)]));   // never above 0

        // 0.2 − e^{-h}: first upward crossing at ln 5, by the terms and by an equivalent evaluation.
        var up = new[] { new ExpTerm(0, 0.2, 0), new ExpTerm(1, -1, 0) };
        double byTerms = ExponentialSum.FirstUpCrossing(up);
        double byFunction = ExponentialSum.FirstUpCrossing(up, h => 0.2 - Math.Exp(-h));
        Assert.Equal(Math.Log(5), byTerms, 1e-14);
        Assert.Equal(Math.Log(5), byFunction, 1e-14);
        Assert.True(0.2 - Math.Exp(-byTerms) > 0);

        // h·e^{-h} − 0.3 (a repeated rate): zeros where h e^{-h} = 0.3, i.e. two of them, the first an upward crossing.
        var bump = new[] { new ExpTerm(1, 0, 1), new ExpTerm(0, -0.3, 0) };
        var both = ExponentialSum.Zeros(bump, 0, double.PositiveInfinity);
        Assert.Equal(2, both.Count);
        foreach (double z in both) Assert.Equal(0.3, z * Math.Exp(-z), 1e-14);
        Assert.Equal(both[0], ExponentialSum.FirstUpCrossing(bump), 1e-13);

        // Merging and dropping: equal rates merge, zero terms vanish.
        Assert.Equal([new ExpTerm(0, 1, 0), new ExpTerm(2, 3, 0)],
            ExponentialSum.Normalize([new ExpTerm(2, 1, 0), new ExpTerm(0, 1, 0), new ExpTerm(2, 2, 0), new ExpTerm(5, 0, 0)]));
    }

    [Fact]
    public void TooManyTermsAreRefused()
    {
        var many = Enumerable.Range(0, ExponentialSum.MaxTerms + 1).Select(k => new ExpTerm(k, 1, 0)).ToArray();
        Assert.Throws<ArgumentException>(() => ExponentialSum.Normalize(many));
        Assert.Throws<ArgumentException>(() => ExponentialSum.FirstUpCrossing(many));
        Assert.Throws<ArgumentOutOfRangeException>(() => ExponentialSum.Normalize([new ExpTerm(-1, 1, 0)]));
    }
}
