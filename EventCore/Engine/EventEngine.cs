using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Plasticity;

namespace Sim.EventCore.Engine;

/// <summary>Options of an engine run, defaulting to the spec's <see cref="RunOptions"/>.</summary>
public sealed record EngineOptions
{
    /// <summary>Number of instances; null takes <see cref="RunOptions.Batch"/>.</summary>
    public int? Batch { get; init; }
    /// <summary>Index of the first instance; null takes <see cref="RunOptions.InstanceOffset"/>.</summary>
    public int? InstanceOffset { get; init; }
    /// <summary>Worker threads; null takes <see cref="RunOptions.Threads"/> (0: one per core).</summary>
    public int? Threads { get; init; }
    /// <summary>Memory the instances' state may take; null: 80 % of what the GC reports available.</summary>
    public long? MemoryBudgetBytes { get; init; }
}

/// <summary>What a call to <see cref="EventEngine.Run"/> did.</summary>
/// <param name="TicksRun">Ticks advanced by this call.</param>
/// <param name="Cancelled">True when the cancellation token stopped it (at a clean tick boundary).</param>
/// <param name="Stop">The guard's reason, when a guard stopped it.</param>
public readonly record struct RunResult(long TicksRun, bool Cancelled, StopReason? Stop);

/// <summary>
/// The event-driven grid engine (EventCore). Each tick runs the phases Deliver → Integrate → Threshold → Emit →
/// Plasticity → Record → Guard → Advance. Spikes propagate sparsely: a spike costs O(fan-out) scatter-adds of
/// fixed-point weights into the ring slot of its arrival tick (a calendar queue over the bounded delays); Poisson
/// inputs are timed events in a binary heap. Neuron state is integrated with vectorised TensorPrimitives kernels.
/// Independent instances (batch) run on worker threads; the results do not depend on the thread count.
/// </summary>
/// <example>
/// <code>
/// var net = NetworkCompiler.Compile(spec);
/// using var engine = new EventEngine(net);
/// engine.AddSpikeSink(monitor);
/// engine.Run(net.DurationTicks);
/// </code>
/// </example>
public sealed class EventEngine : ISimulationEngine
{
    private readonly InstanceState[] _instances;
    private ISpikeSink[] _sinks = [];
    private IStepObserver[] _observers = [];
    private IRunGuard[] _guards = [];
    private ITickIO[] _io = [];
    private PlasticityBinding? _binding;
    private readonly StopReason?[] _stops;
    private readonly int _threads;
    private readonly long _budget;

    /// <summary>Ticks between checks for cancellation and guard stops across instances.</summary>
    public const int ChunkTicks = 1000;

    /// <summary>Creates the engine and sets every instance to its initial state.</summary>
    public EventEngine(CompiledNetwork network, EngineOptions? options = null)
    {
        Network = network;
        options ??= new EngineOptions();
        int batch = options.Batch ?? network.Spec.Run.Batch;
        FirstInstance = options.InstanceOffset ?? network.Spec.Run.InstanceOffset;
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(options), "batch must be ≥ 1");
        long budget = MemoryBudget.Resolve(options.MemoryBudgetBytes);
        // The formula's lower bound first (the delivery ring and the state), so that a hopeless batch allocates nothing;
        // then up to two instances are built and what the last of them really allocated (model constants, ring, spike
        // history, input calendar, scratch) is the cost of each of the others, checked before any of them exists.
        double lowerBound = (double)InstanceState.StateBytes(network) * batch;
        if (lowerBound > budget) throw BatchTooLarge(network, batch, lowerBound, budget);
        DeliveryKernel.Validate(network.Synapses, network.NeuronCount, network.SourceCount);
        int threads = options.Threads ?? network.Spec.Run.Threads;
        _threads = Math.Max(1, Math.Min(batch, threads <= 0 ? Environment.ProcessorCount : threads));
        _budget = budget;
        _instances = new InstanceState[batch];
        _stops = new StopReason?[batch];
        // The second instance is the one measured: the first also pays for what instances share once made (model tables).
        long measured = 0;
        for (int b = 0; b < Math.Min(2, batch); b++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            _instances[b] = new InstanceState(network, FirstInstance + b);
            measured = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        BytesPerInstance = Math.Max(InstanceState.StateBytes(network), measured);
        double need = ResidentBytesPerInstance * batch;
        if (need > budget) throw BatchTooLarge(network, batch, need, budget);
        for (int b = 2; b < batch; b++) _instances[b] = new InstanceState(network, FirstInstance + b);
        if (network.Spec.Run.MaxRateHz is { } maxRate) AddGuard(new RateGuard(network, maxRate, network.Spec.Run.GuardWindowMs, FirstInstance, batch));
    }

    private static SpecException BatchTooLarge(CompiledNetwork network, int batch, double need, long budget)
        => new([new SpecError("run.batch",
            $"{batch} instance(s) need about {MemoryBudget.GiB(need)} of state ({MemoryBudget.GiB(need / batch)} each: delivery ring of {network.MaxDelayTicks + 1} slots × " +
            $"{network.NeuronCount} neurons, model state and constants, spike history), more than the {MemoryBudget.GiB(budget)} available; " +
            "use a smaller batch (or split it over runs with run.instance_offset), or raise the limit with --max-memory-gb")]);

    /// <summary>Bytes one instance's state took when the engine was built (measured on the second instance, or the only one).</summary>
    public long BytesPerInstance { get; }

    /// <summary>
    /// Resident memory one instance takes: its delivery ring as allocated when the ring's arrays are large ones (the
    /// runtime gives them their own pages), the rest <see cref="MemoryBudget.InstanceHeapFactor"/> times over.
    /// </summary>
    public double ResidentBytesPerInstance
    {
        get
        {
            long ringArray = (long)(Network.MaxDelayTicks + 1) * Network.NeuronCount * sizeof(double);
            double large = ringArray >= MemoryBudget.LargeObjectBytes ? Math.Min(BytesPerInstance, 2.0 * ringArray) : 0;
            return large + (BytesPerInstance - large) * MemoryBudget.InstanceHeapFactor;
        }
    }

    /// <summary>The compiled network.</summary>
    public CompiledNetwork Network { get; }
    /// <inheritdoc/>
    public string EngineName => "event";
    /// <summary>Number of instances.</summary>
    public int BatchSize => _instances.Length;
    /// <summary>Instance index of batch element 0.</summary>
    public int FirstInstance { get; }
    /// <summary>The next tick to run (ticks run so far).</summary>
    public long Tick => _instances[0].Tick;
    /// <summary>Simulated time (ms).</summary>
    public double TimeMs => Tick * Network.DtMs;
    /// <summary>Wall time per phase, summed over instances.</summary>
    public PhaseTimings Timings { get; } = new();
    /// <summary>Set once a guard has stopped the run; the engine then refuses to continue.</summary>
    public StopReason? Stopped { get; private set; }

    /// <summary>Adds a spike sink (called on worker threads, one instance at a time per instance).</summary>
    public void AddSpikeSink(ISpikeSink sink) => _sinks = [.. _sinks, sink];
    /// <summary>Adds a step observer.</summary>
    public void AddObserver(IStepObserver observer) => _observers = [.. _observers, observer];
    /// <summary>Adds a run guard.</summary>
    public void AddGuard(IRunGuard guard) => _guards = [.. _guards, guard];

    /// <inheritdoc/>
    public void AddTickIO(ITickIO io)
    {
        ArgumentNullException.ThrowIfNull(io);
        var pops = io.InputPopulations.Select(name => Network.Population(name).Index).ToArray();
        var clamped = io.ClampedPopulations.Select(name => Network.Population(name).Index).ToArray();
        foreach (var inst in _instances)
        {
            foreach (int p in pops) inst.ExternalInput(p);
            foreach (int p in clamped) inst.SpikeClamp(p);
        }
        _io = [.. _io, io];
    }

    /// <summary>
    /// Adds a plasticity rule: it binds once (<see cref="IPlasticityRule.Bind"/>), then every instance creates its rule
    /// instance and, for the projections the rule makes plastic, its own copy of the weights (docs/architecture.md, "A rule").
    /// The memory is checked against the budget first.
    /// </summary>
    public void AddPlasticityRule(IPlasticityRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (_instances.Any(i => i.Tick != 0))
            throw new InvalidOperationException("add plasticity rules before the first tick (or right after ResetState): spikes already on their way were delivered with the weights at emission");
        _binding ??= new PlasticityBinding(Network);
        rule.Bind(_binding);
        double perInstance = _binding.StateBytesPerInstance + (_binding.HasPlasticSpikeProjection ? 4.0 * Network.Synapses.Count : 0)
            + (_binding.HasPlasticTraceProjection ? 16.0 * Network.TraceSynapses.Count : 0);
        if (perInstance * _instances.Length > _budget)
            throw new SpecException([new SpecError("run.batch",
                $"{_instances.Length} plastic instance(s) need about {perInstance * _instances.Length / (1 << 30):F2} GiB for their own weights and traces, more than the {_budget / (double)(1 << 30):F2} GiB available")]);
        foreach (var inst in _instances) inst.EnsurePlasticity(_binding);   // every instance, as the dense engine, even if the rule refuses one
        var made = _instances.Select(inst => inst.PrepareRule(rule, _binding)).ToArray();   // all or none
        for (int k = 0; k < made.Length; k++) _instances[k].AttachRule(made[k], _binding);
    }

    /// <summary>
    /// Sets every instance back to its initial state at tick 0 (as after construction), keeping the current weights
    /// (plastic ones included); the rules' trial start (traces cleared, <see cref="IRuleInstance.OnTrialStart"/>).
    /// </summary>
    public void ResetState()
    {
        foreach (var inst in _instances) inst.Reset();
        foreach (var inst in _instances) inst.Plasticity?.TrialStart();
        Array.Clear(_stops);
        Stopped = null;
    }

    /// <summary>The plasticity of batch element <paramref name="batchIndex"/> (null without rules); for specs.</summary>
    internal InstancePlasticity? PlasticityOf(int batchIndex) => _instances[batchIndex].Plasticity;

    /// <inheritdoc/>
    public void EndTrial()
    {
        foreach (var inst in _instances) inst.Plasticity?.TrialEnd(inst.Tick);
    }

    /// <inheritdoc/>
    public void EndPhase(int phase)
    {
        foreach (var inst in _instances) inst.Plasticity?.PhaseEnd(phase, inst.Tick);
    }

    /// <inheritdoc/>
    public double[] GetWeights(int batchIndex, string projection)
    {
        var inst = _instances[batchIndex];
        var view = _binding?.Projections.FirstOrDefault(p => p.Name == projection);
        if (view is not null && inst.Plasticity is { } plastic)
        {
            var w = new double[view.Count];
            plastic.GetWeights(view, w);
            return w;
        }
        return PlasticityBinding.CompiledWeights(Network, projection);
    }

    /// <summary>Read access to the state of batch element <paramref name="batchIndex"/>.</summary>
    public IStateReader State(int batchIndex) => _instances[batchIndex];

    /// <summary>A copy of a state variable (absolute units) of every neuron of a population.</summary>
    public double[] GetVariable(int batchIndex, string population, string variable)
    {
        var inst = _instances[batchIndex];
        int p = Network.Population(population).Index;
        var pop = inst.Populations[p];
        int v = pop.VariableIndex(variable);
        var result = new double[pop.Size];
        for (int i = 0; i < result.Length; i++) result[i] = pop.Read(v, i);
        return result;
    }

    /// <summary>The full state at the current tick (plastic weights and rule state included); <see cref="Restore"/> (on this or another engine with the same rules) resumes bit for bit.</summary>
    public Checkpoint SaveCheckpoint() => new()
    {
        NetworkFingerprint = Checkpoint.Fingerprint(Network), Tick = Tick, FirstInstance = FirstInstance,
        Instances = [.. _instances.Select(i => i.Capture())],
    };

    /// <summary>Resumes from a checkpoint of the same network, batch size and first instance.</summary>
    public void Restore(Checkpoint checkpoint)
    {
        checkpoint.EnsureMatches(Network, FirstInstance, _instances.Length);
        for (int b = 0; b < _instances.Length; b++) _instances[b].Restore(checkpoint.Instances[b], checkpoint.Tick);
        Stopped = null;
    }

    /// <summary>Runs <paramref name="ticks"/> ticks (same result as any split into several calls).</summary>
    public RunResult Run(long ticks, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ticks);
        if (Stopped is not null) throw new InvalidOperationException($"the run was stopped by a guard ({Stopped}); create a new engine");
        // Nothing here allocates on the single-threaded path (the benchmarks assert 0 B per call).
        var sinks = _sinks;
        var observers = _observers;
        var guards = _guards;
        var io = _io;
        long done = 0, startTick = Tick;
        var stops = _stops;
        while (done < ticks)
        {
            if (cancellationToken.IsCancellationRequested) { Flush(); return new RunResult(Tick - startTick, true, null); }
            int chunk = (int)Math.Min(ChunkTicks, ticks - done);
            if (_threads == 1)
                for (int b = 0; b < _instances.Length; b++) stops[b] = RunChunk(_instances[b], chunk, sinks, observers, guards, io);
            else
                RunChunkParallel(chunk, sinks, observers, guards, io);
            done += chunk;
            StopReason? stop = null;
            foreach (var s in stops) stop ??= s;
            if (stop is not null) { Stopped = stop; Flush(); return new RunResult(Tick - startTick, false, stop); }
        }
        Flush();
        return new RunResult(done, false, null);
    }

    /// <summary>Runs for a duration in ms (rounded to ticks).</summary>
    public RunResult RunMs(double durationMs, CancellationToken cancellationToken = default)
        => Run(TimeGrid.Ticks(durationMs, Network.DtMs), cancellationToken);

    // A separate method so that the closure of the lambda is only allocated on the multi-threaded path.
    private void RunChunkParallel(int chunk, ISpikeSink[] sinks, IStepObserver[] observers, IRunGuard[] guards, ITickIO[] io)
        => Parallel.For(0, _instances.Length, new ParallelOptions { MaxDegreeOfParallelism = _threads },
            b => _stops[b] = RunChunk(_instances[b], chunk, sinks, observers, guards, io));

    private static StopReason? RunChunk(InstanceState inst, int ticks, ISpikeSink[] sinks, IStepObserver[] observers, IRunGuard[] guards, ITickIO[] io)
    {
        for (int k = 0; k < ticks; k++)
        {
            long t = inst.Tick;
            string? reason = inst.Step(sinks, observers, guards, io);
            if (reason is not null) return new StopReason(inst.Instance, t, reason);
        }
        return null;
    }

    private void Flush()
    {
        foreach (var inst in _instances) inst.Clock.Drain(Timings);
    }

    /// <summary>Releases nothing native today; present so engines are used uniformly with <c>using</c>.</summary>
    public void Dispose() { }
}

/// <summary>
/// Stops the run when a population's mean rate over a window exceeds a bound (runaway activity; Auryn's
/// <c>RateChecker</c>). Windows are consecutive blocks of <c>windowMs</c> per instance. Every engine adds one when
/// <see cref="RunOptions.MaxRateHz"/> is set.
/// </summary>
public sealed class RateGuard : IRunGuard
{
    private readonly CompiledNetwork _net;
    private readonly double _maxRateHz;
    private readonly long _windowTicks;
    private readonly int[] _popOf;
    private readonly int _firstInstance;
    private readonly long[][] _counts; // per batch element, per population
    private readonly long[] _windowStart;

    /// <summary>A guard for instances <paramref name="firstInstance"/> … <paramref name="firstInstance"/> + <paramref name="batch"/> − 1.</summary>
    public RateGuard(CompiledNetwork net, double maxRateHz, double windowMs, int firstInstance, int batch)
    {
        _net = net;
        _maxRateHz = maxRateHz;
        _windowTicks = Math.Max(1, TimeGrid.Ticks(windowMs, net.DtMs));
        _popOf = new int[net.NeuronCount];
        foreach (var p in net.Populations) Array.Fill(_popOf, p.Index, p.Offset, p.Size);
        _firstInstance = firstInstance;
        _counts = new long[batch][];
        for (int i = 0; i < batch; i++) _counts[i] = new long[net.Populations.Length];
        _windowStart = new long[batch];
    }

    /// <inheritdoc/>
    public string? Check(int instance, long tick, ReadOnlySpan<int> spikes)
    {
        int b = instance - _firstInstance;
        var counts = _counts[b];
        foreach (int s in spikes) counts[_popOf[s]]++;
        if (tick + 1 - _windowStart[b] < _windowTicks) return null;
        double seconds = _windowTicks * _net.DtMs / 1000.0;
        string? reason = null;
        for (int p = 0; p < counts.Length && reason is null; p++)
        {
            double rate = counts[p] / (_net.Populations[p].Size * seconds);
            if (rate > _maxRateHz)
                reason = $"runaway activity: population '{_net.Populations[p].Name}' fired at {rate:F1} Hz over {_windowTicks * _net.DtMs:G4} ms, above max_rate_hz = {_maxRateHz:G4}";
        }
        Array.Clear(counts);
        _windowStart[b] = tick + 1;
        return reason;
    }
}
