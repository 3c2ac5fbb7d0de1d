using Sim.EventCore.Compilation;
using Sim.EventCore.Precise;

namespace Sim.Probes.Spikes;

/// <summary>
/// Records the continuous-time spikes of <see cref="PreciseEngine"/> runs (<see cref="IPreciseSpikeSink"/>) for chosen
/// populations and a range of instances <c>FirstInstance … FirstInstance + BatchSize − 1</c> (one engine per instance),
/// in memory. Times are kept as the engine reports them (doubles, not on a grid); within one instance the spikes stay in
/// emission order (time ascending, then neuron id).
/// </summary>
public sealed class PreciseSpikeMonitor : IPreciseSpikeSink
{
    private readonly int[] _recordedOf;
    private readonly List<double>[][] _times;
    private readonly List<int>[][] _ids;

    /// <summary>Creates a monitor.</summary>
    /// <param name="network">The network.</param>
    /// <param name="populations">Recorded populations (null: all of them).</param>
    /// <param name="batchSize">Number of instances.</param>
    /// <param name="firstInstance">Global index of the first instance.</param>
    public PreciseSpikeMonitor(CompiledNetwork network, IEnumerable<string>? populations = null, int batchSize = 1, int firstInstance = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        Network = network;
        BatchSize = batchSize;
        FirstInstance = firstInstance;
        var names = populations?.ToHashSet();
        Populations = [.. network.Populations.Where(p => names is null || names.Contains(p.Name))];
        if (names is not null)
            foreach (var n in names)
                if (!Populations.Any(p => p.Name == n)) throw new ArgumentException($"no population named '{n}'", nameof(populations));
        _recordedOf = new int[network.NeuronCount];
        Array.Fill(_recordedOf, -1);
        for (int r = 0; r < Populations.Count; r++) Array.Fill(_recordedOf, r, Populations[r].Offset, Populations[r].Size);
        _times = new List<double>[batchSize][];
        _ids = new List<int>[batchSize][];
        for (int b = 0; b < batchSize; b++)
        {
            _times[b] = [.. Populations.Select(_ => new List<double>())];
            _ids[b] = [.. Populations.Select(_ => new List<int>())];
        }
    }

    /// <summary>The network.</summary>
    public CompiledNetwork Network { get; }
    /// <summary>Recorded populations, in network order.</summary>
    public IReadOnlyList<CompiledPopulation> Populations { get; }
    /// <summary>Number of instances.</summary>
    public int BatchSize { get; }
    /// <summary>Global index of the first instance.</summary>
    public int FirstInstance { get; }

    /// <inheritdoc/>
    public void OnSpike(int instance, double timeMs, int neuron)
    {
        int b = instance - FirstInstance;
        if ((uint)b >= (uint)BatchSize) throw new ArgumentOutOfRangeException(nameof(instance), $"instance {instance} is outside {FirstInstance}..{FirstInstance + BatchSize - 1}");
        int r = _recordedOf[neuron];
        if (r < 0) return;
        _times[b][r].Add(timeMs);
        _ids[b][r].Add(neuron - Populations[r].Offset);
    }

    /// <summary>Spikes recorded so far of one population in batch element <paramref name="batchIndex"/>.</summary>
    public long SpikeCount(int batchIndex, string population) => _times[batchIndex][RecordedIndex(population)].Count;

    /// <summary>The spikes of one population in batch element <paramref name="batchIndex"/> (population-local ids).</summary>
    public PopulationSpikes GetSpikes(int batchIndex, string population)
    {
        int r = RecordedIndex(population);
        var p = Populations[r];
        return new PopulationSpikes(p.Name, p.Size, FirstInstance + batchIndex, [.. _times[batchIndex][r]], [.. _ids[batchIndex][r]]);
    }

    private int RecordedIndex(string population)
    {
        for (int r = 0; r < Populations.Count; r++) if (Populations[r].Name == population) return r;
        throw new ArgumentException($"population '{population}' is not recorded", nameof(population));
    }
}
