using System.Text;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Probes.Analysis;
using Sim.Probes.Spikes;

namespace Sim.Fuzz;

/// <summary>
/// What a fuzzed input goes through, and which outcomes are clean (docs/reliability.md, "Fuzzing"): a network file is
/// parsed, validated, compiled and run for a few ticks under a small memory limit, and may only fail with
/// <see cref="SpecException"/> (file, line and field); a checkpoint is read, restored into an engine and run, and may
/// only fail with <see cref="InvalidDataException"/>; a spike stream is read and summarised, and may only fail with
/// <see cref="InvalidDataException"/>. Anything else escapes as a crash. The test suite replays the corpus through
/// the same functions.
/// </summary>
public static class FuzzTargets
{
    /// <summary>The targets by name.</summary>
    public static readonly IReadOnlyDictionary<string, Func<byte[], string>> All = new Dictionary<string, Func<byte[], string>>
    {
        ["network"] = Network,
        ["checkpoint"] = Checkpoint,
        ["spikes"] = SpikeStream,
        ["hdf5"] = RunFile,
    };

    /// <summary>Memory limit of a fuzzed network (compile and state): small, so that every input runs in milliseconds.</summary>
    public const long MemoryLimitBytes = 8L << 20;

    /// <summary>Ticks a valid fuzzed network is run for.</summary>
    public const int Ticks = 5;

    /// <summary>A network file: "ok" or the class of the refusal (its first error's field, indices removed).</summary>
    public static string Network(byte[] input)
    {
        string text = Encoding.UTF8.GetString(input);
        try
        {
            var spec = NetworkFile.Parse(text, "fuzz.yaml");
            var net = NetworkCompiler.Compile(spec, MemoryLimitBytes);
            using var engine = new EventEngine(net, new EngineOptions { Threads = 1, MemoryBudgetBytes = MemoryLimitBytes });
            engine.Run(Math.Min(Ticks, net.DurationTicks));
            return "ok";
        }
        catch (SpecException e)
        {
            return "refused " + Class(e.Errors.Count > 0 ? e.Errors[0].Field : "");
        }
    }

    /// <summary>The network the checkpoint seeds belong to (small, with delays, Poisson input and two populations).</summary>
    public const string CheckpointNetwork = """
        name: ckpt
        run: {dt_ms: 0.1, duration_ms: 50, seed: 4}
        populations:
          - name: exc
            size: 40
            model: lif_exp
            params: {tau_mem_ms: 20, tau_exc_ms: 5, tau_inh_ms: 10, e_leak_mv: -45, v_threshold_mv: -50, v_reset_mv: -60,
                     refractory_ms: 2, v_init_mv: {uniform: [-60, -50]}}
          - {name: d, size: 10, model: lif_delta}
        inputs:
          - {name: drive, kind: poisson, size: 5, rate_hz: 200}
        projections:
          - {source: exc, target: exc, connectivity: {rule: fixed_probability, p: 0.2}, weight: 0.5, delay_ms: {uniform: [0.1, 1.0]}}
          - {source: drive, target: exc, connectivity: {rule: fixed_in_degree, k: 2}, weight: 3.0}
          - {source: exc, target: d, connectivity: all_to_all, weight: 0.2, delay_ms: 0.3}
        """;

    private static readonly Lazy<CompiledNetwork> CheckpointNet = new(() => NetworkCompiler.Compile(NetworkFile.Parse(CheckpointNetwork, "ckpt.yaml")));

    /// <summary>A checkpoint seed: the state of <see cref="CheckpointNetwork"/> after <paramref name="ticks"/> ticks.</summary>
    public static byte[] CheckpointSeed(int ticks)
    {
        using var e = new EventEngine(CheckpointNet.Value, new EngineOptions { Threads = 1 });
        e.Run(ticks);
        return e.SaveCheckpoint().Serialize();
    }

    /// <summary>A checkpoint: "ok" (restored and ran) or the class of the refusal.</summary>
    public static string Checkpoint(byte[] input)
    {
        try
        {
            var c = Sim.EventCore.Engine.Checkpoint.Parse(input, "fuzz.ckpt");
            using var e = new EventEngine(CheckpointNet.Value, new EngineOptions { Threads = 1 });
            e.Restore(c);
            e.Run(Ticks);
            return "ok";
        }
        catch (InvalidDataException e)
        {
            return "refused " + Class(e.Message);
        }
    }

    /// <summary>A spike stream seed: the stream of <see cref="CheckpointNetwork"/> over <paramref name="ticks"/> ticks.</summary>
    public static byte[] SpikeStreamSeed(int ticks)
    {
        string path = Path.Combine(Path.GetTempPath(), $"sim-fuzz-seed-{Environment.ProcessId}-{ticks}.bin");
        using (var e = new EventEngine(CheckpointNet.Value, new EngineOptions { Threads = 1 }))
        using (var m = new SpikeMonitor(CheckpointNet.Value, null, 1, 0, new SpikeMonitorOptions { StreamPath = path, ChunkEntries = 64 }))
        {
            e.AddSpikeSink(m);
            e.Run(ticks);
            m.Flush();
        }
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    /// <summary>A spike stream: "ok" (read and summarised) or the class of the refusal.</summary>
    public static string SpikeStream(byte[] input)
    {
        try
        {
            using var reader = new SpikeStreamReader(new MemoryStream(input, writable: false), "fuzz.bin");
            int instances = Math.Min(reader.Header.BatchSize, 4);
            for (int b = 0; b < instances; b++)
                SpikeStatistics.FromReader(reader, "fuzz.bin", reader.Header.FirstInstance + b, 10.0, memoryBudgetBytes: MemoryLimitBytes);
            return "ok";
        }
        catch (InvalidDataException e)
        {
            return "refused " + Class(e.Message);
        }
    }

    /// <summary>A run.h5 seed: the output of <c>sim run</c> on <see cref="CheckpointNetwork"/> for <paramref name="durationMs"/>.</summary>
    public static byte[] RunFileSeed(double durationMs)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"sim-fuzz-h5-{Environment.ProcessId}-{durationMs}");
        string net = Path.Combine(dir, "net.yaml");
        Directory.CreateDirectory(dir);
        File.WriteAllText(net, CheckpointNetwork + "\nmonitors:\n  - {kind: spikes, populations: [exc, d]}\n  - {kind: rate, population: exc, bin_ms: 2}\n");
        var err = new StringWriter();
        int code = Sim.Cli.CommandLine.Run(["run", net, "--duration-ms", durationMs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-plot", "--no-progress", "--out", dir], TextWriter.Null, err);
        if (code != 0) throw new InvalidOperationException($"seed run failed: {err}");
        var bytes = File.ReadAllBytes(Directory.GetFiles(dir, "run.h5", SearchOption.AllDirectories).Single());
        Directory.Delete(dir, true);
        return bytes;
    }

    /// <summary>
    /// A run.h5 file through <c>sim analyze</c> (PureHDF and Sim's reader): "ok", or the class of its usage error;
    /// an internal error (an exception the reader did not expect) is a crash.
    /// </summary>
    public static string RunFile(byte[] input)
    {
        string path = Path.Combine(Path.GetTempPath(), $"sim-fuzz-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.h5");
        File.WriteAllBytes(path, input);
        try
        {
            var output = new StringWriter();
            var err = new StringWriter();
            int code = Sim.Cli.CommandLine.Run(["analyze", path], output, err);
            string e = err.ToString();
            if (e.Contains(Sim.Cli.CommandLine.InternalError, StringComparison.Ordinal)) throw new InvalidOperationException("sim analyze: " + e);
            return code == 0 ? "ok" : "refused " + Class(e.Replace(path, "", StringComparison.Ordinal));
        }
        finally { File.Delete(path); }
    }

    /// <summary>A message or field without its numbers: the outcome class counted as "distinct outcomes".</summary>
    private static string Class(string text)
    {
        var sb = new StringBuilder();
        foreach (char ch in text.Length > 60 ? text[..60] : text) if (!char.IsDigit(ch)) sb.Append(ch);
        return sb.ToString();
    }
}
