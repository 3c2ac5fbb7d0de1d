using PureHDF;
using Sim.Probes.Writers;

namespace Sim.Cli;

/// <summary>The spikes of one population read from a <c>run.h5</c> file (all instances).</summary>
/// <param name="Name">Population name.</param>
/// <param name="Size">Neurons.</param>
/// <param name="Offset">First global id.</param>
/// <param name="TimesMs">Spike times (ms).</param>
/// <param name="NeuronIds">Population-local ids.</param>
/// <param name="Instances">Instance of each spike.</param>
internal sealed record RunFilePopulation(string Name, int Size, int Offset, double[] TimesMs, int[] NeuronIds, int[] Instances)
{
    /// <summary>Spike times of every neuron of one instance, restricted to [<paramref name="fromMs"/>, <paramref name="untilMs"/>), ascending.</summary>
    public double[][] Trains(int instance, double fromMs, double untilMs)
    {
        var lists = new List<double>[Size];
        for (int i = 0; i < Size; i++) lists[i] = [];
        for (int k = 0; k < TimesMs.Length; k++)
            if (Instances[k] == instance && TimesMs[k] >= fromMs && TimesMs[k] < untilMs) lists[NeuronIds[k]].Add(TimesMs[k]);
        return [.. lists.Select(l => { var a = l.ToArray(); Array.Sort(a); return a; })];
    }

    /// <summary>Spike times and local ids of one instance (file order).</summary>
    public (double[] Times, int[] Ids) Of(int instance)
    {
        var t = new List<double>();
        var n = new List<int>();
        for (int k = 0; k < TimesMs.Length; k++)
            if (Instances[k] == instance) { t.Add(TimesMs[k]); n.Add(NeuronIds[k]); }
        return ([.. t], [.. n]);
    }
}

/// <summary>
/// A <c>run.h5</c> file written by <c>sim run</c> (layout: docs/output-format.md), read with PureHDF. It covers
/// [StartMs, DurationMs): StartMs is the checkpoint time of a resumed run (root attribute <c>start_ms</c>; 0 when absent).
/// </summary>
internal sealed record RunFile(string Path, string Network, string Engine, double DtMs, double DurationMs, int FirstInstance, int Batch, string Status,
    IReadOnlyList<RunFilePopulation> Populations, double StartMs = 0)
{
    /// <summary>
    /// What makes the values read unusable (found by fuzzing: a neuron id beyond its population crashed the
    /// statistics), or null: dt, start and duration finite with 0 ≤ start ≤ duration, a batch ≥ 1, and per population a
    /// size ≥ 1, datasets of one length, ids in [0, size), instances in the file's range, finite times.
    /// </summary>
    public string? Problem()
    {
        if (!(DtMs > 0 && double.IsFinite(DtMs))) return $"dt_ms is {DtMs}";
        if (!(StartMs >= 0 && StartMs <= DurationMs && double.IsFinite(DurationMs))) return $"start_ms {StartMs} and duration_ms {DurationMs} do not make an interval";
        if (Batch < 1 || FirstInstance < 0) return $"batch {Batch}, first_instance {FirstInstance}";
        foreach (var p in Populations)
        {
            if (p.Size < 1 || p.Offset < 0) return $"population '{p.Name}' has size {p.Size} and offset {p.Offset}";
            if (p.NeuronIds.Length != p.TimesMs.Length || p.Instances.Length != p.TimesMs.Length)
                return $"population '{p.Name}': {p.TimesMs.Length} times, {p.NeuronIds.Length} neuron ids, {p.Instances.Length} instances";
            for (int k = 0; k < p.TimesMs.Length; k++)
            {
                if ((uint)p.NeuronIds[k] >= (uint)p.Size) return $"population '{p.Name}': spike {k} has neuron id {p.NeuronIds[k]}, outside [0, {p.Size})";
                if (p.Instances[k] < FirstInstance || p.Instances[k] >= FirstInstance + (long)Batch) return $"population '{p.Name}': spike {k} has instance {p.Instances[k]}";
                if (!double.IsFinite(p.TimesMs[k])) return $"population '{p.Name}': spike {k} has time {p.TimesMs[k]}";
            }
        }
        return null;
    }

    /// <summary>
    /// Reads the file; a missing or unreadable file, or one that is not a sim run file, is a <see cref="UsageException"/>.
    /// PureHDF can loop for ever on some damaged files (a structure pointing back at itself; found by fuzzing), so the
    /// read runs on a worker with a deadline of 30 s plus 1 s per 20 MB of file and is abandoned after it.
    /// </summary>
    public static RunFile Read(string path)
    {
        if (Directory.Exists(path)) throw new UsageException($"'{path}' is a directory, not a run.h5 file");
        if (!File.Exists(path)) throw new UsageException($"'{path}' does not exist");
        var deadline = TimeSpan.FromSeconds(30 + new FileInfo(path).Length / 20e6);
        var read = Task.Factory.StartNew(() => ReadNow(path), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            if (!read.Wait(deadline))
                throw new UsageException($"'{path}': reading did not finish within {deadline.TotalSeconds:F0} s; the file is probably damaged");
            return read.Result;
        }
        catch (AggregateException e) when (e.InnerException is { } inner)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(inner).Throw();
            throw;
        }
    }

    private static RunFile ReadNow(string path)
    {
        try
        {
            using var file = H5File.OpenRead(path);
            string format = file.AttributeExists("format") ? file.Attribute("format").Read<string>() : "";
            if (format != Hdf5Writer.Format) throw new UsageException($"'{path}' is not a sim run file (root attribute format is '{format}', expected '{Hdf5Writer.Format}')");
            string engine = file.AttributeExists("engine") ? file.Attribute("engine").Read<string>() : "unknown";
            var pops = new List<RunFilePopulation>();
            var spikes = file.Group("spikes");
            foreach (var child in spikes.Children())
            {
                var g = spikes.Group(child.Name);
                pops.Add(new RunFilePopulation(child.Name, g.Attribute("size").Read<int>(), g.Attribute("offset").Read<int>(),
                    g.Dataset("times_ms").Read<double[]>(), g.Dataset("neuron_ids").Read<int[]>(), g.Dataset("instance").Read<int[]>()));
            }
            var run = new RunFile(path, file.Attribute("network").Read<string>(), engine, file.Attribute("dt_ms").Read<double>(),
                file.Attribute("duration_ms").Read<double>(), file.Attribute("first_instance").Read<int>(), file.Attribute("batch").Read<int>(),
                file.Attribute("status").Read<string>(), [.. pops.OrderBy(p => p.Offset)],
                file.AttributeExists("start_ms") ? file.Attribute("start_ms").Read<double>() : 0);
            if (run.Problem() is { } problem) throw new UsageException($"'{path}' is not a valid sim run file: {problem}");
            return run;
        }
        catch (UsageException) { throw; }
        catch (Exception e)
        {
            // OutOfMemoryException included: PureHDF allocates what a damaged length field says ("Array dimensions
            // exceeded supported range", found by fuzzing), which is the file's fault, not the machine's.
            throw new UsageException($"'{path}' is not a readable sim run file: {e.Message}");
        }
    }
}
