using System.Globalization;
using System.Reflection;
using PureHDF;
using PureHDF.Selections;
using Sim.EventCore.Compilation;
using Sim.Probes.Analysis;
using Sim.Probes.Rates;
using Sim.Probes.Spikes;
using Sim.Probes.State;

namespace Sim.Probes.Writers;

/// <summary>
/// Writes one HDF5 file per run (managed PureHDF, no native library), in the layout documented in
/// <c>docs/output-format.md</c>: spikes per population (times, local ids, instance), sampled state, binned rates,
/// summary statistics and the run's metadata and resolved configuration as root attributes.
/// The file is written as <c>&lt;path&gt;.partial</c> and renamed to <c>&lt;path&gt;</c> only once complete, so a
/// failed run never leaves a file that looks complete (the partial file stays, for inspection).
/// </summary>
public static class Hdf5Writer
{
    /// <summary>Value of the root attribute <c>format</c>.</summary>
    public const string Format = "sim-output/1";

    /// <summary>Writes the results of a run.</summary>
    /// <param name="path">Final path of the file (conventionally <c>*.h5</c>); an existing file there is removed first.</param>
    /// <param name="network">The network that was run.</param>
    /// <param name="monitors">The monitors that recorded it (flushed here).</param>
    /// <param name="durationMs">The time the run reached (ms), root attribute <c>duration_ms</c>.</param>
    /// <param name="configText">The fully resolved configuration (e.g. YAML), stored verbatim in the <c>config</c> attribute.</param>
    /// <param name="fanoWindowMs">Window of the Fano factor in the summary (ms).</param>
    /// <param name="status">Root attribute <c>status</c>: "complete", or why the run ended early ("interrupted", "stopped: …").</param>
    /// <param name="engine">Root attribute <c>engine</c> (the engine's name, e.g. "event"); null: not written.</param>
    /// <param name="startMs">
    /// The time the run started at (ms), root attribute <c>start_ms</c>: 0, or a resumed run's checkpoint time. The
    /// spikes, rates and summary cover [start_ms, duration_ms).
    /// </param>
    /// <returns>The final path.</returns>
    public static string Write(string path, CompiledNetwork network, MonitorSet monitors, double durationMs, string configText,
        double fanoWindowMs = SpikeStatistics.DefaultFanoWindowMs, string status = "complete", string? engine = null, double startMs = 0)
        => Write(path, network, monitors, durationMs, configText, fanoWindowMs, beforeCommit: null, status, engine, startMs);

    /// <summary>
    /// Writes the results of <see cref="Sim.EventCore.Precise.PreciseEngine"/> runs in the same layout: spike times are the
    /// engine's continuous times (doubles, not on the grid), the root attribute <c>engine</c> is <c>"precise"</c>, and
    /// <c>/state</c> and <c>/rates</c> are empty groups (the precise engine has no step observers).
    /// </summary>
    /// <param name="path">Final path of the file; an existing file there is removed first.</param>
    /// <param name="network">The network that was run.</param>
    /// <param name="spikes">The spikes of every instance.</param>
    /// <param name="durationMs">Simulated duration (ms) the summary refers to.</param>
    /// <param name="configText">The fully resolved configuration, stored verbatim in the <c>config</c> attribute.</param>
    /// <param name="fanoWindowMs">Window of the Fano factor in the summary (ms).</param>
    /// <param name="status">Root attribute <c>status</c>.</param>
    /// <returns>The final path.</returns>
    public static string WritePrecise(string path, CompiledNetwork network, PreciseSpikeMonitor spikes, double durationMs, string configText,
        double fanoWindowMs = SpikeStatistics.DefaultFanoWindowMs, string status = "complete")
    {
        var source = new SpikeSource(spikes.Populations, spikes.SpikeCount, (b, pop) => [spikes.GetSpikes(b, pop)],
            (b, pop) => SpikeStatistics.Compute(spikes.GetSpikes(b, pop), durationMs, fanoWindowMs));
        return WriteCore(path, network, source, [], [], spikes.BatchSize, spikes.FirstInstance, durationMs, configText, fanoWindowMs, null, status, "precise", 0);
    }

    internal static string Write(string path, CompiledNetwork network, MonitorSet monitors, double durationMs, string configText,
        double fanoWindowMs, Action<string>? beforeCommit, string status = "complete", string? engine = null, double startMs = 0)
    {
        if (!(startMs >= 0 && startMs <= durationMs)) throw new ArgumentOutOfRangeException(nameof(startMs), $"start {startMs} ms must lie in [0, {durationMs}] ms");
        monitors.Flush();
        var spikes = monitors.Spikes;
        int batch = spikes?.BatchSize ?? monitors.States.FirstOrDefault()?.BatchSize ?? monitors.Rates.FirstOrDefault()?.BatchSize ?? 1;
        int first = spikes?.FirstInstance ?? monitors.States.FirstOrDefault()?.FirstInstance ?? monitors.Rates.FirstOrDefault()?.FirstInstance ?? 0;
        SpikeSource? source = spikes is null ? null : new SpikeSource(spikes.Populations, spikes.SpikeCount, (b, pop) => spikes.GetSpikeSlices(b, pop, SliceSpikes),
            (b, pop) => SpikeStatistics.FromMonitor(spikes, b, durationMs - startMs, fanoWindowMs, startMs).First(x => x.Population == pop));
        return WriteCore(path, network, source, monitors.States, monitors.Rates, batch, first, durationMs, configText, fanoWindowMs, beforeCommit, status, engine, startMs);
    }

    /// <summary>
    /// Spikes per slice written to run.h5: 8192 keeps each slice's arrays (and PureHDF's per-write buffers) under the
    /// large-object threshold, so they die young instead of piling up in the large-object heap until a full collection
    /// (with 1M-spike slices a 300 s CUBA run's write took ≈ 36 B per spike of resident memory).
    /// </summary>
    internal const int SliceSpikes = 8192;

    /// <summary>
    /// Where the spike groups come from: recorded populations, counts, spikes (in time-ordered slices, so that writing
    /// a long run holds one slice, not the run) and statistics per (batch index, population).
    /// </summary>
    private sealed record SpikeSource(IReadOnlyList<CompiledPopulation> Populations, Func<int, string, long> SpikeCount,
        Func<int, string, IEnumerable<PopulationSpikes>> Slices, Func<int, string, PopulationStatistics> Statistics);

    private static string WriteCore(string path, CompiledNetwork network, SpikeSource? spikes, IReadOnlyList<StateMonitor> states,
        IReadOnlyList<PopulationRateMonitor> rateMonitors, int batch, int first, double durationMs, string configText,
        double fanoWindowMs, Action<string>? beforeCommit, string status, string? engine, double startMs)
    {
        string partial = path + ".partial";
        if (File.Exists(path)) File.Delete(path);

        var file = new H5File();
        file.Attributes["format"] = Format;
        file.Attributes["sim_version"] = SimVersion;
        file.Attributes["network"] = network.Spec.Name;
        file.Attributes["seed"] = network.Seed;
        file.Attributes["dt_ms"] = network.DtMs;
        file.Attributes["duration_ms"] = durationMs;
        file.Attributes["start_ms"] = startMs;
        file.Attributes["batch"] = batch;
        file.Attributes["first_instance"] = first;
        file.Attributes["created_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        file.Attributes["status"] = status;
        file.Attributes["config"] = configText;
        if (engine is not null) file.Attributes["engine"] = engine;

        // Spike datasets are declared with their final sizes and filled instance by instance while writing, so only
        // one population of one instance is in memory at a time.
        var pending = new List<Action<H5NativeWriter>>();
        var spikeGroup = new H5Group();
        var summaryGroup = new H5Group();
        file["spikes"] = spikeGroup;
        if (spikes is not null)
        {
            foreach (var pop in spikes.Populations)
            {
                var counts = new long[batch];
                for (int b = 0; b < batch; b++) counts[b] = spikes.SpikeCount(b, pop.Name);
                long total = counts.Sum();
                var g = new H5Group();
                g.Attributes["size"] = pop.Size;
                g.Attributes["offset"] = pop.Offset;
                spikeGroup[pop.Name] = g;
                if (total == 0)
                {
                    g["times_ms"] = Array.Empty<double>();
                    g["neuron_ids"] = Array.Empty<int>();
                    g["instance"] = Array.Empty<int>();
                }
                else
                {
                    uint chunk = (uint)Math.Min(total, 1 << 16);
                    var times = new H5Dataset<double[]>(fileDims: [(ulong)total], chunks: [chunk]);
                    var ids = new H5Dataset<int[]>(fileDims: [(ulong)total], chunks: [chunk]);
                    var inst = new H5Dataset<int[]>(fileDims: [(ulong)total], chunks: [chunk]);
                    g["times_ms"] = times;
                    g["neuron_ids"] = ids;
                    g["instance"] = inst;
                    string name = pop.Name;
                    pending.Add(w =>
                    {
                        ulong at = 0;
                        int[] column = [];
                        for (int b = 0; b < batch; b++)
                            foreach (var s in spikes.Slices(b, name))
                            {
                                if (s.Count == 0) continue;
                                var memory = new HyperslabSelection(0, (ulong)s.Count);
                                var fileSel = new HyperslabSelection(at, (ulong)s.Count);
                                w.Write(times, s.TimesMs, memory, fileSel);
                                w.Write(ids, s.NeuronIds, memory, fileSel);
                                if (column.Length != s.Count) column = new int[s.Count];
                                Array.Fill(column, first + b);
                                w.Write(inst, column, memory, fileSel);
                                at += (ulong)s.Count;
                            }
                    });
                }

                var stats = new PopulationStatistics[batch];
                for (int b = 0; b < batch; b++) stats[b] = spikes.Statistics(b, pop.Name);
                var rates = new double[batch, pop.Size];
                for (int b = 0; b < batch; b++)
                    for (int i = 0; i < pop.Size; i++) rates[b, i] = stats[b].RatesHz[i];
                var sg = new H5Group
                {
                    ["mean_rate_hz"] = stats.Select(s => s.MeanRateHz).ToArray(),
                    ["isi_cv"] = stats.Select(s => s.IsiCv).ToArray(),
                    ["isi_cv_neurons"] = stats.Select(s => s.IsiCvNeurons).ToArray(),
                    ["fano_factor"] = stats.Select(s => s.FanoFactor).ToArray(),
                    ["spike_count"] = stats.Select(s => s.SpikeCount).ToArray(),
                    ["rates_hz"] = rates,
                };
                sg.Attributes["fano_window_ms"] = fanoWindowMs;
                summaryGroup[pop.Name] = sg;
            }
        }
        file["summary"] = summaryGroup;

        var stateGroup = new H5Group();
        file["state"] = stateGroup;
        foreach (var m in states)
        {
            int samples = Enumerable.Range(0, batch).Max(m.SampleCount);
            int longest = Enumerable.Range(0, batch).First(b => m.SampleCount(b) == samples);
            var g = new H5Group
            {
                ["times_ms"] = m.TimesMs(longest),
                ["neuron_ids"] = m.Indices.ToArray(),
            };
            g.Attributes["interval_ms"] = m.IntervalMs;
            foreach (var v in m.Variables)
            {
                var data = new double[batch, samples, m.Indices.Count];
                for (int b = 0; b < batch; b++)
                {
                    var values = m.Values(b, v);
                    for (int s = 0; s < samples; s++)
                        for (int j = 0; j < m.Indices.Count; j++)
                            data[b, s, j] = s < values.GetLength(0) ? values[s, j] : double.NaN;
                }
                g[v] = data;
            }
            stateGroup[UniqueName(stateGroup, m.Population)] = g;
        }

        var rateGroup = new H5Group();
        file["rates"] = rateGroup;
        foreach (var m in rateMonitors)
        {
            int bins = Enumerable.Range(0, batch).Max(m.BinCount);
            int longest = Enumerable.Range(0, batch).First(b => m.BinCount(b) == bins);
            var rate = new double[batch, bins];
            var count = new long[batch, bins];
            for (int b = 0; b < batch; b++)
            {
                var r = m.RatesHz(b);
                var c = m.Counts(b);
                for (int j = 0; j < bins; j++)
                {
                    rate[b, j] = j < r.Length ? r[j] : double.NaN;
                    count[b, j] = j < c.Length ? c[j] : 0;
                }
            }
            var g = new H5Group
            {
                ["times_ms"] = m.BinStartsMs(longest),
                ["rate_hz"] = rate,
                ["counts"] = count,
            };
            g.Attributes["bin_ms"] = m.BinMs;
            g.Attributes["size"] = m.Size;
            rateGroup[UniqueName(rateGroup, m.Population)] = g;
        }

        try
        {
            using (var writer = file.BeginWrite(partial))
                foreach (var fill in pending) fill(writer);
            beforeCommit?.Invoke(partial);
            File.Move(partial, path, overwrite: true);
        }
        catch (Exception e) when (e is not IOException)
        {
            throw new IOException($"writing '{partial}' failed; no '{Path.GetFileName(path)}' was produced: {e.Message}", e);
        }
        return path;
    }

    /// <summary>The version written to <c>sim_version</c> (the assembly's informational version).</summary>
    public static string SimVersion { get; } =
        typeof(Hdf5Writer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Hdf5Writer).Assembly.GetName().Version?.ToString() ?? "unknown";

    private static string UniqueName(H5Group group, string name)
    {
        if (!group.ContainsKey(name)) return name;
        for (int k = 2; ; k++)
            if (!group.ContainsKey($"{name}_{k}")) return $"{name}_{k}";
    }
}
