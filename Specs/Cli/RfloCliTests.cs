using Xunit;

namespace Sim.Specs.Cli;

/// <summary><c>sim task rflo</c>: outputs and refusals.</summary>
public class RfloCliTests
{
    [Fact]
    public void TheTaskWritesItsTableAndFigures()
    {
        string dir = CliHarness.TempDir();
        var (code, stdout, err) = CliHarness.Sim(["task", "rflo", "--iterations", "5", "--seeds", "2", "--period", "2", "--no-progress", "-o", dir]);
        Assert.True(code == 0, err);
        Assert.Contains("loss at the last iteration", stdout);
        Assert.Contains("alignment", stdout);
        Assert.Equal(1 + 2 * 5, File.ReadAllLines(Path.Combine(dir, "rflo.csv")).Length);
        foreach (var f in new[] { "summary.txt", "loss.png", "alignment.png" })
            Assert.True(new FileInfo(Path.Combine(dir, f)).Length > 40, f);
    }

    [Theory]
    [InlineData("--iterations", "-1", "--iterations")]
    [InlineData("--period", "0", "--period")]
    [InlineData("--eta-rec", "-0.1", "--eta-rec")]
    [InlineData("--seeds", "0", "--seeds")]
    [InlineData("--engine", "gpu", "--engine")]
    public void BadOptionsAreNamed(string option, string value, string message)
    {
        var (code, _, err) = CliHarness.Sim(["task", "rflo", option, value]);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
    }
}
