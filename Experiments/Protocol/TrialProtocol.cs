using Sim.EventCore.Engine;

namespace Sim.Experiments;

/// <summary>
/// A task run in trials on a grid engine (docs/architecture.md, "A task"): the protocol resets the engine to tick 0 at the
/// start of every trial (the rules' trial start), runs the trial's ticks, possibly in named phases, calls the rules'
/// per-trial update point, and asks the task for the trial's metrics. The task writes its inputs and reads its outputs
/// through the engine's hooks (spike sinks, <see cref="ITickIO"/>), so no task copies the engine loop.
/// </summary>
public interface ITrialTask
{
    /// <summary>A short name for reports, e.g. "store-recall".</summary>
    string Name { get; }

    /// <summary>The phases of one trial, in order, each with its length in ticks (one phase for a plain trial).</summary>
    IReadOnlyList<TrialPhase> Phases(int trial);

    /// <summary>Attaches the task's sinks and I/O hooks to the engine (once, before the first trial).</summary>
    void Attach(ISimulationEngine engine);

    /// <summary>Before trial <paramref name="trial"/> (after the engine was reset): set targets, clear recorders.</summary>
    void BeginTrial(int trial);

    /// <summary>Before phase <paramref name="phase"/> of the current trial (e.g. switch a clamp on).</summary>
    void BeginPhase(int phase) { }

    /// <summary>After trial <paramref name="trial"/> (after the rules' per-trial update): the metrics of every instance.</summary>
    TrialMetrics EndTrial(int trial);
}

/// <summary>One phase of a trial.</summary>
/// <param name="Name">Its name (e.g. "free", "clamped").</param>
/// <param name="Ticks">Its length.</param>
public sealed record TrialPhase(string Name, long Ticks);

/// <summary>The metrics of one trial: per name, one value per batch instance.</summary>
/// <param name="Trial">The trial.</param>
/// <param name="Values">Name → values (index = batch element).</param>
public sealed record TrialMetrics(int Trial, IReadOnlyDictionary<string, double[]> Values)
{
    /// <summary>Metric <paramref name="name"/> of batch element <paramref name="batchIndex"/>.</summary>
    public double this[string name, int batchIndex = 0] => Values[name][batchIndex];
}

/// <summary>
/// Runs an <see cref="ITrialTask"/> on a grid engine: for each trial, <see cref="ISimulationEngine.ResetState"/>, the
/// task's <see cref="ITrialTask.BeginTrial"/>, the phases (each followed by <see cref="ISimulationEngine.EndPhase"/> when
/// there are several), <see cref="ISimulationEngine.EndTrial"/>, and the task's metrics. Cancellation stops between
/// trials (a cancelled trial is not reported); a guard stop ends the run.
/// </summary>
public sealed class TrialProtocol
{
    private readonly ISimulationEngine _engine;
    private readonly ITrialTask _task;

    /// <summary>Attaches <paramref name="task"/> to <paramref name="engine"/>.</summary>
    public TrialProtocol(ISimulationEngine engine, ITrialTask task)
    {
        _engine = engine;
        _task = task;
        task.Attach(engine);
    }

    /// <summary>Why the last <see cref="Run"/> stopped early (a guard), or null.</summary>
    public StopReason? Stop { get; private set; }

    /// <summary>Runs trial <paramref name="trial"/> and returns its metrics (null when cancelled or stopped by a guard).</summary>
    public TrialMetrics? RunTrial(int trial, CancellationToken cancellationToken = default)
    {
        _engine.ResetState();
        _task.BeginTrial(trial);
        var phases = _task.Phases(trial);
        for (int p = 0; p < phases.Count; p++)
        {
            _task.BeginPhase(p);
            var result = _engine.Run(phases[p].Ticks, cancellationToken);
            if (result.Cancelled) return null;
            if (result.Stop is not null) { Stop = result.Stop; return null; }
            if (phases.Count > 1) _engine.EndPhase(p);
        }
        _engine.EndTrial();
        return _task.EndTrial(trial);
    }

    /// <summary>Runs trials 0 … <paramref name="trials"/> − 1; <paramref name="progress"/> sees each trial's metrics.</summary>
    public IReadOnlyList<TrialMetrics> Run(int trials, Action<TrialMetrics>? progress = null, CancellationToken cancellationToken = default)
    {
        var all = new List<TrialMetrics>(trials);
        for (int t = 0; t < trials && !cancellationToken.IsCancellationRequested; t++)
        {
            var m = RunTrial(t, cancellationToken);
            if (m is null) break;
            all.Add(m);
            progress?.Invoke(m);
        }
        return all;
    }
}
