using System.Globalization;
using System.Text.RegularExpressions;
using Sim.Cli;
using Sim.Specs.Cli;
using Xunit;

namespace Sim.Specs.Probes;

/// <summary>docs/python.md's script, scripts/python_example.py: a network file written from Python runs, and every output reads back the same spikes.</summary>
public sealed class PythonGuideTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [PythonFact("h5py", "numpy")]
    public void Network_written_from_python_runs_and_every_output_reads_back_the_same_spikes()
    {
        string dir = CliHarness.TempDir();
        string yaml = Path.Combine(dir, "net.yaml");
        var written = Python.Run(Limit, "scripts/python_example.py", "network", yaml);
        Assert.True(written.ExitCode == 0, written.Err);

        var sim = CliHarness.Sim("run", yaml, "--nwb", "--no-plot", "--no-progress", "-o", Path.Combine(dir, "out"));
        Assert.True(sim.Code == ExitCodes.Ok, sim.Err);
        long total = long.Parse(Regex.Match(sim.Out, @"^spikes\s+([0-9,]+)", RegexOptions.Multiline).Groups[1].Value.Replace(",", ""), CultureInfo.InvariantCulture);
        Assert.True(total > 100, $"the example network should spike ({total} spikes)");
        string runDir = Directory.GetDirectories(Path.Combine(dir, "out")).Single();

        var read = Python.Run(Limit, "scripts/python_example.py", "read", runDir);
        Assert.True(read.ExitCode == 0, $"{read.Out}\n{read.Err}");
        foreach (var source in new[] { "run.h5", "spikes.bin", "run.nwb" }) Assert.Contains($"{source}: {total} spikes", read.Out);
        Assert.Contains($"agree: run.h5, spikes.bin, run.nwb hold the same {total} spikes", read.Out);
        Assert.Contains("equal to run.h5's config", read.Out);
        Assert.Contains("run.nwb: TimeSeries exc_v_mv_instance0: (300, 4) in volts", read.Out);

        // A torn spike stream (the last record cut short) reads fewer spikes: the script says so and fails.
        string torn = Path.Combine(dir, "torn");
        Directory.CreateDirectory(torn);
        foreach (var f in Directory.GetFiles(runDir)) File.Copy(f, Path.Combine(torn, Path.GetFileName(f)));
        using (var stream = new FileStream(Path.Combine(torn, "spikes.bin"), FileMode.Open)) stream.SetLength(stream.Length - 5);
        var broken = Python.Run(Limit, "scripts/python_example.py", "read", torn);
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("spikes.bin: torn or corrupt", broken.Out);
        Assert.Contains("DISAGREE", broken.Out);
    }

    [PythonFact("numpy")]
    public void Task_csv_reads_with_the_csv_module()
    {
        string csv = Path.Combine(Python.Root(), "docs", "sweep", "results.csv");
        var r = Python.Run(Limit, "scripts/python_example.py", "csv", csv);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains($"csv: {File.ReadAllLines(csv).Length - 1} rows, columns ['r', 'tau_star_dt', 'seed'", r.Out);
        Assert.Contains("csv: final_mse: min ", r.Out);
    }
}
