using PureHDF;
using Sim.Probes;
using Sim.Probes.Analysis;
using Sim.Probes.Plots;
using Sim.Probes.Spikes;
using Sim.Probes.Writers;
using Xunit;
using static Sim.Specs.Probes.ProbeTestSupport;

namespace Sim.Specs.Probes;

public sealed class Hdf5WriterSpecs
{
    private const string Config = "name: cuba\nrun:\n  dt_ms: 0.1\n  seed: 1\n";

    private static (Sim.EventCore.Compilation.CompiledNetwork Net, MonitorSet Monitors, int First) Run(TempDir dir, int batch, bool stream)
    {
        var net = SmallCuba(120);
        var engine = Engine(net, batch, threads: batch);
        var monitors = MonitorSet.Attach(engine, stream ? new SpikeMonitorOptions { StreamPath = dir.File("run.spikes"), ChunkEntries = 50 } : null);
        engine.Run(net.DurationTicks);
        return (net, monitors, engine.FirstInstance);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    public void Written_file_reads_back_equal(int batch, bool stream)
    {
        using var dir = new TempDir();
        var (net, monitors, first) = Run(dir, batch, stream);
        using var owned = monitors;
        string path = Hdf5Writer.Write(dir.File("run.h5"), net, monitors, 120, Config);
        Assert.True(File.Exists(path));
        Assert.False(File.Exists(path + ".partial"));

        using var file = H5File.OpenRead(path);
        Assert.Equal("complete", file.Attribute("status").Read<string>());
        Assert.Equal(Config, file.Attribute("config").Read<string>());
        Assert.Equal(net.Seed, file.Attribute("seed").Read<ulong>());
        Assert.Equal(net.DtMs, file.Attribute("dt_ms").Read<double>());
        Assert.Equal(120.0, file.Attribute("duration_ms").Read<double>());
        Assert.Equal(batch, file.Attribute("batch").Read<int>());
        Assert.Equal(Hdf5Writer.SimVersion, file.Attribute("sim_version").Read<string>());
        Assert.True(DateTime.TryParse(file.Attribute("created_utc").Read<string>(), out _));

        var spikes = monitors.Spikes!;
        foreach (var pop in new[] { "exc", "inh" })
        {
            var times = file.Dataset($"spikes/{pop}/times_ms").Read<double[]>();
            var ids = file.Dataset($"spikes/{pop}/neuron_ids").Read<int[]>();
            var inst = file.Dataset($"spikes/{pop}/instance").Read<int[]>();
            var expected = Enumerable.Range(0, batch).Select(b => spikes.GetSpikes(b, pop)).ToArray();
            Assert.True(times.Length > 0);
            Assert.Equal(expected.SelectMany(e => e.TimesMs), times);
            Assert.Equal(expected.SelectMany(e => e.NeuronIds), ids);
            Assert.Equal(expected.SelectMany(e => Enumerable.Repeat(e.Instance, e.Count)), inst);

            var meanRates = file.Dataset($"summary/{pop}/mean_rate_hz").Read<double[]>();
            var perNeuron = file.Dataset($"summary/{pop}/rates_hz").Read<double[,]>();
            for (int b = 0; b < batch; b++)
            {
                var stats = SpikeStatistics.FromMonitor(spikes, b, 120).Single(s => s.Population == pop);
                Assert.Equal(stats.MeanRateHz, meanRates[b]);
                Assert.Equal(stats.RatesHz[7], perNeuron[b, 7]);
            }
            Assert.Equal(batch, file.Dataset($"summary/{pop}/isi_cv").Read<double[]>().Length);
        }

        var state = monitors.States.Single();
        var v = file.Dataset("state/exc/v_mv").Read<double[,,]>();
        Assert.Equal([batch, state.SampleCount(0), 3], new[] { v.GetLength(0), v.GetLength(1), v.GetLength(2) });
        Assert.Equal(state.TimesMs(0), file.Dataset("state/exc/times_ms").Read<double[]>());
        Assert.Equal([0, 1, 2], file.Dataset("state/exc/neuron_ids").Read<int[]>());
        for (int b = 0; b < batch; b++)
        {
            var mv = state.Values(b, "v_mv");
            Assert.Equal(mv[17, 2], v[b, 17, 2]);
        }

        string? keep = Environment.GetEnvironmentVariable("SIM_KEEP_H5");
        if (!string.IsNullOrEmpty(keep)) File.Copy(path, $"{keep}.batch{batch}.h5", overwrite: true);

        var rate = monitors.Rates.Single();
        var rateHz = file.Dataset("rates/exc/rate_hz").Read<double[,]>();
        Assert.Equal(rate.RatesHz(batch - 1), Enumerable.Range(0, rateHz.GetLength(1)).Select(j => rateHz[batch - 1, j]));
        Assert.Equal(rate.BinStartsMs(0), file.Dataset("rates/exc/times_ms").Read<double[]>());
    }

    [Fact]
    public void A_writer_that_fails_midway_leaves_no_h5_only_the_partial()
    {
        using var dir = new TempDir();
        var (net, monitors, _) = Run(dir, 1, stream: false);
        using var owned = monitors;
        string path = dir.File("failed.h5");
        File.WriteAllText(path, "stale file of an earlier run");
        var e = Assert.Throws<IOException>(() =>
            Hdf5Writer.Write(path, net, monitors, 120, Config, SpikeStatistics.DefaultFanoWindowMs, _ => throw new InvalidOperationException("disk gone")));
        Assert.Contains("disk gone", e.Message);
        Assert.False(File.Exists(path));
        Assert.True(File.Exists(path + ".partial"));
    }
}

public sealed class RasterPlotSpecs
{
    [Fact]
    public void Saves_a_png()
    {
        using var dir = new TempDir();
        var net = SmallCuba(200);
        using var engine = Engine(net);
        using var spikes = new SpikeMonitor(net);
        engine.AddSpikeSink(spikes);
        engine.Run(net.DurationTicks);
        string path = RasterPlot.Save(dir.File("plots/raster.png"), spikes);
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 5000, $"{bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        string? keep = Environment.GetEnvironmentVariable("SIM_KEEP_PLOT");
        if (!string.IsNullOrEmpty(keep)) File.Copy(path, keep, overwrite: true);
    }

    /// <summary>A long run's raster shows the last window holding about <see cref="RasterPlot.MaxRasterSpikes"/> spikes; a short one all of it.</summary>
    [Fact]
    public void Long_runs_draw_a_window_of_the_raster()
    {
        Assert.Equal(0, RasterPlot.RasterWindowStart(RasterPlot.MaxRasterSpikes, 0, 1000));
        Assert.Equal(270_000, RasterPlot.RasterWindowStart(10L * RasterPlot.MaxRasterSpikes, 0, 300_000), 6);
        Assert.Equal(100 + 900 * 0.9, RasterPlot.RasterWindowStart(10L * RasterPlot.MaxRasterSpikes, 100, 1000), 6);
        // 300 000 spikes over 300 s: drawn and saved with the window's spikes only.
        var times = Enumerable.Range(0, 300_000).Select(k => k * 1.0).ToArray();
        var ids = Enumerable.Range(0, 300_000).Select(k => k % 50).ToArray();
        using var dir = new TempDir();
        string path = RasterPlot.Save(dir.File("long.png"), [new PopulationSpikes("p", 50, 0, times, ids)], 300_000);
        Assert.True(File.Exists(path));
    }
}
