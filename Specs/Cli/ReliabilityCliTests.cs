using PureHDF;
using Sim.Cli;
using Sim.Probes.Analysis;
using Xunit;

namespace Sim.Specs.Cli;

/// <summary>
/// The promises of docs/reliability.md at the command line: every edge-case argument ends in a documented exit code with
/// a message (no stack trace, no internal error), damaged checkpoints are refused, and a resumed run reports the
/// interval it ran, equal to the uninterrupted run's statistics over that interval.
/// </summary>
public class ReliabilityCliTests
{
    private const string RatedNetwork = """
        name: rated
        run: {dt_ms: 0.1, duration_ms: 400, seed: 3}
        populations:
          - name: exc
            size: 300
            model: lif_exp
            params: &lif {tau_mem_ms: 20, tau_exc_ms: 5, tau_inh_ms: 10, e_leak_mv: -49, v_threshold_mv: -50,
                          v_reset_mv: -60, refractory_ms: 5, v_init_mv: {uniform: [-60, -50]}}
          - {name: inh, size: 80, model: lif_exp, params: *lif}
        projections:
          - {source: exc, target: exc, connectivity: {rule: fixed_probability, p: 0.1}, weight: 1.62}
          - {source: exc, target: inh, connectivity: {rule: fixed_probability, p: 0.1}, weight: 1.62}
          - {source: inh, target: exc, connectivity: {rule: fixed_probability, p: 0.1}, weight: -9}
        monitors:
          - {kind: spikes, populations: [exc, inh]}
          - {kind: rate, population: exc, bin_ms: 7}
        """;

    private static (int Code, string Out, string Err) Sim(params string[] args) => CliHarness.Sim(args);

    private static void NoCrash((int Code, string Out, string Err) r, int code, string message)
    {
        Assert.DoesNotContain(CommandLine.InternalError, r.Err);
        Assert.DoesNotContain("   at ", r.Err);   // no stack trace
        Assert.Equal(code, r.Code);
        Assert.Contains(message, r.Err + r.Out);
    }

    [Fact]
    public void EdgeCaseArgumentsEndInADocumentedCodeWithAMessage()
    {
        string dir = CliHarness.TempDir();
        string file = Path.Combine(dir, "a-file");
        File.WriteAllText(file, "x");
        string folder = Path.Combine(dir, "a-folder");
        Directory.CreateDirectory(folder);
        string noPops = Path.Combine(dir, "nopop.yaml");
        File.WriteAllText(noPops, "name: x\nrun: {dt_ms: 0.1, duration_ms: 10}\n");
        string dt0 = Path.Combine(dir, "dt0.yaml");
        File.WriteAllText(dt0, RatedNetwork.Replace("dt_ms: 0.1", "dt_ms: 0"));

        NoCrash(Sim("run", "--duration-ms", "5", "--out", file, "--no-progress"), ExitCodes.Usage, "is a file; give a folder");
        NoCrash(Sim("run", "--duration-ms", "5", "--out", "/proc/sim-cannot-be-here", "--no-progress"), ExitCodes.Usage, "cannot create or write the folder");
        NoCrash(Sim("run", folder), ExitCodes.Usage, "is a directory");
        NoCrash(Sim("run", Path.Combine(dir, "missing.yaml")), ExitCodes.Usage, "does not exist");
        var nopop = Sim("run", noPops, "--out", dir);
        NoCrash(nopop, ExitCodes.Usage, "nopop.yaml: populations: a network needs at least one population");
        var zeroDt = Sim("run", dt0, "--out", dir);
        NoCrash(zeroDt, ExitCodes.Usage, "run.dt_ms: must be a finite time step > 0 ms");
        Assert.DoesNotContain("delay_ms", zeroDt.Err);   // no follow-on error about a field the user never wrote
        NoCrash(Sim("run", "--resume", folder, "--out", dir, "--duration-ms", "5"), ExitCodes.Usage, "checkpoint");
        NoCrash(Sim("run", "--duration-ms", "-1"), ExitCodes.Usage, "duration");
        NoCrash(Sim("run", "--duration-ms", "1e400"), ExitCodes.Usage, "duration");
        NoCrash(Sim("sweep", "store-recall", "--merge", Path.Combine(dir, "missing"), "--out", dir), ExitCodes.Usage, "does not exist");
        NoCrash(Sim("sweep", "store-recall", "--merge", folder, "--out", dir), ExitCodes.Usage, "holds no cells/ folder");
        NoCrash(Sim("sweep", "store-recall", "--epochs", "1", "--out", file), ExitCodes.Usage, "is a file");
        NoCrash(Sim("sweep", "button-food", "--merge", Path.Combine(dir, "missing")), ExitCodes.Usage, "does not exist");
        NoCrash(Sim("task", "store-recall", "--epochs", "1", "-o", file), ExitCodes.Usage, "is a file");
        NoCrash(Sim("task", "rank-estimation", "-o", file), ExitCodes.Usage, "is a file");
        NoCrash(Sim("task", "button-food", "--epochs", "1", "-o", file), ExitCodes.Usage, "is a file");
        NoCrash(Sim("analyze", folder), ExitCodes.Usage, "is a directory");
        NoCrash(Sim("analyze", file), ExitCodes.Usage, "not a readable sim run file");
        NoCrash(Sim("timing", "--out", file), ExitCodes.Usage, "is a file");
    }

    [Fact]
    public void AZeroDurationRunWritesEmptyOutputsWithUndefinedRates()
    {
        string dir = CliHarness.TempDir();
        string net = Path.Combine(dir, "net.yaml");
        File.WriteAllText(net, RatedNetwork);
        foreach (string engine in new[] { "event", "precise" })
        {
            var r = Sim("run", net, "--duration-ms", "0", "--engine", engine, "--no-progress", "--out", Path.Combine(dir, engine));
            NoCrash(r, ExitCodes.Ok, "status       complete");
            string h5 = Directory.GetFiles(Path.Combine(dir, engine), "run.h5", SearchOption.AllDirectories).Single();
            using (var f = H5File.OpenRead(h5))
            {
                Assert.Equal(0.0, f.Attribute("duration_ms").Read<double>());
                Assert.True(double.IsNaN(f.Group("summary").Group("exc").Dataset("mean_rate_hz").Read<double[]>()[0]));
            }
            NoCrash(Sim("analyze", h5), ExitCodes.Ok, "exc");
        }
        Assert.Contains("n/a", Sim("run", net, "--duration-ms", "0", "--no-progress", "--out", dir).Out);
    }

    [Fact]
    public void AnalyzePrintsLongDurationsInFull()
    {
        string dir = CliHarness.TempDir();
        string net = Path.Combine(dir, "net.yaml");
        File.WriteAllText(net, RatedNetwork);
        Assert.Equal(ExitCodes.Ok, Sim("run", net, "--duration-ms", "20000", "--no-progress", "--no-plot", "--out", dir).Code);
        var r = Sim("analyze", Directory.GetFiles(dir, "run.h5", SearchOption.AllDirectories).Single());
        Assert.Contains(", 20000 ms,", r.Out);
        Assert.DoesNotContain("E+", r.Out);
    }

    [Fact]
    public void ADamagedCheckpointIsRefusedWithExit2()
    {
        string dir = CliHarness.TempDir();
        string net = Path.Combine(dir, "net.yaml");
        File.WriteAllText(net, RatedNetwork);
        Assert.Equal(ExitCodes.Ok, Sim("run", net, "--duration-ms", "100", "--save-checkpoint", "--no-progress", "--no-plot", "--out", Path.Combine(dir, "a")).Code);
        string ckpt = Directory.GetFiles(Path.Combine(dir, "a"), "checkpoint.ckpt", SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(ckpt);
        for (int i = bytes.Length / 2; i < bytes.Length / 2 + 64; i++) bytes[i] ^= 0x5A;   // 64 bytes overwritten in the body
        string damaged = Path.Combine(dir, "damaged.ckpt");
        File.WriteAllBytes(damaged, bytes);
        var r = Sim("run", net, "--resume", damaged, "--no-progress", "--out", Path.Combine(dir, "b"));
        NoCrash(r, ExitCodes.Usage, "checksum does not match");
        Assert.False(Directory.Exists(Path.Combine(dir, "b")) && Directory.EnumerateFileSystemEntries(Path.Combine(dir, "b")).Any());   // nothing run
        File.WriteAllBytes(damaged, bytes[..100]);
        NoCrash(Sim("run", net, "--resume", damaged, "--no-progress", "--out", Path.Combine(dir, "b")), ExitCodes.Usage, "checkpoint");
    }

    /// <summary>
    /// A run resumed at a reports, in its summary, run.h5 (summary and rates) and <c>sim analyze</c>, the statistics of
    /// [a, T) of the uninterrupted run: spike counts, per-neuron and mean rates, ISI CV, Fano factor, rate bins.
    /// </summary>
    [Theory]
    [InlineData("100")]
    [InlineData("173.3")]
    public void AResumedRunReportsTheStatisticsOfItsInterval(string cutMs)
    {
        string dir = CliHarness.TempDir();
        string net = Path.Combine(dir, "net.yaml");
        File.WriteAllText(net, RatedNetwork);
        string Run(string name, params string[] extra)
        {
            var r = Sim(["run", net, "--no-progress", "--no-plot", "--out", Path.Combine(dir, name), .. extra]);
            Assert.True(r.Code == ExitCodes.Ok, r.Err);
            return Directory.GetDirectories(Path.Combine(dir, name)).Single();
        }
        string whole = Run("whole");
        string first = Run("first", "--duration-ms", cutMs, "--save-checkpoint");
        var resumedRun = Sim("run", net, "--no-progress", "--no-plot", "--out", Path.Combine(dir, "resumed"), "--resume", Path.Combine(first, "checkpoint.ckpt"));
        Assert.Equal(ExitCodes.Ok, resumedRun.Code);
        string resumed = Directory.GetDirectories(Path.Combine(dir, "resumed")).Single();
        double a = double.Parse(cutMs, System.Globalization.CultureInfo.InvariantCulture), T = 400;
        Assert.Contains($"interval     {a:F1} to {T:F1} ms", resumedRun.Out);

        using var w = H5File.OpenRead(Path.Combine(whole, "run.h5"));
        using var r = H5File.OpenRead(Path.Combine(resumed, "run.h5"));
        Assert.Equal(a, r.Attribute("start_ms").Read<double>(), 9);
        Assert.Equal(0.0, w.Attribute("start_ms").Read<double>());
        long total = 0;
        foreach (var (pop, size) in new[] { ("exc", 300), ("inh", 80) })
        {
            var times = w.Group("spikes").Group(pop).Dataset("times_ms").Read<double[]>();
            var ids = w.Group("spikes").Group(pop).Dataset("neuron_ids").Read<int[]>();
            var expected = SpikeStatistics.Compute(pop, size, times, ids, T - a, SpikeStatistics.DefaultFanoWindowMs, a);
            var g = r.Group("summary").Group(pop);
            Assert.Equal(expected.SpikeCount, g.Dataset("spike_count").Read<long[]>()[0]);
            Assert.Equal(expected.MeanRateHz, g.Dataset("mean_rate_hz").Read<double[]>()[0], 12);
            Assert.Equal(expected.IsiCv, g.Dataset("isi_cv").Read<double[]>()[0], 12);
            Assert.Equal(expected.FanoFactor, g.Dataset("fano_factor").Read<double[]>()[0], 12);
            var perNeuron = g.Dataset("rates_hz").Read<double[,]>();
            for (int i = 0; i < size; i++) Assert.Equal(expected.RatesHz[i], perNeuron[0, i], 12);
            Assert.Contains($"rate         {pop}: {expected.MeanRateHz:F3} Hz", resumedRun.Out);
            var analyzed = Sim("analyze", Path.Combine(resumed, "run.h5"));
            Assert.Contains($"{expected.SpikeCount,10}", analyzed.Out);
            Assert.Contains("(resumed)", analyzed.Out);
            total += expected.SpikeCount;
        }
        Assert.True(total > 100, $"only {total} spikes after the cut: the comparison would be weak");

        // Rate bins: the resumed file holds the bins from the one containing a on, on the uninterrupted run's grid.
        var wr = w.Group("rates").Group("exc");
        var rr = r.Group("rates").Group("exc");
        var wTimes = wr.Dataset("times_ms").Read<double[]>();
        var wCounts = wr.Dataset("counts").Read<long[,]>();
        var wRates = wr.Dataset("rate_hz").Read<double[,]>();
        var rTimes = rr.Dataset("times_ms").Read<double[]>();
        var rCounts = rr.Dataset("counts").Read<long[,]>();
        var rRates = rr.Dataset("rate_hz").Read<double[,]>();
        int j0 = (int)Math.Floor(a / 7.0 + 1e-9);
        Assert.Equal(wTimes.Length - j0, rTimes.Length);
        Assert.Equal(a, rTimes[0], 9);
        for (int j = 1; j < rTimes.Length; j++)
        {
            Assert.Equal(wTimes[j0 + j], rTimes[j], 9);
            Assert.Equal(wCounts[0, j0 + j], rCounts[0, j]);
            Assert.Equal(wRates[0, j0 + j], rRates[0, j], 9);
        }
        bool aligned = Math.Abs(a - j0 * 7.0) < 1e-9;
        if (aligned) Assert.Equal(wCounts[0, j0], rCounts[0, 0]);
        else Assert.True(rCounts[0, 0] <= wCounts[0, j0]);
    }
}
