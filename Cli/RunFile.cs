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
    /// <summary>Reads the file; a missing or unreadable file, or one that is not a sim run file, is a <see cref="UsageException"/>.</summary>
    public static RunFile Read(string path)
    {
        if (Directory.Exists(path)) throw new UsageException($"'{path}' is a directory, not a run.h5 file");
        if (!File.Exists(path)) throw new UsageException($"'{path}' does not exist");
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
            return new RunFile(path, file.Attribute("network").Read<string>(), engine, file.Attribute("dt_ms").Read<double>(),
                file.Attribute("duration_ms").Read<double>(), file.Attribute("first_instance").Read<int>(), file.Attribute("batch").Read<int>(),
                file.Attribute("status").Read<string>(), [.. pops.OrderBy(p => p.Offset)],
                file.AttributeExists("start_ms") ? file.Attribute("start_ms").Read<double>() : 0);
        }
        catch (UsageException) { throw; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new UsageException($"'{path}' is not a readable sim run file: {e.Message}");
        }
    }
}
