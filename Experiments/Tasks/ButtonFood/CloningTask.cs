using Sim.EventCore.Engine;
using Sim.Plasticity;

namespace Sim.Experiments;

/// <summary>
/// The open-loop trials of behavioural cloning (docs/tasks/button_food.md): every trial replays one demonstration's input
/// currents J_in·φ(observation[t]) into the recurrent population, one per batch instance and tick, and
/// <list type="bullet">
/// <item>in <see cref="CloningMode.Clone"/>: sets each instance's rank-R learner to the demonstration's filtered target
/// spikes and, when clamping, clamps the instance's R learning neurons to their target spikes (the rule compares their own
/// prediction Θ(v) with the target); the demonstration of trial k is <c>order(k / A)[k % A]</c> (A demonstrations);</item>
/// <item>in <see cref="CloningMode.Free"/>: no clamp and no learning; trial k replays demonstration k and records the
/// spikes (for the readout).</item>
/// </list>
/// Metric per trial and instance: <c>delta_s</c> = Σ_t Σ_i |z*_i[t] − Θ(v_i[t])| (the free prediction against the
/// target spikes), <c>demonstration</c>.
/// </summary>
internal sealed class CloningTask(ButtonFood.Demonstration[] demos, double[][][] targetSpikes, double[][][] targetTraces, int[] clampedNeurons,
    Func<int, int[]> order, RankRRule rule) : ITrialTask, ITickIO
{
    private int _first, _demo;
    private double[] _deltaS = [];
    private StateHandle _v;
    private SpikeRaster? _raster;

    public CloningMode Mode { get; set; } = CloningMode.Clone;

    /// <summary>The spikes of the last free trial, per batch element: [t][i].</summary>
    public double[][] FreeSpikes(int batchIndex) => _raster!.Z[batchIndex];

    public string Name => "button-food cloning";
    public IReadOnlyList<string> InputPopulations => [ButtonFood.Pop];
    public IReadOnlyList<string> ClampedPopulations => clampedNeurons.Any(r => r > 0) ? [ButtonFood.Pop] : [];
    public IReadOnlyList<TrialPhase> Phases(int trial) => [new("trajectory", targetSpikes[0].Length)];

    public void Attach(ISimulationEngine engine)
    {
        _first = engine.FirstInstance;
        _deltaS = new double[engine.BatchSize];
        _raster = new SpikeRaster(targetSpikes[0].Length, targetSpikes[0][0].Length, engine.Network.Population(ButtonFood.Pop).Offset, engine.BatchSize) { FirstInstance = _first };
        engine.AddSpikeSink(_raster);
        engine.AddTickIO(this);
    }

    public void BeginTrial(int trial)
    {
        _demo = Mode == CloningMode.Clone ? order(trial / demos.Length)[trial % demos.Length] : trial;
        Array.Clear(_deltaS);
        _raster!.Clear();
        foreach (var learner in rule.Instances)
        {
            learner.Target = targetTraces[_demo];
            learner.Learning = Mode == CloningMode.Clone;
        }
    }

    public void BeforeTick(int instance, long tick, ITickInputs inputs)
    {
        demos[_demo].InputCurrents[tick].CopyTo(inputs.Current(0));
        int r = clampedNeurons[instance - _first];
        if (Mode == CloningMode.Clone && r > 0) targetSpikes[_demo][tick].AsSpan(0, r).CopyTo(inputs.Clamp(0));
    }

    public void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state)
    {
        if (tick == 0) _v = state.Resolve(0, "v");
        var target = targetSpikes[_demo][tick];
        double ds = 0;
        for (int i = 0; i < target.Length; i++) ds += Math.Abs(target[i] - (state.Read(_v, i) > 0 ? 1.0 : 0.0));
        _deltaS[instance - _first] += ds;
    }

    public TrialMetrics EndTrial(int trial) => new(trial, new Dictionary<string, double[]>
    {
        ["delta_s"] = (double[])_deltaS.Clone(), ["demonstration"] = [.. _deltaS.Select(_ => (double)_demo)],
    });
}

/// <summary>What the trials of <see cref="CloningTask"/> do.</summary>
internal enum CloningMode
{
    /// <summary>Learn (rank-R rule, clamp).</summary>
    Clone,
    /// <summary>Replay without clamp or learning, recording the spikes.</summary>
    Free,
}
