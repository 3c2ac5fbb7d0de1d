using Sim.EventCore.Compilation;

namespace Sim.EventCore.Engine;

/// <summary>
/// What every grid engine offers (EventEngine on the CPU, the dense TorchSharp engine on cpu or cuda): the same
/// network, hooks, checkpoints and results bit for bit (docs/numerics.md).
/// </summary>
public interface ISimulationEngine : IDisposable
{
    /// <summary>The compiled network.</summary>
    CompiledNetwork Network { get; }
    /// <summary>Number of instances.</summary>
    int BatchSize { get; }
    /// <summary>Instance index of batch element 0.</summary>
    int FirstInstance { get; }
    /// <summary>The next tick to run.</summary>
    long Tick { get; }
    /// <summary>Simulated time (ms).</summary>
    double TimeMs { get; }
    /// <summary>Wall time per phase (an engine may fold phases it cannot separate into Integrate).</summary>
    PhaseTimings Timings { get; }
    /// <summary>A short name for reports, e.g. "event" or "dense (cuda)".</summary>
    string EngineName { get; }
    /// <summary>Adds a spike sink.</summary>
    void AddSpikeSink(ISpikeSink sink);
    /// <summary>Adds a step observer.</summary>
    void AddObserver(IStepObserver observer);
    /// <summary>Adds a run guard.</summary>
    void AddGuard(IRunGuard guard);
    /// <summary>Adds a per-tick I/O hook (inputs before each tick, outputs after it).</summary>
    void AddTickIO(ITickIO io);
    /// <summary>
    /// Adds a plasticity rule (<see cref="Plasticity.IPlasticityRule"/>): it binds once, and every instance gets its own
    /// rule instance and its own copy of the plastic weights, so a batch of B plastic instances equals B single runs.
    /// Called in the Plasticity phase of every tick (after Threshold and Emit, before the sinks and observers); the
    /// weights it writes act from the next tick.
    /// </summary>
    void AddPlasticityRule(Plasticity.IPlasticityRule rule);
    /// <summary>
    /// Sets every instance back to its initial state at tick 0 (as after construction), keeping the current weights
    /// (plastic ones included), and tells the rules a trial starts: the start of a new trial or epoch of a protocol.
    /// </summary>
    void ResetState();
    /// <summary>End of a trial: every rule's per-trial update point, in every instance.</summary>
    void EndTrial();
    /// <summary>End of phase <paramref name="phase"/> of a trial (e.g. free, clamped): every rule's per-phase update point.</summary>
    void EndPhase(int phase);
    /// <summary>
    /// The weights of projection <paramref name="projection"/> in batch element <paramref name="batchIndex"/>, in its
    /// projection-local order (<see cref="Plasticity.PlasticProjection"/>): the instance's plastic weights, or the compiled ones.
    /// </summary>
    double[] GetWeights(int batchIndex, string projection);
    /// <summary>Runs ticks; stops early on cancellation (at a clean tick boundary) or when a guard says so.</summary>
    RunResult Run(long ticks, CancellationToken cancellationToken = default);
    /// <summary>A copy of a state variable (absolute units) of a population in one batch element.</summary>
    double[] GetVariable(int batchIndex, string population, string variable);
    /// <summary>The full state (resumable on any engine).</summary>
    Checkpoint SaveCheckpoint();
    /// <summary>Resumes from a checkpoint of the same network and batch.</summary>
    void Restore(Checkpoint checkpoint);
}
