using System.Globalization;
using PureHDF;
using Sim.Cli;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Precise;
using Xunit;

namespace Sim.Specs.Cli;

/// <summary><c>sim run --engine precise</c>, <c>sim analyze</c> and <c>sim timing</c>.</summary>
public class PreciseCliTests
{
    /// <summary>LifDelta neurons driven by Poisson sources with continuous delays, plus weak recurrence.</summary>
    internal const string LifDeltaNetwork = """
        name: lifd
        run: {dt_ms: 0.1, duration_ms: 200, seed: 3}
        populations:
          - name: exc
            size: 80
            model: lif_delta
            params: {tau_mem_ms: 20, e_leak_mv: -60, v_threshold_mv: -50, v_reset_mv: -60, refractory_ms: 2, v_init_mv: {uniform: [-60, -50]}}
        inputs:
          - {name: drive, kind: poisson, size: 100, rate_hz: 20}
        projections:
          - {source: drive, target: exc, connectivity: {rule: fixed_in_degree, k: 40}, weight: 1.0, delay_ms: {uniform: [0.5, 1.5]}}
          - {source: exc, target: exc, connectivity: {rule: fixed_probability, p: 0.05}, weight: 0.3, delay_ms: 0.7}
        monitors:
          - {kind: spikes, populations: [exc]}
        """;

    private static string TempDir() => CliHarness.TempDir();

    private static (int Code, string Out, string Err) Sim(params string[] args) => CliHarness.Sim(args);

    private static string NetworkFileIn(string dir)
    {
        string file = Path.Combine(dir, "lifd.yaml");
        File.WriteAllText(file, LifDeltaNetwork);
        return file;
    }

    private static string RunH5(string output) =>
        Path.Combine(output.Split('\n').Single(l => l.StartsWith("outputs", StringComparison.Ordinal))["outputs".Length..].Trim(), "run.h5");

    [Fact]
    public void PreciseRunWritesExactSpikeTimesEqualToADirectRun()
    {
        string dir = TempDir();
        string file = NetworkFileIn(dir);
        var r = Sim("run", file, "--engine", "precise", "--out", dir, "--no-progress");
        Assert.True(r.Code == ExitCodes.Ok, r.Err + r.Out);
        Assert.Contains("engine       precise", r.Out);
        Assert.Contains("events/s", r.Out);
        Assert.Contains("real-time", r.Out);
        string h5 = RunH5(r.Out);
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(h5)!, "raster.png")));
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(h5)!, "config.yaml")));

        double[] times;
        int[] ids;
        using (var f = H5File.OpenRead(h5))
        {
            Assert.Equal("precise", f.Attribute("engine").Read<string>());
            Assert.Equal("complete", f.Attribute("status").Read<string>());
            times = f.Dataset("spikes/exc/times_ms").Read<double[]>();
            ids = f.Dataset("spikes/exc/neuron_ids").Read<int[]>();
        }
        Assert.True(times.Length > 100, $"only {times.Length} spikes");
        // Off the 0.1 ms grid: nearly every time is not a multiple of dt.
        Assert.True(times.Count(t => Math.Abs(t / 0.1 - Math.Round(t / 0.1)) > 1e-6) > times.Length * 9 / 10);

        var engine = new PreciseEngine(NetworkCompiler.Compile(NetworkFile.Load(file), exactDelays: true));
        var recorder = new PreciseSpikeRecorder();
        engine.AddSpikeSink(recorder);
        engine.RunMs(200);
        Assert.Equal(recorder.Spikes.Select(s => s.TimeMs), times);
        Assert.Equal(recorder.Spikes.Select(s => s.Neuron), ids);
    }

    [Fact]
    public void PreciseRunRejectsUnsupportedModelsAndCheckpoints()
    {
        string dir = TempDir();
        string file = Path.Combine(dir, "small.yaml");
        File.WriteAllText(file, CliTests.SmallNetwork);     // goal_lif and a clock input
        var r = Sim("run", file, "--engine", "precise", "--out", Path.Combine(dir, "out"), "--no-progress");
        Assert.Equal(ExitCodes.Usage, r.Code);
        Assert.Contains("precise engine", r.Err);
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
        var ckpt = Sim("run", NetworkFileIn(dir), "--engine", "precise", "--save-checkpoint", "--out", dir, "--no-progress");
        Assert.Equal(ExitCodes.Usage, ckpt.Code);
        Assert.Contains("checkpoint", ckpt.Err);
        var exact = Sim("run", "--engine", "exact");
        Assert.Equal(ExitCodes.Usage, exact.Code);
        Assert.Contains("'exact' is not one of event, dense, dense-cuda, precise", exact.Err);
    }

    [Fact]
    public void PreciseBatchRunsTheInstancesOneAfterAnother()
    {
        string dir = TempDir();
        var r = Sim("run", NetworkFileIn(dir), "--engine", "precise", "--batch", "2", "--out", dir, "--no-progress", "--no-plot");
        Assert.True(r.Code == ExitCodes.Ok, r.Err);
        using var f = H5File.OpenRead(RunH5(r.Out));
        Assert.Equal(2, f.Attribute("batch").Read<int>());
        var inst = f.Dataset("spikes/exc/instance").Read<int[]>();
        Assert.Contains(0, inst);
        Assert.Contains(1, inst);
    }

    [Fact]
    public void AnalyzePrintsStatisticsAndDistances()
    {
        string dir = TempDir();
        string file = NetworkFileIn(dir);
        var precise = Sim("run", file, "--engine", "precise", "--out", Path.Combine(dir, "p"), "--no-progress", "--no-plot");
        var grid = Sim("run", file, "--out", Path.Combine(dir, "g"), "--no-progress", "--no-plot");
        Assert.True(precise.Code == ExitCodes.Ok && grid.Code == ExitCodes.Ok, precise.Err + grid.Err);
        string a = RunH5(precise.Out), b = RunH5(grid.Out);

        var r = Sim("analyze", a, b, "--tau-ms", "1,5");
        Assert.True(r.Code == ExitCodes.Ok, r.Err);
        Assert.Contains("engine precise", r.Out);
        Assert.Contains("engine event", r.Out);
        Assert.Contains("rate (Hz)", r.Out);
        Assert.Contains("ISI CV", r.Out);
        Assert.Contains("Fano", r.Out);
        Assert.Contains("jitter", r.Out);
        var pair = r.Out.Split('\n').Single(l => l.StartsWith("[1]-[2]", StringComparison.Ordinal));
        var distances = pair.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2..].Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(4, distances.Length);                     // vR at 1 and 5 ms, VP at 1/1 and 1/5
        Assert.All(distances, d => Assert.True(d > 0));       // grid vs exact times differ

        var self = Sim("analyze", a, a);
        Assert.True(self.Code == ExitCodes.Ok, self.Err);
        var same = self.Out.Split('\n').Single(l => l.StartsWith("[1]-[2]", StringComparison.Ordinal));
        Assert.All(same.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2..], s => Assert.Equal(0.0, double.Parse(s, CultureInfo.InvariantCulture)));

        Assert.Equal(ExitCodes.Usage, Sim("analyze").Code);
        var missing = Sim("analyze", Path.Combine(dir, "none.h5"));
        Assert.Equal(ExitCodes.Usage, missing.Code);
        Assert.Contains("does not exist", missing.Err);
        var invalid = Sim("analyze", file);
        Assert.Equal(ExitCodes.Usage, invalid.Code);
        Assert.Contains("not a readable sim run file", invalid.Err);
        Assert.Equal(ExitCodes.Ok, Sim("analyze", "--help").Code);
    }

    [Fact]
    public void QuickTimingWritesAPlotAndTheErrorShrinksWithDt()
    {
        string dir = TempDir();
        var r = Sim("timing", "--quick", "--out", dir);
        Assert.True(r.Code == ExitCodes.Ok, r.Err + r.Out);
        Assert.Contains("vR τ=5", r.Out);
        string folder = Directory.GetDirectories(dir).Single();
        Assert.True(new FileInfo(Path.Combine(folder, "timing.png")).Length > 1000);
        var lines = File.ReadAllLines(Path.Combine(folder, "timing.csv"));
        var header = lines[0].Split(',');
        int dtCol = Array.IndexOf(header, "dt_ms"), errCol = Array.IndexOf(header, "mean_abs_error_ms"), medCol = Array.IndexOf(header, "median_abs_error_ms");
        var rows = lines[1..].Select(l => l.Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.Equal(2, rows.Length);
        Assert.True(rows[0][dtCol] > rows[1][dtCol], "coarser dt first");
        Assert.True(rows[1][errCol] < rows[0][errCol], $"mean error {rows[1][errCol]} at dt {rows[1][dtCol]} is not below {rows[0][errCol]} at dt {rows[0][dtCol]}");
        Assert.True(rows[1][medCol] < rows[0][medCol]);
        Assert.Equal(ExitCodes.Ok, Sim("timing", "--help").Code);
        Assert.Equal(ExitCodes.Usage, Sim("timing", "--dt-ms", "0.1,-1").Code);
    }
}
