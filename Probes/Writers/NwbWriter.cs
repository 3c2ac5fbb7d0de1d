using System.Globalization;
using PureHDF;
using PureHDF.Selections;
using Sim.EventCore.Compilation;
using Sim.Probes.Spikes;
using Sim.Probes.State;

namespace Sim.Probes.Writers;

/// <summary>
/// Writes a run as an NWB 2.x file (Neurodata Without Borders, core namespace <see cref="NwbVersion"/>; HDF5 through
/// managed PureHDF, like <see cref="Hdf5Writer"/>), in the layout documented in <c>docs/output-format.md</c> ("NWB
/// file"): the spikes of the recorded populations as the <c>/units</c> table (one row per neuron and instance; spike
/// times in seconds, with the columns <c>population</c>, <c>neuron_id</c>, <c>global_id</c>, <c>instance</c>), every
/// sampled state variable as one <c>TimeSeries</c> per instance under <c>/acquisition</c>, the simulator as the device
/// <c>/general/devices/sim</c>, the resolved configuration as <c>/general/source_script</c> and the run's metadata as
/// <c>/general/notes</c>. Rates and summary statistics stay in run.h5 only.
/// </summary>
/// <remarks>
/// Spike and sample times are seconds from the start of the simulation (<c>timestamps_reference_time</c> =
/// <c>session_start_time</c>, the wall-clock time the run started). A grid tick t at step dt is t·dt/1000 s, the
/// decimal rounded once to a double (<see cref="TickSeconds"/>): the run.h5 time in ms shifted by three decimal places.
/// The precise engine's continuous times are its ms divided by 1000. The file is written as <c>&lt;path&gt;.partial</c>
/// and renamed when complete, as run.h5 is.
/// </remarks>
public static class NwbWriter
{
    /// <summary>The NWB core schema version written to the root attribute <c>nwb_version</c>.</summary>
    public const string NwbVersion = "2.7.0";

    /// <summary>Writes the results of a grid-engine run (the inputs of <see cref="Hdf5Writer.Write(string, CompiledNetwork, MonitorSet, double, string, double, string, string?, double)"/>).</summary>
    /// <param name="path">Final path of the file (conventionally <c>run.nwb</c>); an existing file there is removed first.</param>
    /// <param name="network">The network that was run.</param>
    /// <param name="monitors">The monitors that recorded it (flushed here).</param>
    /// <param name="durationMs">The time the run reached (ms).</param>
    /// <param name="configText">The fully resolved configuration (YAML), stored verbatim in <c>/general/source_script</c>.</param>
    /// <param name="status">"complete", or why the run ended early; in the session description and the notes.</param>
    /// <param name="engine">The engine's name (e.g. "event"), in the device's description; null: "event".</param>
    /// <param name="startMs">The time the run started at (ms): 0, or a resumed run's checkpoint time.</param>
    /// <param name="sessionStart">Wall-clock start of the run (<c>session_start_time</c>); null: now.</param>
    /// <returns>The final path.</returns>
    public static string Write(string path, CompiledNetwork network, MonitorSet monitors, double durationMs, string configText,
        string status = "complete", string? engine = null, double startMs = 0, DateTimeOffset? sessionStart = null)
    {
        ArgumentNullException.ThrowIfNull(monitors);
        if (!(startMs >= 0 && startMs <= durationMs)) throw new ArgumentOutOfRangeException(nameof(startMs), $"start {startMs} ms must lie in [0, {durationMs}] ms");
        monitors.Flush();
        var spikes = monitors.Spikes;
        int batch = spikes?.BatchSize ?? monitors.States.FirstOrDefault()?.BatchSize ?? 1;
        int first = spikes?.FirstInstance ?? monitors.States.FirstOrDefault()?.FirstInstance ?? 0;
        var clock = new TickSeconds(network.DtMs);
        UnitSource? units = null;
        if (spikes is not null)
        {
            var rowOf = RowMap(network, spikes.Populations);
            units = new UnitSource(spikes.Populations, (b, visit) =>
            {
                foreach (var (tm, nm) in spikes.BlockMemory(b))   // block by block: never all spikes of an instance at once
                {
                    var t = tm.Span;
                    var n = nm.Span;
                    for (int i = 0; i < t.Length; i++) visit(rowOf[n[i]], clock.Seconds(t[i]));
                }
            }, b => spikes.Populations.Sum(p => spikes.SpikeCount(b, p.Name)), network.DtMs / 1000.0);
        }
        return WriteCore(path, network, units, monitors.States, batch, first, durationMs, startMs, configText, status, engine ?? "event", sessionStart);
    }

    /// <summary>Writes the results of <see cref="Sim.EventCore.Precise.PreciseEngine"/> runs (spikes only; times are the engine's continuous ms / 1000).</summary>
    /// <param name="path">Final path of the file; an existing file there is removed first.</param>
    /// <param name="network">The network that was run.</param>
    /// <param name="spikes">The spikes of every instance.</param>
    /// <param name="durationMs">Simulated duration (ms).</param>
    /// <param name="configText">The fully resolved configuration.</param>
    /// <param name="status">"complete", or why the run ended early.</param>
    /// <param name="sessionStart">Wall-clock start of the run; null: now.</param>
    /// <returns>The final path.</returns>
    public static string WritePrecise(string path, CompiledNetwork network, PreciseSpikeMonitor spikes, double durationMs, string configText,
        string status = "complete", DateTimeOffset? sessionStart = null)
    {
        ArgumentNullException.ThrowIfNull(spikes);
        var units = new UnitSource(spikes.Populations, (b, visit) =>
        {
            int at = 0;
            foreach (var p in spikes.Populations)
            {
                var s = spikes.GetSpikes(b, p.Name);
                for (int i = 0; i < s.Count; i++) visit(at + s.NeuronIds[i], s.TimesMs[i] / 1000.0);
                at += p.Size;
            }
        }, b => spikes.Populations.Sum(p => spikes.SpikeCount(b, p.Name)), null);
        return WriteCore(path, network, units, [], spikes.BatchSize, spikes.FirstInstance, durationMs, 0, configText, status, "precise", sessionStart);
    }

    /// <summary>
    /// Seconds of grid ticks: t / (1000/dt) when 1/dt is a whole number (the decimal t·dt/1000 rounded once: tick 9999 at
    /// dt 0.1 ms is 0.9999 s), (t·dt)/1000 otherwise (exact products for binary steps such as 0.125 ms, then one rounding).
    /// </summary>
    public readonly struct TickSeconds
    {
        private readonly double _dtMs, _ticksPerSecond;

        /// <summary>The conversion for time step <paramref name="dtMs"/> (ms).</summary>
        public TickSeconds(double dtMs)
        {
            _dtMs = dtMs;
            double perMs = Math.Round(1.0 / dtMs);
            _ticksPerSecond = perMs >= 1 && 1.0 / perMs == dtMs ? perMs * 1000 : 0;
        }

        /// <summary>The time (s) of <paramref name="tick"/>.</summary>
        public double Seconds(long tick) => _ticksPerSecond > 0 ? tick / _ticksPerSecond : tick * _dtMs / 1000;
    }

    /// <summary>
    /// The units-table rows: recorded populations in global-id order, one row per neuron within an instance; Visit(b, f)
    /// calls f(row within the instance, seconds) for each spike of batch element b, in time order (twice per instance:
    /// to count, then to place); Count(b) is how many there are.
    /// </summary>
    private sealed record UnitSource(IReadOnlyList<CompiledPopulation> Populations, Action<int, Action<int, double>> Visit,
        Func<int, long> Count, double? ResolutionSeconds);

    private static int[] RowMap(CompiledNetwork network, IReadOnlyList<CompiledPopulation> populations)
    {
        var rowOf = new int[network.NeuronCount];
        Array.Fill(rowOf, -1);
        int at = 0;
        foreach (var p in populations) { for (int i = 0; i < p.Size; i++) rowOf[p.Offset + i] = at + i; at += p.Size; }
        return rowOf;
    }

    private static string WriteCore(string path, CompiledNetwork network, UnitSource? units, IReadOnlyList<StateMonitor> states, int batch, int first,
        double durationMs, double startMs, string configText, string status, string engine, DateTimeOffset? sessionStart)
    {
        string partial = path + ".partial";
        if (File.Exists(path)) File.Delete(path);
        string start = Iso(sessionStart ?? DateTimeOffset.Now);
        string ms(double v) => v.ToString("R", CultureInfo.InvariantCulture);

        var file = new H5File();
        Typed(file, "core", "NWBFile");
        file.Attributes["nwb_version"] = NwbVersion;
        file["file_create_date"] = new[] { Iso(DateTimeOffset.Now) };
        file["identifier"] = Guid.NewGuid().ToString();
        file["session_description"] = $"network '{network.Spec.Name}' simulated by sim {Hdf5Writer.SimVersion} ({engine} engine) from {ms(startMs)} ms to {ms(durationMs)} ms " +
            $"at dt {ms(network.DtMs)} ms, seed {network.Seed}, instances {first}..{first + batch - 1}; status: {status}";
        file["session_start_time"] = new H5Dataset(start);
        file["timestamps_reference_time"] = new H5Dataset(start);   // two H5Datasets: one assigned twice is written once and hard-linked

        var devices = new H5Group();
        var device = Typed(new H5Group(), "core", "Device");
        device.Attributes["description"] = $"sim {Hdf5Writer.SimVersion}, {engine} engine: a simulation, no recording hardware";
        device.Attributes["manufacturer"] = "sim (spiking-neural-network simulator)";
        devices["sim"] = device;
        var script = new H5Dataset(configText);
        script.Attributes["file_name"] = "config.yaml";
        file["general"] = new H5Group
        {
            ["devices"] = devices,
            ["source_script"] = script,
            ["notes"] = string.Join("\n", new[] { $"format: {Hdf5Writer.Format} companion (run.h5 holds rates and summary statistics)", $"sim_version: {Hdf5Writer.SimVersion}",
                $"network: {network.Spec.Name}", $"engine: {engine}", $"seed: {network.Seed}", $"dt_ms: {ms(network.DtMs)}", $"start_ms: {ms(startMs)}",
                $"duration_ms: {ms(durationMs)}", $"batch: {batch}", $"first_instance: {first}", $"status: {status}" }),
        };
        file["analysis"] = new H5Group();
        file["processing"] = new H5Group();
        file["stimulus"] = new H5Group { ["presentation"] = new H5Group(), ["templates"] = new H5Group() };

        var pending = new List<Action<H5NativeWriter>>();
        if (units is not null) file["units"] = UnitsTable(units, batch, first, pending);
        file["acquisition"] = Acquisition(network, states, batch, first);

        try
        {
            using (var writer = file.BeginWrite(partial))
                foreach (var fill in pending) fill(writer);
            File.Move(partial, path, overwrite: true);
        }
        catch (Exception e) when (e is not IOException)
        {
            throw new IOException($"writing '{partial}' failed; no '{Path.GetFileName(path)}' was produced: {e.Message}", e);
        }
        return path;
    }

    /// <summary>
    /// The Units table (a DynamicTable): rows ordered by instance, then global neuron id; spike_times (s) concatenated
    /// row by row, each row's times ascending; spike_times_index[r] = end of row r in spike_times.
    /// </summary>
    private static H5Group UnitsTable(UnitSource units, int batch, int first, List<Action<H5NativeWriter>> pending)
    {
        int perInstance = units.Populations.Sum(p => p.Size);
        int rows = checked(perInstance * batch);
        var counts = new long[batch];
        for (int b = 0; b < batch; b++) counts[b] = units.Count(b);
        long total = counts.Sum();

        var population = new string[rows];
        var neuronId = new int[rows];
        var globalId = new int[rows];
        var instance = new int[rows];
        int r = 0;
        for (int b = 0; b < batch; b++)
            foreach (var p in units.Populations)
                for (int i = 0; i < p.Size; i++, r++) { population[r] = p.Name; neuronId[r] = i; globalId[r] = p.Offset + i; instance[r] = first + b; }

        var table = Typed(new H5Group(), "core", "Units");
        table.Attributes["colnames"] = new[] { "spike_times", "population", "neuron_id", "global_id", "instance" };
        table.Attributes["description"] = "simulated neurons: one unit per neuron of each recorded population and each instance of the batch";
        table["id"] = Typed(new H5Dataset(Enumerable.Range(0, rows).Select(x => (long)x).ToArray()), "hdmf-common", "ElementIdentifiers");

        H5Dataset times, index;
        if (total == 0)
        {
            times = new H5Dataset(Array.Empty<double>());
            index = new H5Dataset(new ulong[rows]);
        }
        else
        {
            var t = new H5Dataset<double[]>(fileDims: [(ulong)total], chunks: [(uint)Math.Min(total, 1 << 16)]);
            var x = new H5Dataset<ulong[]>(fileDims: [(ulong)rows], chunks: [(uint)Math.Min(rows, 1 << 16)]);
            times = t; index = x;
            pending.Add(w =>
            {
                ulong at = 0;
                for (int b = 0; b < batch; b++)
                {
                    var end = new ulong[perInstance];
                    units.Visit(b, (row, _) => end[row]++);
                    var place = new long[perInstance];
                    ulong sum = 0;
                    for (int k = 0; k < perInstance; k++) { place[k] = (long)sum; sum += end[k]; end[k] = at + sum; }
                    if ((long)sum != counts[b]) throw new InvalidDataException($"instance {first + b}: {sum} spikes read back, {counts[b]} counted");
                    var ordered = new double[sum];
                    units.Visit(b, (row, seconds) => ordered[place[row]++] = seconds);   // stable: each row keeps time order
                    if (ordered.Length > 0) w.Write(t, ordered, new HyperslabSelection(0, (ulong)ordered.Length), new HyperslabSelection(at, (ulong)ordered.Length));
                    w.Write(x, end, new HyperslabSelection(0, (ulong)perInstance), new HyperslabSelection((ulong)b * (ulong)perInstance, (ulong)perInstance));
                    at += (ulong)ordered.Length;
                }
            });
        }
        Column(times, "spike times (s) of each unit, from the start of the simulation");
        if (units.ResolutionSeconds is { } dt) times.Attributes["resolution"] = dt;
        Typed(index, "hdmf-common", "VectorIndex");
        index.Attributes["description"] = "index into spike_times: row r holds spike_times[index[r-1]:index[r]]";
        index.Attributes["target"] = new H5ObjectReference(times);
        table["spike_times"] = times;
        table["spike_times_index"] = index;
        table["population"] = Column(new H5Dataset(population), "name of the unit's population");
        table["neuron_id"] = Column(new H5Dataset(neuronId), "population-local neuron index (run.h5 neuron_ids)");
        table["global_id"] = Column(new H5Dataset(globalId), "global neuron id (spikes.bin ids): population offset + neuron_id");
        table["instance"] = Column(new H5Dataset(instance), "instance of the batch the unit belongs to (run.h5 instance)");
        return table;
    }

    /// <summary>One TimeSeries per state monitor, variable and instance: data [samples, neurons] in the model's unit, timestamps (s).</summary>
    private static H5Group Acquisition(CompiledNetwork network, IReadOnlyList<StateMonitor> states, int batch, int first)
    {
        var acquisition = new H5Group();
        var clock = new TickSeconds(network.DtMs);
        var names = new HashSet<string>();
        foreach (var m in states)
        {
            string group = m.Population;
            for (int k = 2; !names.Add(group); k++) group = $"{m.Population}_{k}";   // as run.h5's /state/<population>_2
            var model = network.Population(m.Population).Model;
            string ids = string.Join(", ", m.Indices);
            for (int b = 0; b < batch; b++)
            {
                var seconds = m.SampleTicks(b).Select(t => clock.Seconds(t + 1)).ToArray();
                foreach (var v in m.Variables)
                {
                    var timestamps = new H5Dataset(seconds);   // one H5Dataset per series: a shared one would be hard-linked
                    timestamps.Attributes["interval"] = 1;
                    timestamps.Attributes["unit"] = "seconds";
                    var variable = model.StateVariables.First(s => s.Reported == v);
                    var (unit, conversion) = SiUnit(variable.Unit);
                    var data = new H5Dataset(m.Values(b, v));
                    data.Attributes["unit"] = unit;
                    data.Attributes["conversion"] = conversion;
                    data.Attributes["offset"] = 0.0;
                    data.Attributes["resolution"] = -1.0;
                    var series = Typed(new H5Group(), "core", "TimeSeries");
                    series.Attributes["description"] = $"{v} ({variable.Description}, {variable.Unit}) of population '{m.Population}' ({model.Name}), instance {first + b}, " +
                        $"sampled every {m.IntervalMs.ToString("R", CultureInfo.InvariantCulture)} ms";
                    series.Attributes["comments"] = $"columns: population-local neuron ids {ids}";
                    series["data"] = data;
                    series["timestamps"] = timestamps;
                    acquisition[$"{group}_{v}_instance{first + b}"] = series;
                }
            }
        }
        return acquisition;
    }

    /// <summary>NWB's unit text and the factor from the stored values to it (data stay in the model's unit, as in run.h5).</summary>
    private static (string Unit, double Conversion) SiUnit(string unit) => unit switch
    {
        "mV" => ("volts", 1e-3),
        "pA" => ("amperes", 1e-12),
        "nA" => ("amperes", 1e-9),
        "nS" => ("siemens", 1e-9),
        "ms" => ("seconds", 1e-3),
        "Hz" => ("hertz", 1.0),
        "1" => ("dimensionless", 1.0),
        _ => (unit, 1.0),
    };

    private static H5Dataset Column(H5Dataset column, string description)
    {
        Typed(column, "hdmf-common", "VectorData");
        column.Attributes["description"] = description;
        return column;
    }

    private static T Typed<T>(T obj, string ns, string type) where T : H5Object
    {
        obj.Attributes["namespace"] = ns;
        obj.Attributes["neurodata_type"] = type;
        obj.Attributes["object_id"] = Guid.NewGuid().ToString();
        return obj;
    }

    /// <summary>ISO 8601 extended with the local offset and milliseconds, e.g. 2026-12-04T10:11:12.123+01:00.</summary>
    private static string Iso(DateTimeOffset t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
}
