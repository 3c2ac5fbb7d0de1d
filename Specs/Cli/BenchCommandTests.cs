using Sim.Cli;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Xunit;

namespace Sim.Specs.Cli;

/// <summary><c>sim bench</c> and the benchmark networks it runs (Brunel 2000, the low-rate family).</summary>
public class BenchCommandTests
{
    /// <summary>The quick CUBA bench exits 0 and prints the table with every column and a CUBA row.</summary>
    [Fact]
    public void QuickCubaPrintsTable()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CommandLine.Run(["bench", "--quick", "--filter", "cuba"], stdout, stderr);
        Assert.True(code == ExitCodes.Ok, stderr.ToString());
        string text = stdout.ToString();
        foreach (var column in new[] { "network", "neurons", "synapses", "sim s", "rate Hz", "wall s/sim s", "syn events/s", "peak WS MiB", "heap MiB", "B/syn" })
            Assert.Contains(column, text);
        var row = text.Split('\n').Single(l => l.StartsWith("cuba ", StringComparison.Ordinal));
        var cells = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, cells.Length);
        Assert.Equal("4,000", cells[1]);
        Assert.True(double.Parse(cells[5], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.DoesNotContain("brunel", text);
    }

    /// <summary>
    /// The precise engine's bench counts the same kind of events as the grid engine's: on the 1 Hz low-rate network the
    /// two agree on the synaptic events within the difference of their spike counts (same Poisson drive, exact vs
    /// grid delays), and both report rates near 1 Hz.
    /// </summary>
    [Fact]
    public void PreciseEngineBenchCountsEventsLikeTheGridEngine()
    {
        var spec = BenchmarkNetworks.LowRate(1, 4000, 200, 1);
        var grid = BenchCommand.Measure(spec, 1);
        var precise = BenchCommand.MeasurePrecise(spec, 1);
        Assert.InRange(precise.RateHz, 0.5, 1.5);
        Assert.InRange(grid.RateHz, 0.5, 1.5);
        Assert.InRange(precise.Events, grid.Events * 0.8, grid.Events * 1.2);
        Assert.True(precise.WallPerSimSecond > 0);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(ExitCodes.Ok, CommandLine.Run(["bench", "--quick", "--engine", "precise", "--filter", "lowrate-1Hz"], stdout, stderr));
        Assert.Contains("PreciseEngine", stdout.ToString());
        Assert.Contains("lowrate-1Hz", stdout.ToString());
    }

    /// <summary>
    /// The dense engine's bench runs the same network and counts the same spikes as the event engine's (bit-identical
    /// engines); the store-and-recall row reports an epoch time and both kinds of synapses.
    /// </summary>
    [Fact]
    public void DenseEngineAndStoreRecallRowsAreMeasured()
    {
        var spec = BenchmarkNetworks.Cuba(50, 1, 0.25);
        var ev = BenchCommand.Measure(spec, 1);
        var dense = BenchCommand.Measure(spec, 1, net => new Sim.GpuBridge.DenseEngine(net));
        Assert.Equal(ev.RateHz, dense.RateHz);
        Assert.Equal(ev.Events, dense.Events);
        var sr = BenchCommand.MeasureStoreRecall(2, 1);
        Assert.Equal(150 * 149 + 5 * 150, sr.Synapses);
        Assert.True(sr.WallPerSimSecond > 0);
        var srDense = BenchCommand.MeasureStoreRecall(2, 1, net => new Sim.GpuBridge.DenseEngine(net));
        Assert.Equal(sr.Synapses, srDense.Synapses);
        Assert.True(srDense.WallPerSimSecond > 0);
        var stdout = new StringWriter();
        Assert.Equal(ExitCodes.Ok, CommandLine.Run(["bench", "--quick", "--filter", "store-recall"], stdout, new StringWriter()));
        Assert.Contains("store-recall", stdout.ToString());
        // The precise engine has no GoalLif neurons: the row runs on the event engine and says so.
        var precise = new StringWriter();
        Assert.Equal(ExitCodes.Ok, CommandLine.Run(["bench", "--quick", "--engine", "precise", "--filter", "store-recall"], precise, new StringWriter()));
        Assert.Contains("store-recall (event)", precise.ToString());
    }

    /// <summary>Bad options and a filter that matches nothing are usage errors (exit 2).</summary>
    [Theory]
    [InlineData("--filter no-such-network")]
    [InlineData("--frobnicate")]
    [InlineData("--repeats 0")]
    [InlineData("--filter")]
    [InlineData("--engine gpu")]
    public void BadArgumentsExit2(string commandLine)
    {
        string[] args = commandLine.Split(' ');
        var stderr = new StringWriter();
        Assert.Equal(ExitCodes.Usage, CommandLine.Run(["bench", .. args], new StringWriter(), stderr));
        Assert.Contains("sim bench:", stderr.ToString());
    }

    /// <summary>Every Brunel regime builds, validates and compiles with the documented scaled sizes and in-degrees.</summary>
    [Theory]
    [InlineData(BrunelRegime.A)]
    [InlineData(BrunelRegime.B)]
    [InlineData(BrunelRegime.C)]
    [InlineData(BrunelRegime.D)]
    public void BrunelBuildsAndCompiles(BrunelRegime regime)
    {
        var spec = BenchmarkNetworks.Brunel(regime, 0.2, 50, 3);
        Assert.Empty(spec.Validate());
        var net = NetworkCompiler.Compile(spec);
        Assert.Equal(2500, net.NeuronCount);
        Assert.Equal(2000, net.Population("exc").Size);
        // recurrent: every neuron gets C_E = 200 + C_I = 50; input: one Poisson source per neuron
        Assert.Equal(2500L * 250 + 2500, net.Synapses.Count);
    }

    /// <summary>The low-rate network builds and fires within a factor 2 of the requested rate (10 and 1 Hz, short runs).</summary>
    [Theory]
    [InlineData(10.0)]
    [InlineData(1.0)]
    public void LowRateHitsRequestedRate(double rateHz)
    {
        var spec = BenchmarkNetworks.LowRate(rateHz, 4000, 300, 2);
        Assert.Empty(spec.Validate());
        var net = NetworkCompiler.Compile(spec);
        using var engine = new EventEngine(net, new EngineOptions { Threads = 1 });
        var counter = new Counter();
        engine.AddSpikeSink(counter);
        engine.Run(net.DurationTicks);
        double measured = counter.Spikes / (net.NeuronCount * 0.3);
        Assert.InRange(measured, rateHz / 2, rateHz * 2);
    }

    /// <summary>
    /// The event count covers recurrent and input spikes: in the low-rate network every spike reaches ≈ 80 recurrent
    /// targets and every input spike one, so events ≈ N·r·T·81 with r the measured rate (inputs ≈ outputs).
    /// </summary>
    [Fact]
    public void MeasureCountsRecurrentAndInputEvents()
    {
        var m = BenchCommand.Measure(BenchmarkNetworks.LowRate(10, 1000, 200, 4), repeats: 1);
        Assert.Equal(1000, m.Neurons);
        double expected = m.Neurons * m.RateHz * m.SimulatedSeconds * 81;
        Assert.InRange(m.Events, 0.8 * expected, 1.2 * expected);
        Assert.InRange(m.BytesPerSynapse, 8.0, 12.0);
        Assert.True(m.WallPerSimSecond > 0 && m.EventsPerWallSecond > 0);
    }

    private sealed class Counter : ISpikeSink
    {
        public long Spikes;
        public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons) => Spikes += neurons.Length;
    }
}
