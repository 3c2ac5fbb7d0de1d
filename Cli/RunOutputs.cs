using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;

namespace Sim.Cli;

/// <summary>What a finished run reports.</summary>
public sealed record RunSummary(long TotalSpikes, IReadOnlyList<(string Population, double RateHz)> RatesHz, double MeanRateHz, IReadOnlyList<string> Files);

/// <summary>The monitors of a run and the files they end in.</summary>
internal sealed class RunOutputs : ISpikeSink
{
    private readonly CompiledNetwork _net;
    private readonly EventEngine _engine;
    private readonly string _dir;
    private readonly NetworkSpec _spec;
    private readonly long[] _counts;

    public RunOutputs(CompiledNetwork net, EventEngine engine, string dir, NetworkSpec spec)
    {
        _net = net; _engine = engine; _dir = dir; _spec = spec;
        _counts = new long[net.Populations.Length];
        engine.AddSpikeSink(this);
    }

    public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
    {
        lock (_counts) foreach (int n in neurons) _counts[_net.PopulationOf(n)]++;
    }

    public RunSummary Finish(string status, double wallSeconds, bool plot)
    {
        _ = status; _ = wallSeconds; _ = plot; _ = _dir; _ = _spec;
        double seconds = Math.Max(1e-12, _engine.TimeMs / 1000.0) * _engine.BatchSize;
        var rates = _net.Populations.Select(p => (p.Name, _counts[p.Index] / (p.Size * seconds))).ToList();
        long total = _counts.Sum();
        return new RunSummary(total, rates, total / (_net.NeuronCount * seconds), []);
    }
}
