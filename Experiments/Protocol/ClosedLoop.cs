using Sim.EventCore.Engine;
using Sim.EventCore.Numerics;

namespace Sim.Experiments;

/// <summary>
/// An environment an agent acts in, closed loop (Gymnasium's <c>reset</c>/<c>step</c>): reset with a seed, observe, act,
/// get a reward and whether the episode is done. One object per simulated instance (episodes run side by side in a batch).
/// </summary>
public interface IEnvironment
{
    /// <summary>Length of an observation.</summary>
    int ObservationSize { get; }
    /// <summary>Length of an action.</summary>
    int ActionSize { get; }
    /// <summary>Starts episode <paramref name="episode"/>; everything random in it comes from (<paramref name="seed"/>, episode).</summary>
    void Reset(ulong seed, int episode);
    /// <summary>Writes the current observation.</summary>
    void Observe(Span<double> observation);
    /// <summary>Applies an action and advances one environment step.</summary>
    EnvironmentStep Act(ReadOnlySpan<double> action);
}

/// <summary>The outcome of one environment step.</summary>
/// <param name="Reward">The reward of the step.</param>
/// <param name="Done">True when the episode ended (the environment takes no more actions).</param>
public readonly record struct EnvironmentStep(double Reward, bool Done);

/// <summary>Turns an observation into the network's per-tick input (one object per instance; it may keep state).</summary>
public interface IObservationEncoder
{
    /// <summary>The populations whose per-tick input it writes.</summary>
    IReadOnlyList<string> Populations { get; }
    /// <summary>Start of an episode.</summary>
    void Reset() { }
    /// <summary>Writes the input of this tick for <paramref name="observation"/>.</summary>
    void Encode(ReadOnlySpan<double> observation, ITickInputs inputs);
}

/// <summary>Turns the network's activity into an action (one object per instance; it may keep state, e.g. filtered spikes).</summary>
public interface IActionDecoder
{
    /// <summary>Start of an episode.</summary>
    void Reset() { }
    /// <summary>Writes the action of this tick from its spikes (global ids, ascending) and state.</summary>
    void Decode(ReadOnlySpan<int> spikes, IStateReader state, Span<double> action);
}

/// <summary>
/// The agent–environment loop on the tick I/O hook: one episode per batch instance and trial; every tick, before the
/// network steps, the environment's observation is encoded into the network's input, and after the step the activity is
/// decoded into an action that steps the environment (one network step per environment step). After an episode is done
/// the environment is left alone and the input is held at zero. Metrics per trial and instance: <c>return</c> (sum of
/// rewards), <c>max_reward</c>, <c>steps</c>, <c>done</c> (1 or 0). Episodes belong to the instance, not to its
/// position in a batch: instance i's environment is reset with the seed (seed, <see cref="RngStreams.Episodes"/>, i)
/// and episode = trial, so an instance gives the same episodes in any batch split and at any instance offset.
/// </summary>
public sealed class ClosedLoopTask : ITrialTask, ITickIO
{
    private readonly Func<int, IEnvironment> _makeEnvironment;
    private readonly Func<int, IObservationEncoder> _makeEncoder;
    private readonly Func<int, IActionDecoder> _makeDecoder;
    private readonly ulong _seed;
    private readonly long _ticks;
    private IEnvironment[] _env = [];
    private IObservationEncoder[] _enc = [];
    private IActionDecoder[] _dec = [];
    private double[][] _obs = [], _act = [];
    private double[] _return = [], _max = [], _steps = [];
    private bool[] _done = [];
    private int _first;
    private int[][] _inputPopulations = [];   // per batch element: the indices of its encoder's populations

    /// <summary>A closed loop of episodes of at most <paramref name="maxSteps"/> steps.</summary>
    /// <param name="name">The task's name.</param>
    /// <param name="maxSteps">Ticks (= environment steps) per trial.</param>
    /// <param name="seed">Seed of the episodes.</param>
    /// <param name="environment">The environment of batch element b.</param>
    /// <param name="encoder">The encoder of batch element b.</param>
    /// <param name="decoder">The decoder of batch element b.</param>
    public ClosedLoopTask(string name, long maxSteps, ulong seed, Func<int, IEnvironment> environment, Func<int, IObservationEncoder> encoder,
        Func<int, IActionDecoder> decoder)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSteps);
        Name = name;
        _ticks = maxSteps;
        _seed = seed;
        _makeEnvironment = environment;
        _makeEncoder = encoder;
        _makeDecoder = decoder;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> InputPopulations => _enc.Length > 0 ? _enc[0].Populations : [];

    /// <inheritdoc/>
    public IReadOnlyList<TrialPhase> Phases(int trial) => [new("episode", _ticks)];

    /// <inheritdoc/>
    public void Attach(ISimulationEngine engine)
    {
        int b = engine.BatchSize;
        _first = engine.FirstInstance;
        _env = [.. Enumerable.Range(0, b).Select(_makeEnvironment)];
        _enc = [.. Enumerable.Range(0, b).Select(_makeEncoder)];
        _dec = [.. Enumerable.Range(0, b).Select(_makeDecoder)];
        _obs = [.. _env.Select(e => new double[e.ObservationSize])];
        _act = [.. _env.Select(e => new double[e.ActionSize])];
        _return = new double[b]; _max = new double[b]; _steps = new double[b]; _done = new bool[b];
        _inputPopulations = [.. _enc.Select(e => e.Populations.Select(name => engine.Network.Population(name).Index).ToArray())];
        engine.AddTickIO(this);
    }

    /// <inheritdoc/>
    public void BeginTrial(int trial)
    {
        for (int b = 0; b < _env.Length; b++)
        {
            _env[b].Reset(CounterRng.Key(_seed, RngStreams.Episodes, (ulong)(_first + b), 0), trial);
            _enc[b].Reset();
            _dec[b].Reset();
            _return[b] = 0; _max[b] = double.NegativeInfinity; _steps[b] = 0; _done[b] = false;
        }
    }

    /// <inheritdoc/>
    public void BeforeTick(int instance, long tick, ITickInputs inputs)
    {
        int b = instance - _first;
        if (_done[b])
        {
            // The episode is over: the input is held at zero (not the encoder's response to a zero observation).
            foreach (int p in _inputPopulations[b]) inputs.Current(p).Clear();
            return;
        }
        _env[b].Observe(_obs[b]);
        _enc[b].Encode(_obs[b], inputs);
    }

    /// <inheritdoc/>
    public void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state)
    {
        int b = instance - _first;
        _dec[b].Decode(spikes, state, _act[b]);
        if (_done[b]) return;
        var step = _env[b].Act(_act[b]);
        _return[b] += step.Reward;
        _max[b] = Math.Max(_max[b], step.Reward);
        _steps[b]++;
        _done[b] = step.Done;
    }

    /// <inheritdoc/>
    public TrialMetrics EndTrial(int trial) => new(trial, new Dictionary<string, double[]>
    {
        ["return"] = (double[])_return.Clone(), ["max_reward"] = (double[])_max.Clone(), ["steps"] = (double[])_steps.Clone(),
        ["done"] = [.. _done.Select(d => d ? 1.0 : 0.0)],
    });
}
