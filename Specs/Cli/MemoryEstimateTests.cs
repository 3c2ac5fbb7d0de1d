using System.Globalization;
using System.Text.RegularExpressions;
using Sim.Cli;
using Xunit;

namespace Sim.Specs.Cli;

/// <summary>
/// The memory a run is admitted with is the memory it takes (docs/reliability.md, "Memory"): for networks dominated by
/// synapses, by many small instances, by few large ones and by the runtime itself, the peak resident size of a
/// <c>sim run</c> child process lies within 20 % of the estimate it prints (the estimate the checks use); and a limit
/// below the estimate is refused before anything is allocated.
/// </summary>
public partial class MemoryEstimateTests
{
    private static string Network(int size, double p, int batch, bool spikes) => string.Join("\n",
        "name: mem",
        $"run: {{dt_ms: 0.1, duration_ms: 20, seed: 2, batch: {batch}}}",
        "populations:",
        "  - name: exc",
        $"    size: {size}",
        "    model: lif_exp",
        "    params: {tau_mem_ms: 20, tau_exc_ms: 5, tau_inh_ms: 10, e_leak_mv: -45, v_threshold_mv: -50, v_reset_mv: -60,",
        "             refractory_ms: 5, v_init_mv: {uniform: [-60, -50]}}",
        "projections:",
        $"  - {{source: exc, target: exc, connectivity: {{rule: fixed_probability, p: {p.ToString(CultureInfo.InvariantCulture)}}}, weight: 0.05, delay_ms: {{uniform: [0.1, 1.5]}}}}",
        "monitors: " + (spikes ? "[{kind: spikes, populations: [exc]}]" : "[]"),
        "");

    [GeneratedRegex(@"memory\s+peak (\d+) MiB, estimated (\d+) MiB")]
    private static partial Regex MemoryLine();

    [Theory]
    [InlineData(5000, 0.4, 1, true)]     // 10^7 synapses: the compiler's buffers and tables
    [InlineData(100, 0.1, 3000, true)]   // many small instances and their spike chunks
    [InlineData(4000, 0.02, 60, false)]  // CUBA-sized instances
    [InlineData(10, 0.1, 1, false)]      // the runtime alone
    public void PeakMemoryIsWithin20PercentOfTheEstimate(int size, double p, int batch, bool spikes)
    {
        string dir = CliHarness.TempDir();
        string file = Path.Combine(dir, "mem.yaml");
        File.WriteAllText(file, Network(size, p, batch, spikes));
        var (code, output, err) = ChildProcess.Run("sim.dll", ["run", file, "--no-progress", "--no-plot", "--out", dir]);
        Assert.True(code == ExitCodes.Ok, err);
        var m = MemoryLine().Match(output);
        Assert.True(m.Success, output);
        double peak = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), estimate = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.InRange(peak / estimate, 0.8, 1.2);
    }

    [Fact]
    public void ALimitBelowTheEstimateIsRefusedBeforeAllocating()
    {
        string dir = CliHarness.TempDir();
        string file = Path.Combine(dir, "mem.yaml");
        File.WriteAllText(file, Network(100, 0.1, 3000, false));
        var batch = CliHarness.Sim("run", file, "--no-progress", "--out", dir, "--max-memory-gb", "0.1");
        Assert.Equal(ExitCodes.Usage, batch.Code);
        Assert.Contains("run.batch", batch.Err);
        Assert.Contains("--max-memory-gb", batch.Err);
        File.WriteAllText(file, Network(5000, 0.4, 1, false));
        var synapses = CliHarness.Sim("run", file, "--no-progress", "--out", dir, "--max-memory-gb", "0.1");
        Assert.Equal(ExitCodes.Usage, synapses.Code);
        Assert.Contains("to compile", synapses.Err);
        Assert.Empty(Directory.GetDirectories(dir));   // nothing was run or written
        Assert.Equal(ExitCodes.Usage, CliHarness.Sim("run", "--max-memory-gb", "0").Code);
    }

    [Fact]
    public void ARecordingThatWouldNotFitIsRefusedBeforeRunning()
    {
        // CUBA's state monitor (3 neurons every 0.1 ms) over 10 h: 3.6e8 samples, ≈ 30 GiB; its estimate grows linearly.
        var cuba = global::Sim.EventCore.Description.BenchmarkNetworks.Cuba();
        var net = global::Sim.EventCore.Compilation.NetworkCompiler.Compile(cuba with { Run = cuba.Run with { DurationMs = 1000 } });
        double second = global::Sim.Probes.MonitorSet.EstimateBytes(net, 1);
        var longer = global::Sim.EventCore.Compilation.NetworkCompiler.Compile(cuba with { Run = cuba.Run with { DurationMs = 10000 } });
        Assert.InRange(global::Sim.Probes.MonitorSet.EstimateBytes(longer, 1) / second, 9.9, 10.1);
        string dir = CliHarness.TempDir();
        var r = CliHarness.Sim("run", "--duration-ms", "36000000", "--no-progress", "--out", dir, "--max-memory-gb", "8");
        Assert.Equal(ExitCodes.Usage, r.Code);
        Assert.Contains("state and rate monitors", r.Err);
        Assert.Empty(Directory.GetDirectories(dir));
    }
}
