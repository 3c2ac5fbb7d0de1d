using System.Globalization;
using PureHDF;
using PureHDF.VOL.Native;
using Sim.Cli;
using Sim.Probes.Writers;
using Sim.Specs.Cli;
using Xunit;

namespace Sim.Specs.Probes;

/// <summary>
/// One <c>sim run --nwb</c> shared by the NWB specs: two of three populations recorded, a batch of 2 from instance 3,
/// two state monitors on one population (two variables, then one), so that rows, instances and series names all matter.
/// </summary>
public sealed class NwbRun
{
    public const string Network = """
        name: nwb
        run: {dt_ms: 0.1, duration_ms: 300, seed: 5, batch: 2, instance_offset: 3}
        populations:
          - name: exc
            size: 400
            model: lif_exp
            params: &lif {tau_mem_ms: 20, tau_exc_ms: 5, tau_inh_ms: 10, e_leak_mv: -49, v_threshold_mv: -50,
                          v_reset_mv: -60, refractory_ms: 5, v_init_mv: {uniform: [-60, -50]}}
          - {name: inh, size: 100, model: lif_exp, params: *lif}
          - {name: quiet, size: 10, model: lif_exp}
        projections:
          - {source: exc, target: exc, connectivity: {rule: fixed_probability, p: 0.16}, weight: 1.62}
          - {source: exc, target: inh, connectivity: {rule: fixed_probability, p: 0.16}, weight: 1.62}
          - {source: inh, target: exc, connectivity: {rule: fixed_probability, p: 0.16}, weight: -9}
          - {source: inh, target: inh, connectivity: {rule: fixed_probability, p: 0.16}, weight: -9}
        monitors:
          - {kind: spikes, populations: [exc, inh]}
          - {kind: state, population: exc, variables: [v_mv, g_exc_mv], indices: [0, 5, 7], interval_ms: 0.5}
          - {kind: state, population: exc, variables: [v_mv], indices: [9], interval_ms: 1}
          - {kind: rate, population: inh, bin_ms: 5}
        """;

    public NwbRun()
    {
        string dir = CliHarness.TempDir();
        string file = Path.Combine(dir, "nwb.yaml");
        File.WriteAllText(file, Network);
        var r = CliHarness.Sim("run", file, "--nwb", "--no-plot", "--no-progress", "-o", Path.Combine(dir, "out"));
        if (r.Code != ExitCodes.Ok) throw new InvalidOperationException($"sim run failed ({r.Code}): {r.Err}");
        Output = r.Out;
        RunDir = Directory.GetDirectories(Path.Combine(dir, "out")).Single();
    }

    /// <summary>What <c>sim run</c> printed.</summary>
    public string Output { get; }
    /// <summary>The run folder (run.h5, run.nwb, spikes.bin, config.yaml).</summary>
    public string RunDir { get; }
    public string Nwb => Path.Combine(RunDir, "run.nwb");
    public string H5 => Path.Combine(RunDir, "run.h5");

    /// <summary>The decimal of a run.h5 time (ms) shifted by three places: the NWB time (s) of a grid spike or sample.</summary>
    public static double Seconds(double ms) => double.Parse(ms.ToString("R", CultureInfo.InvariantCulture) + "E-3", CultureInfo.InvariantCulture);
}

/// <summary><c>sim run --nwb</c>: an NWB 2.x file that holds exactly the spikes and state of run.h5 (docs/output-format.md, "NWB file").</summary>
public sealed class NwbTests(NwbRun run) : IClassFixture<NwbRun>
{
    [Fact]
    public void Nwb_flag_parses_and_is_documented()
    {
        var tree = global::Sim.Cli.CommandLine.Build(TextWriter.Null, TextWriter.Null);
        Assert.Empty(tree.Parse(["run", "--nwb"]).Errors);
        Assert.Contains("--nwb", CliHarness.Sim("run", "--help").Out);
        Assert.Contains("run.nwb", run.Output);
        Assert.Matches(@"writing run\.h5 [0-9.]+ s, run\.nwb [0-9.]+ s", run.Output);
    }

    [Fact]
    public void Nwb_file_has_the_required_nwb_fields()
    {
        using var f = H5File.OpenRead(run.Nwb);
        Assert.Equal("core", f.Attribute("namespace").Read<string>());
        Assert.Equal("NWBFile", f.Attribute("neurodata_type").Read<string>());
        Assert.Equal(NwbWriter.NwbVersion, f.Attribute("nwb_version").Read<string>());
        Assert.True(Guid.TryParse(f.Attribute("object_id").Read<string>(), out _));
        foreach (var name in new[] { "session_start_time", "timestamps_reference_time" })
            Assert.True(DateTimeOffset.TryParse(f.Dataset(name).Read<string>(), CultureInfo.InvariantCulture, out _), name);
        Assert.True(DateTimeOffset.TryParse(f.Dataset("file_create_date").Read<string[]>().Single(), CultureInfo.InvariantCulture, out _));
        Assert.Contains("network 'nwb'", f.Dataset("session_description").Read<string>());
        Assert.True(Guid.TryParse(f.Dataset("identifier").Read<string>(), out _));
        foreach (var g in new[] { "acquisition", "analysis", "processing", "stimulus/presentation", "stimulus/templates", "general/devices/sim" })
            Assert.True(f.LinkExists(g), g);
        Assert.Equal("Device", f.Group("general/devices/sim").Attribute("neurodata_type").Read<string>());
        Assert.Contains("event engine", f.Group("general/devices/sim").Attribute("description").Read<string>());
        var script = f.Dataset("general/source_script");
        Assert.Equal(File.ReadAllText(Path.Combine(run.RunDir, "config.yaml")), script.Read<string>());
        Assert.Equal("config.yaml", script.Attribute("file_name").Read<string>());
        Assert.Contains("first_instance: 3", f.Dataset("general/notes").Read<string>());
    }

    [Fact]
    public void Every_spike_of_run_h5_is_in_the_units_table()
    {
        using var h5 = H5File.OpenRead(run.H5);
        using var f = H5File.OpenRead(run.Nwb);
        var units = f.Group("units");
        Assert.Equal(["spike_times", "population", "neuron_id", "global_id", "instance"], units.Attribute("colnames").Read<string[]>());
        var population = units.Dataset("population").Read<string[]>();
        var neuron = units.Dataset("neuron_id").Read<int[]>();
        var global = units.Dataset("global_id").Read<int[]>();
        var instance = units.Dataset("instance").Read<int[]>();
        var end = units.Dataset("spike_times_index").Read<ulong[]>();
        var times = units.Dataset("spike_times").Read<double[]>();
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i), units.Dataset("id").Read<long[]>());
        Assert.Equal(0.1 / 1000, units.Dataset("spike_times").Attribute("resolution").Read<double>());
        var target = units.Dataset("spike_times_index").Attribute("target").Read<NativeObjectReference1>();
        Assert.Equal("spike_times", f.Get(target).Name);

        // Rows: instance 3 then 4; within each, exc (global 0..399) then inh (400..499); quiet (500..509) is not recorded.
        var rows = new Dictionary<(string, int, int), int>();
        for (int r = 0; r < population.Length; r++)
        {
            rows.Add((population[r], instance[r], neuron[r]), r);
            Assert.Equal(population[r] == "exc" ? neuron[r] : 400 + neuron[r], global[r]);
        }
        Assert.Equal(2 * 500, rows.Count);
        Assert.Equal(3, instance[0]);
        Assert.Equal(4, instance[^1]);
        Assert.Equal((ulong)times.Length, end[^1]);

        long total = 0;
        foreach (var pop in new[] { "exc", "inh" })
        {
            var ms = h5.Dataset($"spikes/{pop}/times_ms").Read<double[]>();
            var ids = h5.Dataset($"spikes/{pop}/neuron_ids").Read<int[]>();
            var inst = h5.Dataset($"spikes/{pop}/instance").Read<int[]>();
            Assert.NotEmpty(ms);
            total += ms.Length;
            foreach (var unit in Enumerable.Range(0, ms.Length).GroupBy(k => (pop, inst[k], ids[k])))
            {
                int r = rows[unit.Key];
                ulong start = r == 0 ? 0 : end[r - 1];
                var expected = unit.Select(k => NwbRun.Seconds(ms[k])).ToArray();   // run.h5 is time-ordered within an instance
                Assert.Equal(expected, times[(int)start..(int)end[r]]);
            }
        }
        Assert.Equal(total, times.LongLength);   // and no unit holds a spike run.h5 lacks
    }

    [Fact]
    public void Every_state_sample_of_run_h5_is_a_timeseries()
    {
        using var h5 = H5File.OpenRead(run.H5);
        using var f = H5File.OpenRead(run.Nwb);
        var acquisition = f.Group("acquisition").Children().Select(c => c.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["exc_2_v_mv_instance3", "exc_2_v_mv_instance4", "exc_g_exc_mv_instance3", "exc_g_exc_mv_instance4", "exc_v_mv_instance3", "exc_v_mv_instance4"], acquisition);
        foreach (var (group, variable) in new[] { ("exc", "v_mv"), ("exc", "g_exc_mv"), ("exc_2", "v_mv") })
        {
            var values = h5.Dataset($"state/{group}/{variable}").Read<double[,,]>();
            var ms = h5.Dataset($"state/{group}/times_ms").Read<double[]>();
            for (int b = 0; b < 2; b++)
            {
                var series = f.Group($"acquisition/{group}_{variable}_instance{3 + b}");
                Assert.Equal("TimeSeries", series.Attribute("neurodata_type").Read<string>());
                var data = series.Dataset("data");
                Assert.Equal("volts", data.Attribute("unit").Read<string>());
                Assert.Equal(1e-3, data.Attribute("conversion").Read<double>());
                var got = data.Read<double[,]>();
                Assert.Equal(values.GetLength(1), got.GetLength(0));
                for (int s = 0; s < got.GetLength(0); s++)
                    for (int j = 0; j < got.GetLength(1); j++) Assert.Equal(values[b, s, j], got[s, j]);
                var timestamps = series.Dataset("timestamps");
                Assert.Equal("seconds", timestamps.Attribute("unit").Read<string>());
                Assert.Equal(ms.Select(NwbRun.Seconds), timestamps.Read<double[]>());
            }
        }
    }

    [Fact]
    public void Precise_engine_writes_its_continuous_times_in_seconds()
    {
        string dir = CliHarness.TempDir();
        var r = CliHarness.Sim("run", Path.Combine(Python.Root(), "examples", "cuba_ps.yaml"), "--engine", "precise", "--duration-ms", "60", "--nwb", "--no-plot", "--no-progress", "-o", dir);
        Assert.Equal(ExitCodes.Ok, r.Code);
        string runDir = Directory.GetDirectories(dir).Single();
        using var h5 = H5File.OpenRead(Path.Combine(runDir, "run.h5"));
        using var f = H5File.OpenRead(Path.Combine(runDir, "run.nwb"));
        var units = f.Group("units");
        var population = units.Dataset("population").Read<string[]>();
        var end = units.Dataset("spike_times_index").Read<ulong[]>();
        var times = units.Dataset("spike_times").Read<double[]>();
        Assert.False(units.Dataset("spike_times").AttributeExists("resolution"));
        var ms = h5.Dataset("spikes/exc/times_ms").Read<double[]>();
        var ids = h5.Dataset("spikes/exc/neuron_ids").Read<int[]>();
        Assert.NotEmpty(ms);
        int first = Array.IndexOf(population, "exc");
        foreach (var unit in Enumerable.Range(0, ms.Length).GroupBy(k => ids[k]))
        {
            int row = first + unit.Key;
            ulong start = row == 0 ? 0 : end[row - 1];
            Assert.Equal(unit.Select(k => ms[k] / 1000.0), times[(int)start..(int)end[row]]);
        }
        Assert.Contains("run.nwb", r.Out);
    }

    [Fact]
    public void Without_the_flag_no_nwb_file_is_written()
    {
        string dir = CliHarness.TempDir();
        var r = CliHarness.Sim("run", "--duration-ms", "5", "--no-plot", "--no-progress", "-o", dir);
        Assert.Equal(ExitCodes.Ok, r.Code);
        Assert.False(File.Exists(Path.Combine(Directory.GetDirectories(dir).Single(), "run.nwb")));
        Assert.DoesNotContain("run.nwb", r.Out);
    }

    [PythonFact("h5py", "numpy", "hdmf")]
    public void Python_validator_accepts_the_file_and_rejects_broken_copies()
    {
        var (code, output, err) = Python.Run(TimeSpan.FromSeconds(60), "scripts/validate_nwb.py", run.Nwb, "--h5", run.H5, "--self-test");
        Assert.True(code == 0, $"validate_nwb.py exited {code}:\n{output}\n{err}");
        Assert.Matches(@"hdmf [0-9.]+: [1-9][0-9]* objects validated against hdmf-common [0-9.]+: 0 errors", output);
        Assert.Contains("NWB core 2.7.0 requirements (h5py; no NWB schema here): 0 errors", output);
        Assert.Matches(@"run\.h5 agreement: [1-9][0-9]* spikes, [1-9][0-9]* state values compared: 0 differences", output);
        Assert.Contains("valid and equal to run.h5", output);
        Assert.Equal(7, output.Split('\n').Count(l => l.StartsWith("self-test: rejected", StringComparison.Ordinal)));
        Assert.DoesNotContain("NOT rejected", output);
    }
}
