using Sim.Experiments;
using Xunit;

namespace Sim.Specs.Experiments;

/// <summary>The volatility task (docs/tasks/volatility.md): the generative process, the paper's qualitative pattern with and without lesions, thread independence.</summary>
public class VolatilityTaskTests
{
    /// <summary>The outcomes: o_1 has variance s; successive differences have variance v + 2s.</summary>
    [Fact]
    public void OutcomesAreARandomWalkObservedInNoise()
    {
        var c = new VolatilityCondition(1.5, 3);
        const int n = 20000;
        double s1 = 0, s2 = 0, d1 = 0, d2 = 0;
        for (int i = 0; i < n; i++)
        {
            var o = VolatilityTask.Outcomes(1, 0, i, c, 3);
            s1 += o[0]; s2 += o[0] * o[0];
            double d = o[2] - o[1];
            d1 += d; d2 += d * d;
        }
        Assert.InRange(s2 / n - (s1 / n) * (s1 / n), 3 * 0.95, 3 * 1.05);
        Assert.InRange(d2 / n - (d1 / n) * (d1 / n), 7.5 * 0.95, 7.5 * 1.05);
        Assert.Equal(VolatilityTask.Outcomes(1, 0, 5, c, 10), VolatilityTask.Outcomes(1, 0, 5, c, 10));
        Assert.NotEqual(VolatilityTask.Outcomes(1, 0, 5, c, 10), VolatilityTask.Outcomes(1, 1, 5, c, 10));
    }

    /// <summary>
    /// Piray &amp; Daw (2021): the healthy model's learning rate rises with volatility and falls with stochasticity; the
    /// stochasticity lesion makes it rise with stochasticity; the volatility lesion makes it fall with volatility. The
    /// healthy estimates order the conditions as the true variances do.
    /// </summary>
    [Fact]
    public void TheTwoByTwoDesignShowsThePapersPatternAndTheLesionsReverseIt()
    {
        var r = VolatilityTask.Run(new VolatilityTaskOptions { Simulations = 80, Threads = 2 });
        var (hv, hs) = r.Effects(VolatilityModel.Healthy);
        var (sv, ss) = r.Effects(VolatilityModel.StochasticityLesion);
        var (vv, vs) = r.Effects(VolatilityModel.VolatilityLesion);
        string table = r.Table();
        Assert.True(hv > 0.05 && hs < -0.05, table);
        Assert.True(sv > 0.05 && ss > 0.05, table);   // stochasticity lesion: rises with both
        Assert.True(vv < -0.02 && vs < -0.05, table);   // volatility lesion: falls with both
        foreach (double s in new[] { 1.0, 3.0 })
            Assert.True(r.Cell(VolatilityModel.Healthy, new(1.5, s)).EndVolatility.Mean > r.Cell(VolatilityModel.Healthy, new(0.5, s)).EndVolatility.Mean, table);
        foreach (double v in new[] { 0.5, 1.5 })
            Assert.True(r.Cell(VolatilityModel.Healthy, new(v, 3)).EndStochasticity.Mean > r.Cell(VolatilityModel.Healthy, new(v, 1)).EndStochasticity.Mean, table);
        Assert.Contains("stochasticity-lesion", table);
    }

    /// <summary>The same bits for one thread and several, and for the same seed twice; another seed differs.</summary>
    [Fact]
    public void TheResultDoesNotDependOnThreads()
    {
        var o = new VolatilityTaskOptions { Simulations = VolatilityTask.Block + 7, Trials = 40, Models = [VolatilityModel.Healthy, VolatilityModel.Vkf] };
        var one = VolatilityTask.Run(o);
        var three = VolatilityTask.Run(o with { Threads = 3 });
        Assert.Equal(one.CurvesCsv(), three.CurvesCsv());
        Assert.Equal(one.SummaryCsv(), three.SummaryCsv());
        Assert.NotEqual(one.SummaryCsv(), VolatilityTask.Run(o with { Seed = 2 }).SummaryCsv());
    }

    /// <summary>Bad options are refused with the option named.</summary>
    [Fact]
    public void BadOptionsNameThemselves()
    {
        Assert.StartsWith("Trials:", Assert.Throws<ArgumentException>(() => new VolatilityTaskOptions { Trials = 1 }.Validate()).Message);
        Assert.StartsWith("Volatilities:", Assert.Throws<ArgumentException>(() => new VolatilityTaskOptions { Volatilities = [0.5, -1] }.Validate()).Message);
        Assert.StartsWith("Models:", Assert.Throws<ArgumentException>(() => new VolatilityTaskOptions { Models = [] }.Validate()).Message);
        Assert.StartsWith("Particles:", Assert.Throws<ArgumentException>(() => new VolatilityTaskOptions { Filter = new() { Particles = 0 } }.Validate()).Message);
    }
}
