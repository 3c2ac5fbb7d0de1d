using Xunit;


namespace Sim.Specs.Cli;

/// <summary><c>sim task button-food</c> and <c>sim sweep button-food</c>: outputs, resume, shards, merge, refusals.</summary>
public class ButtonFoodCliTests
{
    private static readonly string[] Small = ["--neurons", "24", "--ranks", "1,24", "--epochs", "2", "--readout-epochs", "5", "--test-angles", "4"];

    [Fact]
    public void TheTaskWritesItsTablesAndFigures()
    {
        string dir = CliHarness.TempDir();
        var (code, stdout, err) = CliHarness.Sim(["task", "button-food", .. Small, "-o", dir]);
        Assert.True(code == 0, err);
        Assert.Contains("expert: mean score", stdout);
        foreach (var f in new[] { "scores.csv", "curves.csv", "summary.txt", "reward-per-angle.png", "trajectories.png", "reward-vs-rank.png" })
            Assert.True(new FileInfo(Path.Combine(dir, f)).Length > 40, f);
        var rows = File.ReadAllLines(Path.Combine(dir, "scores.csv"));
        Assert.Equal(1 + 3 * 4, rows.Length);   // header, expert and two ranks at 4 angles
    }

    [Theory]
    [InlineData("--ranks", "0", "--ranks")]
    [InlineData("--ranks", "1,1", "repeats a value")]
    [InlineData("--neurons", "10", "option --ranks: must lie in [1, 10]")]   // with --ranks 20
    [InlineData("--feedback", "chaos", "--feedback")]
    [InlineData("--engine", "gpu", "--engine")]
    public void BadOptionsAreNamed(string option, string value, string message)
    {
        string[] args = option == "--neurons" ? ["task", "button-food", "--ranks", "20", option, value] : ["task", "button-food", option, value];
        var (code, _, err) = CliHarness.Sim(args);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
    }

    [Fact]
    public void TheSweepResumesShardsMergesAndRefusesAnotherConfiguration()
    {
        string a = CliHarness.TempDir(), b = CliHarness.TempDir(), m = CliHarness.TempDir();
        Assert.Equal(0, CliHarness.Sim(["sweep", "button-food", .. Small, "--seeds", "3", "--shard", "0/2", "--out", a]).Code);
        Assert.Equal(0, CliHarness.Sim(["sweep", "button-food", .. Small, "--seeds", "3", "--shard", "1/2", "--out", b]).Code);
        Assert.True(File.Exists(Path.Combine(a, "cells", "seed-1.csv")) && File.Exists(Path.Combine(a, "cells", "seed-3.csv")));
        Assert.True(File.Exists(Path.Combine(b, "cells", "seed-2.csv")));
        // A second run of a finished shard computes nothing (the cells are on disk).
        var again = CliHarness.Sim(["sweep", "button-food", .. Small, "--seeds", "3", "--shard", "0/2", "--out", a]);
        Assert.DoesNotContain("seed 1:", again.Out);
        var merged = CliHarness.Sim(["sweep", "button-food", "--merge", a, b, "--out", m]);
        Assert.True(merged.Code == 0, merged.Err);
        Assert.Contains("seeds: 1,2,3", File.ReadAllText(Path.Combine(m, "summary.txt")));
        Assert.True(File.Exists(Path.Combine(m, "reward-vs-rank.png")));
        // Another configuration in the same folder: refused with the file named, exit 2.
        var other = CliHarness.Sim(["sweep", "button-food", .. Small.Select(x => x == "2" ? "3" : x), "--seeds", "3", "--out", a]);   // --epochs 3
        Assert.Equal(2, other.Code);
        Assert.Contains("seed-1.csv", other.Err);
        Assert.Equal(2, CliHarness.Sim(["sweep", "button-food", "--merge", Path.Combine(m, "missing")]).Code);
        Assert.Equal(2, CliHarness.Sim(["sweep", "button-food", "--seed", "4"]).Code);
    }
}
