using Sim.EventCore.Engine;

namespace Sim.Specs.Reference;

/// <summary>Collects (tick, neuron) pairs per instance; safe for concurrent instances.</summary>
public sealed class SpikeRecorder : ISpikeSink
{
    private readonly Dictionary<int, List<(long Tick, int Neuron)>> _byInstance = [];

    public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
    {
        List<(long, int)> list;
        lock (_byInstance)
            if (!_byInstance.TryGetValue(instance, out list!)) _byInstance[instance] = list = [];
        foreach (int n in neurons) list.Add((tick, n));
    }

    public IReadOnlyList<(long Tick, int Neuron)> Of(int instance)
    {
        lock (_byInstance) return _byInstance.TryGetValue(instance, out var l) ? l : [];
    }

    public int Total { get { lock (_byInstance) return _byInstance.Values.Sum(l => l.Count); } }
}
