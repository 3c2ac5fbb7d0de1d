using BenchmarkDotNet.Attributes;
using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;
using Sim.Experiments;

namespace Sim.Bench;

/// <summary>
/// The per-tick cost of a closed loop next to the engine step, on the Button &amp; Food network (N = 300 GoalLif,
/// all-to-all J_rec, docs/tasks/button_food.md): the environment's observe + act, the Gaussian population encoder
/// (80 features, then the 300×80 input current), the filtered-spike readout (2×300), and a whole closed-loop episode
/// of 80 ticks against 80 engine ticks with a held input.
/// </summary>
[MemoryDiagnoser]
public class ClosedLoopTick
{
    private ButtonFoodEnvironment _env = null!;
    private GaussianPopulationEncoder _encoder = null!;
    private FilteredSpikeReadout _readout = null!;
    private EventEngine _loopEngine = null!, _plainEngine = null!;
    private ClosedLoopTask _task = null!;
    private readonly double[] _obs = new double[4], _action = new double[2], _current = new double[300];
    private readonly int[] _spikes = [3, 17, 40, 41, 99, 150, 151, 200, 260, 299];
    private Inputs _inputs = null!;
    private int _trial;

    private sealed class Inputs(double[] current) : ITickInputs
    {
        public Span<double> Current(int population) => current;
    }

    /// <summary>The network, codecs and environment of seed 1.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var bf = new ButtonFood(new ButtonFoodOptions());
        var w = bf.InitialRecurrentWeights();
        var net = NetworkCompiler.Compile(bf.BuildNetwork(w, 1));
        var code = new GaussianPopulationCode(4);
        var readout = Enumerable.Range(0, 600).Select(k => (k % 11 - 5) * 0.3).ToArray();
        _env = new ButtonFoodEnvironment(new ButtonFoodGeometry(), 1.3);
        _encoder = new GaussianPopulationEncoder(net, ButtonFood.Pop, code, bf.InputWeights);
        _readout = new FilteredSpikeReadout(net, ButtonFood.Pop, 10, readout);
        _inputs = new Inputs(_current);
        _loopEngine = new EventEngine(net, new EngineOptions { Threads = 1 });
        _task = new ClosedLoopTask("bf", 80, 1, _ => new ButtonFoodEnvironment(new ButtonFoodGeometry(), 1.3),
            _ => new GaussianPopulationEncoder(net, ButtonFood.Pop, code, bf.InputWeights), _ => new FilteredSpikeReadout(net, ButtonFood.Pop, 10, readout));
        _ = new TrialProtocol(_loopEngine, _task);
        _plainEngine = new EventEngine(net, new EngineOptions { Threads = 1 });
        _plainEngine.AddTickIO(new Held());
    }

    private sealed class Held : ITickIO
    {
        public IReadOnlyList<string> InputPopulations => [ButtonFood.Pop];
        public void BeforeTick(int instance, long tick, ITickInputs inputs) { if (tick == 0) inputs.Current(0).Fill(2.0); }
        public void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state) { }
    }

    /// <summary>Disposes the engines.</summary>
    [GlobalCleanup]
    public void Cleanup() { _loopEngine.Dispose(); _plainEngine.Dispose(); }

    /// <summary>Observe and act once (reset at the end of an episode).</summary>
    [Benchmark]
    public double Environment()
    {
        if (_env.StepsTaken == 80) _env.Reset(0, 0);
        _env.Observe(_obs);
        return _env.Act([0.1, -0.3]).Reward;
    }

    /// <summary>Gaussian code of the 4 observation values and the 300×80 input current.</summary>
    [Benchmark]
    public double Encode()
    {
        _obs[0] = 0.3; _obs[1] = 0.5; _obs[2] = -0.1; _obs[3] = -0.2;
        _encoder.Encode(_obs, _inputs);
        return _current[7];
    }

    /// <summary>Filter 300 spike traces and form the 2 action values.</summary>
    [Benchmark]
    public double Decode()
    {
        _readout.Decode(_spikes, null!, _action);
        return _action[0];
    }

    /// <summary>A closed-loop episode of 80 ticks (encoder, engine step, readout, environment per tick).</summary>
    [Benchmark]
    public long Episode()
    {
        _loopEngine.ResetState();
        _task.BeginTrial(_trial++);
        return _loopEngine.Run(80).TicksRun;
    }

    /// <summary>80 engine ticks with a held input (the engine's share of <see cref="Episode"/>).</summary>
    [Benchmark(Baseline = true)]
    public long EngineOnly()
    {
        _plainEngine.ResetState();
        return _plainEngine.Run(80).TicksRun;
    }
}
