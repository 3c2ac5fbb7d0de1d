using System.Diagnostics;
using Sim.Cli;
using Xunit;

namespace Sim.Specs.Cli;

/// <summary><c>sim task volatility</c> on a small design: its table, files and figures, quickly.</summary>
public class VolatilityCliTests
{
    [Fact]
    public void ASmallDesignRunsQuicklyAndWritesItsOutputs()
    {
        string dir = Path.Combine(CliHarness.TempDir(), "vol");
        var clock = Stopwatch.StartNew();
        var (code, output, err) = CliHarness.Sim("task", "volatility", "--simulations", "40", "--trials", "60", "--threads", "2", "--models", "healthy,volatility-lesion,vkf", "-o", dir);
        clock.Stop();
        Assert.True(code == ExitCodes.Ok, output + err);
        Assert.True(clock.Elapsed.TotalSeconds < 10, $"took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Contains("means over the last 6 of 60 trials", output);
        Assert.Contains("controller: pf(healthy, particles=100", output);
        Assert.Contains("controller: vkf(lambda=0.1", output);
        Assert.Contains("volatility-lesion     volatility", output);
        foreach (string f in new[] { "volatility.csv", "summary.csv", "summary.txt", "learning-rate.png", "estimates-volatility.png", "estimates-stochasticity.png", "curves.png" })
            Assert.True(new FileInfo(Path.Combine(dir, f)).Length > 100, f);
        var curves = File.ReadAllLines(Path.Combine(dir, "volatility.csv"));
        Assert.Equal(1 + 3 * 4 * 60, curves.Length);   // models × conditions × trials
        Assert.StartsWith("model,true_volatility,true_stochasticity,trial,learning_rate,learning_rate_se", curves[0]);
        Assert.Equal(1 + 3 * 4, File.ReadAllLines(Path.Combine(dir, "summary.csv")).Length);
        // The same command again: the same table (the time line aside).
        var again = CliHarness.Sim("task", "volatility", "--simulations", "40", "--trials", "60", "--models", "healthy,volatility-lesion,vkf");
        static string Table(string s) => string.Join('\n', s.Split('\n').Where(l => !l.StartsWith("time:") && !l.StartsWith("wrote") && !l.StartsWith("volatility:")));
        Assert.Equal(Table(output), Table(again.Out));
    }
}
