using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;

namespace Sim.Specs.Probes;

/// <summary>A plain sink that copies every spike it sees (the reference for the monitors).</summary>
internal sealed class CollectingSink(int batchSize, int firstInstance) : ISpikeSink
{
    public readonly List<(long Tick, int Neuron)>[] Spikes = [.. Enumerable.Range(0, batchSize).Select(_ => new List<(long, int)>())];

    public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
    {
        var list = Spikes[instance - firstInstance];
        foreach (int n in neurons) list.Add((tick, n));
    }
}

internal static class ProbeTestSupport
{
    public static CompiledNetwork SmallCuba(double durationMs = 200) => NetworkCompiler.Compile(BenchmarkNetworks.Cuba(durationMs, seed: 1, scale: 0.25));

    public static EventEngine Engine(CompiledNetwork net, int batch = 1, int threads = 1)
        => new(net, new EngineOptions { Batch = batch, Threads = threads });

    /// <summary>A fresh temporary directory, deleted on dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("sim-probes-").FullName;
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}
