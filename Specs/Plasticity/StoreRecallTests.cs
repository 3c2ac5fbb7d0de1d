using Sim.Experiments;
using Xunit;

namespace Sim.Specs.Plasticity;

/// <summary>Store and recall (MODELS.md §4.1) on a small cell: readout limit, learning, determinism.</summary>
public class StoreRecallTests
{
    private static readonly StoreRecallOptions Small = new() { Neurons = 50, Steps = 60, Rank = 50, Epochs = 30, Seed = 1 };

    [Fact]
    public void TargetFollowsTheRecipe()
    {
        var y = StoreRecall.MakeTarget(Small);
        Assert.Equal(60, y.Length);
        Assert.All(y.Take(8), row => Assert.All(row, v => Assert.Equal(0.0, v)));
        Assert.Equal(1.0, y.Max(r => r.Max()));
        Assert.Equal(3, y[0].Length);
    }

    [Fact]
    public void ReadoutLimitIsSmallAndLearningLowersTheError()
    {
        var result = new StoreRecall(Small).Run();
        Assert.InRange(result.ReadoutLimit, 0, 0.05);
        Assert.Equal(30, result.Mse.Length);
        Assert.True(result.TargetSpikes > 0);
        double first = result.Mse.Take(5).Average(), last = result.Mse.TakeLast(5).Average();
        Assert.True(last < 0.8 * first, $"MSE first 5 epochs {first:G4}, last 5 {last:G4}");
        double dsFirst = result.SpikeError.Take(5).Average(), dsLast = result.SpikeError.TakeLast(5).Average();
        Assert.True(dsLast < 0.8 * dsFirst, $"ΔS first 5 epochs {dsFirst:G4}, last 5 {dsLast:G4}");
        Assert.StartsWith("sgd, 5/sqrt(N)", result.Optimizer);
    }

    [Fact]
    public void SameSeedGivesIdenticalCurves()
    {
        var options = Small with { Epochs = 8 };
        var a = new StoreRecall(options).Run();
        var b = new StoreRecall(options).Run();
        Assert.Equal(a.ReadoutLimit, b.ReadoutLimit);
        Assert.Equal(a.Mse, b.Mse);
        Assert.Equal(a.SpikeError, b.SpikeError);
        var c = new StoreRecall(options with { Seed = 2 }).Run();
        Assert.NotEqual(a.Mse, c.Mse);
    }

    [Fact]
    public void OptionsAreValidated()
    {
        Assert.Throws<ArgumentException>(() => new StoreRecall(Small with { Rank = 2 }));
        Assert.Throws<ArgumentException>(() => new StoreRecall(Small with { Rank = 51 }));
        _ = new StoreRecall(Small with { Rank = 2, Ltts = true });
    }
}

/// <summary>The output-space form (Eq. 8) on the same small cell.</summary>
public class StoreRecallOutputSpaceTests
{
    [Fact]
    public void OutputSpaceFormLearnsToo()
    {
        var result = new StoreRecall(new StoreRecallOptions { Neurons = 50, Steps = 60, Rank = 50, Epochs = 30, OutputSpace = true }).Run();
        Assert.StartsWith("output space", result.Feedback);
        double first = result.Mse.Take(5).Average(), last = result.Mse.TakeLast(5).Average();
        Assert.True(last < 0.8 * first, $"MSE first 5 epochs {first:G4}, last 5 {last:G4}");
        Assert.Throws<ArgumentException>(() => new StoreRecall(new StoreRecallOptions { OutputSpace = true, Ltts = true }));
    }
}
