using System.Diagnostics;
using Sim.Cli;
using Xunit;

namespace Sim.Specs.Cli;

/// <summary><c>sim task perturbation</c> on a small analytic task: its table, files and figures, quickly, and the same table again.</summary>
public class PerturbationCliTests
{
    [Fact]
    public void ASmallStudyRunsQuicklyAndWritesItsOutputs()
    {
        string dir = Path.Combine(CliHarness.TempDir(), "perturbation");
        string[] args = ["task", "perturbation", "--rule", "wp,np,wp0", "--inputs", "20", "--outputs", "2", "--task-dim", "10", "--trial-dim", "4",
            "--durations", "12,24", "--trials", "300", "--seeds", "5", "--sigma", "0.05", "--irreducible-error", "1"];
        var clock = Stopwatch.StartNew();
        var (code, output, err) = CliHarness.Sim([.. args, "--threads", "2", "-o", dir]);
        clock.Stop();
        Assert.True(code == ExitCodes.Ok, output + err);
        Assert.True(clock.Elapsed.TotalSeconds < 10, $"took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Contains("analytic task: N = 20, M = 2, T = 12, N_task = 10, N_trial = 4, alpha^2 = 5, E_opt = 1", output);
        Assert.Contains("analytic task: N = 20, M = 2, T = 24, N_task = 10", output);
        Assert.Contains("final error: mean of the last 30 of 300 trials, mean +- s.d. over 5 seeds", output);
        Assert.Contains("wp0       24", output);
        foreach (string f in new[] { "perturbation.csv", "summary.csv", "summary.txt", "curves.png", "final-vs-duration.png" })
            Assert.True(new FileInfo(Path.Combine(dir, f)).Length > 100, f);
        var curves = File.ReadAllLines(Path.Combine(dir, "perturbation.csv"));
        Assert.Equal(1 + 3 * 2 * 300, curves.Length);   // rules × durations × trials
        Assert.Equal("rule,duration,trial,error_mean,error_sd,predicted", curves[0]);
        Assert.Equal(1 + 3 * 2, File.ReadAllLines(Path.Combine(dir, "summary.csv")).Length);
        // Again on one thread: the same table (the time and header lines aside).
        var again = CliHarness.Sim(args);
        static string Table(string s) => string.Join('\n', s.Split('\n').Where(l => !l.StartsWith("time:") && !l.StartsWith("wrote") && !l.StartsWith("perturbation:")));
        Assert.Equal(Table(output), Table(again.Out));
    }
}
