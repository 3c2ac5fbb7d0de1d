using Sim.EventCore.Engine;
using Sim.Plasticity;

namespace Sim.Experiments;

/// <summary>
/// The store-and-recall task on the <see cref="TrialProtocol"/>: one trial is one learning epoch of T ticks from the
/// initial state. A spike sink records, per batch instance, the network's spikes z[t] and the rule's filtered spikes
/// ŝ[t] (updated in the Plasticity phase, which every engine runs before its sinks); at the end of the trial the metrics
/// are <c>mse</c> = mean over t, k of (y*[t][k] − (W_out·ŝ[t])_k)² and <c>delta_s</c> = ΔS = Σ_{t,i} |z*_i[t] − z_i[t]|.
/// </summary>
internal sealed class StoreRecallTask : ITrialTask, ISpikeSink
{
    /// <summary>The metric names.</summary>
    public const string MseMetric = "mse", SpikeErrorMetric = "delta_s";

    private readonly StoreRecall.Setup[] _setups;
    private readonly RankRRule _rule;
    private readonly SpikeRaster _raster;
    private readonly double[][][] _trace;   // [instance][tick][neuron]
    private readonly int _steps, _neurons;

    public StoreRecallTask(StoreRecall.Setup[] setups, RankRRule rule)
    {
        _setups = setups;
        _rule = rule;
        var o = setups[0].Task.Options;
        _steps = o.Steps;
        _neurons = o.Neurons;
        _raster = new SpikeRaster(_steps, _neurons, 0, setups.Length);
        _trace = [.. setups.Select(_ => Enumerable.Range(0, _steps).Select(_ => new double[_neurons]).ToArray())];
    }

    public string Name => "store-recall";

    /// <summary>ŝ[t] of batch element <paramref name="k"/> in the last trial.</summary>
    public double[][] Trace(int k) => _trace[k];

    public IReadOnlyList<TrialPhase> Phases(int trial) => [new("epoch", _steps)];

    public void Attach(ISimulationEngine engine)
    {
        _raster.Offset = engine.Network.Population(StoreRecall.Pop).Offset;
        _raster.FirstInstance = engine.FirstInstance;
        engine.AddSpikeSink(this);
    }

    public void BeginTrial(int trial)
    {
        _raster.Clear();
        foreach (var instance in _trace) foreach (var row in instance) Array.Clear(row);
    }

    public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
    {
        _raster.OnSpikes(instance, tick, neurons);
        int b = instance - _raster.FirstInstance;
        if (tick < _steps) _rule.Instances[b].Core.Filter.Value.CopyTo(_trace[b][tick]);
    }

    public TrialMetrics EndTrial(int trial)
    {
        var mse = new double[_setups.Length];
        var ds = new double[_setups.Length];
        for (int k = 0; k < _setups.Length; k++)
        {
            var s = _setups[k];
            mse[k] = s.Task.Mse(s.WOut, _trace[k]);
            double d = 0;
            var z = _raster.Z[k];
            for (int t = 0; t < _steps; t++)
                for (int i = 0; i < _neurons; i++) d += Math.Abs(s.ZStar[t][i] - z[t][i]);
            ds[k] = d;
        }
        return new TrialMetrics(trial, new Dictionary<string, double[]> { [MseMetric] = mse, [SpikeErrorMetric] = ds });
    }
}

/// <summary>A raster z[instance][tick][neuron] (0/1) of one population's spikes over one trial.</summary>
internal sealed class SpikeRaster(int steps, int n, int offset, int instances = 1) : ISpikeSink
{
    public readonly double[][][] Z = [.. Enumerable.Range(0, instances).Select(_ => Enumerable.Range(0, steps).Select(_ => new double[n]).ToArray())];

    /// <summary>Global id of the population's first neuron.</summary>
    public int Offset { get; set; } = offset;
    /// <summary>Instance index of batch element 0.</summary>
    public int FirstInstance { get; set; }

    public void Clear() { foreach (var inst in Z) foreach (var r in inst) Array.Clear(r); }

    public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
    {
        if (tick >= steps) return;
        var row = Z[instance - FirstInstance][tick];
        foreach (int g in neurons) if (g >= Offset && g < Offset + n) row[g - Offset] = 1.0;
    }
}
