using Sim.EventCore.Compilation;

namespace Sim.EventCore.Precise;

/// <summary>
/// Per-neuron bookkeeping every precise model shares, by global neuron id: the time of the last update of the stored
/// state, the end of the refractory period, and the last spike time.
/// </summary>
internal sealed class PreciseClock(int neurons)
{
    /// <summary>Time (ms) the stored state of each neuron refers to.</summary>
    public readonly double[] LastUpdate = new double[neurons];
    /// <summary>End (ms) of each neuron's refractory period (−∞: none).</summary>
    public readonly double[] RefractoryEnd = Fill(neurons, double.NegativeInfinity);
    /// <summary>Last spike time (ms) of each neuron (−∞: none).</summary>
    public readonly double[] LastSpike = Fill(neurons, double.NegativeInfinity);

    private static double[] Fill(int n, double v) { var a = new double[n]; Array.Fill(a, v); return a; }

    /// <summary>At most one spike per neuron and time: with t_ref = 0 an immediate re-crossing fires one ulp later.</summary>
    public double AfterLastSpike(int i, double t) => t == LastSpike[i] ? Math.BitIncrement(t) : t;
}

/// <summary>When a neuron crosses threshold next, or a time before which it cannot (a lower bound to revisit).</summary>
/// <param name="Time">The crossing time or the bound (ms); +∞ for never.</param>
/// <param name="IsBound">True when <paramref name="Time"/> is only a lower bound of the crossing.</param>
internal readonly record struct Prediction(double Time, bool IsBound)
{
    /// <summary>No crossing without further input.</summary>
    public static readonly Prediction Never = new(double.PositiveInfinity, false);
}

/// <summary>
/// A model's exact propagator and crossing search for the precise engine (docs/precise-engine.md), over the neurons of one
/// population, addressed by global id. The engine owns the scheduling (queues, event order, spikes); the population owns
/// the closed-form subthreshold dynamics: propagate the stored state to a time, apply an arrival, predict the next
/// threshold crossing (or a lower bound of it), reset after a spike, and read the state at a time without changing it.
/// </summary>
internal abstract class PrecisePopulation(CompiledPopulation population, PreciseClock clock)
{
    /// <summary>The population.</summary>
    public readonly CompiledPopulation Population = population;
    /// <summary>First global id.</summary>
    public readonly int Offset = population.Offset;
    /// <summary>The shared per-neuron times.</summary>
    protected readonly PreciseClock Clock = clock;

    /// <summary>Root searches run so far (diagnostic).</summary>
    public long CrossingSearches { get; protected set; }

    /// <summary>True when the model's predictions may be lower bounds (<see cref="Resolve"/> then refines them).</summary>
    public virtual bool Bounds => false;

    /// <summary>Advances neuron i's stored state to time t (≥ its last update) in closed form.</summary>
    public abstract void Propagate(int i, double t);

    /// <summary>
    /// A synaptic arrival of grid weight <paramref name="q"/> at neuron i at time t: the stored state is propagated to t
    /// (as <see cref="Propagate"/>), then the arrival applied. One call per arrival, the engine's hottest path.
    /// </summary>
    public abstract void Arrive(int i, int q, double t);

    /// <summary>True for models whose arrivals make the membrane jump (then <see cref="CrossedByJump"/> is asked after the arrivals of a time).</summary>
    public bool Jumps { get; protected init; }

    /// <summary>True when the arrivals of time t put neuron i above threshold at once (a jump; models with continuous membranes never).</summary>
    public virtual bool CrossedByJump(int i, double t) => false;

    /// <summary>Neuron i spikes at t: reset and refractoriness (the engine records the spike).</summary>
    public abstract void Reset(int i, double t);

    /// <summary>The next crossing of neuron i from its stored state, or a lower bound of it.</summary>
    public abstract Prediction Predict(int i);

    /// <summary>A lower bound that came due at t without any event touching neuron i: the next bound, or the crossing.</summary>
    public virtual Prediction Resolve(int i, double t) => Predict(i);

    /// <summary>Stored variable <paramref name="variable"/> of neuron i in absolute units at time t (≥ its last update), the state unchanged.</summary>
    public abstract double Read(int i, int variable, double t);
}
