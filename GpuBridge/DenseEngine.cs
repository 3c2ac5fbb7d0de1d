using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Numerics;
using Sim.EventCore.Plasticity;
using static TorchSharp.torch;

namespace Sim.GpuBridge;

/// <summary>Options of a <see cref="DenseEngine"/>, defaulting to the spec's <see cref="RunOptions"/>.</summary>
public sealed record DenseEngineOptions
{
    /// <summary>Torch device: <c>"cpu"</c> (default) or <c>"cuda"</c> (see <see cref="TorchRuntime.Device"/>; a clear error without CUDA).</summary>
    public string Device { get; init; } = TorchRuntime.Cpu;
    /// <summary>Number of instances (the batch dimension B); null takes <see cref="RunOptions.Batch"/>.</summary>
    public int? Batch { get; init; }
    /// <summary>Index of the first instance; null takes <see cref="RunOptions.InstanceOffset"/>.</summary>
    public int? InstanceOffset { get; init; }
    /// <summary>Host memory the dense tensors may take; null: 80 % of what the GC reports available.</summary>
    public long? MemoryBudgetBytes { get; init; }
}

/// <summary>
/// The dense TorchSharp grid engine (docs/architecture.md, "Engines"): the same <see cref="CompiledNetwork"/> as the
/// <see cref="EventEngine"/>, as tensors with a batch dimension, giving the same bits (docs/numerics.md).
/// </summary>
/// <remarks>
/// <para><b>Parts.</b> <see cref="DenseDelivery"/> (one [S, 2N] matrix per distinct delay and the ring of past source
/// counts), <see cref="DenseInputs"/> (inputs generated in C# with the event engine's definitions),
/// <see cref="DenseTraceCoupling"/> (exact W·trace of trace-coupled projections), one <see cref="DensePopulation"/> per
/// population, whose model's dense step (<see cref="EventCore.Models.NeuronModelDefinition.DenseStep{T}"/>, in the
/// model's folder) holds the equations, and for rules one <see cref="InstancePlasticity"/> per batch element (the same
/// C# as the event engine's) over CPU copies of the state (<see cref="DenseStateCache"/>).</para>
/// <para><b>One tick t</b> (the event engine's phases, in its order):</para>
/// <code>
/// Deliver:   acc = 0 + Σ_d ring[(t−d) mod R] · Wᵈ     (integer-valued float64: exact in any order)
///            drive = I_ext, then drive ← amp_c·s_c(t) + drive per current in spec order (C#, uploaded when it changes)
/// Traces:    each model's DenseTraces (GoalLif: hz, ej); then rec = exact W·trace per population taking trace input
/// Integrate, Threshold: each model's DenseStep → spike mask [B, n]
/// Emit:      ring[t mod R] ← [spike mask | input counts of tick t]
/// Plasticity: rules in C# on CPU copies, one InstancePlasticity per batch element; Record: sinks, observers, tick I/O; Guard
/// </code>
/// <para>About 430 lines: the engine's public surface (<see cref="ISimulationEngine"/>: hooks, rules, trials, checkpoints)
/// and the tick loop that orders the parts; the tensors and their kernels live in the parts (GpuBridge/Dense/).</para>
/// <para>Every product and sum is a separate IEEE operation (<c>mul</c> then <c>add</c>; never <c>addcmul</c> or
/// <c>addmm</c> with scalars, which may fuse). Each step runs under <c>no_grad</c> in a dispose scope; persistent tensors
/// are updated in place, so native memory does not grow.</para>
/// </remarks>
public sealed class DenseEngine : ISimulationEngine
{
    private readonly Device _device;
    private readonly int _n, _s;
    private readonly DenseDelivery _delivery;
    private readonly DenseInputs _inputs;
    private readonly DenseTraceCoupling _coupling;
    private readonly Tensor _logit;
    private readonly DensePopulation[] _pops;
    private readonly bool _hasNoise;
    private readonly List<ISpikeSink> _sinks = [];
    private readonly List<IStepObserver> _observers = [];
    private readonly List<IRunGuard> _guards = [];
    private readonly List<ITickIO> _io = [];
    private readonly DenseStateCache _cache;
    private readonly DenseStateReader _reader;
    private readonly DenseTickInputs _tickInputs;
    private PlasticityBinding? _binding;
    private InstancePlasticity[]? _plastic;
    // Presynaptic spikes of one tick per batch element (sources ascending, counts), for the rules' spike hooks.
    private int[] _preSource = [], _preCount = [];
    private readonly long _budget;
    private readonly long[] _noiseKeys;
    private readonly int[] _spikeBuffer;
    private bool _disposed;

    /// <summary>Creates the engine on the chosen device and sets every instance to its initial state (tick 0).</summary>
    /// <exception cref="ArgumentException">Unknown device name.</exception>
    /// <exception cref="NotSupportedException">CUDA requested but not available.</exception>
    public DenseEngine(CompiledNetwork net, DenseEngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(net);
        options ??= new DenseEngineOptions();
        Network = net;
        _device = TorchRuntime.Device(options.Device);
        BatchSize = options.Batch ?? net.Spec.Run.Batch;
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "batch must be ≥ 1");
        FirstInstance = options.InstanceOffset ?? net.Spec.Run.InstanceOffset;
        _n = net.NeuronCount;
        _s = net.SourceCount;
        int b = BatchSize;
        var refusals = net.Populations.Select(p => (p, Why: p.Model.DenseRefusal(p))).Where(x => x.Why is not null)
            .Select(x => new SpecError($"populations[{x.p.Index}]", $"population '{x.p.Name}' ({x.p.Model.Name}): {x.Why}")).ToList();
        if (refusals.Count > 0) throw new SpecException(refusals);
        EnsureFits(net, b, options.MemoryBudgetBytes);

        using (no_grad())
        {
            _delivery = new DenseDelivery(net, _device, b);
            _coupling = new DenseTraceCoupling(net, _device, b);
            _logit = TorchNumerics.CreateLogitTable(_device);
            _pops = [.. net.Populations.Select(p => new DensePopulation(p, _device, b, FirstInstance, net.Seed, _logit))];
        }
        _hasNoise = _pops.Any(p => p.Pop.NoiseDeltaV > 0);
        _inputs = new DenseInputs(net, b, FirstInstance);
        _cache = new DenseStateCache(_pops, b);
        _reader = new DenseStateReader(_pops, _cache);
        _tickInputs = new DenseTickInputs(_pops);
        _budget = MemoryBudget.Resolve(options.MemoryBudgetBytes);
        if (net.Spec.Run.MaxRateHz is { } maxRate) _guards.Add(new RateGuard(net, maxRate, net.Spec.Run.GuardWindowMs, FirstInstance, b));
        _noiseKeys = new long[b];
        _spikeBuffer = new int[_n];
    }

    /// <summary>The compiled network.</summary>
    public CompiledNetwork Network { get; }
    /// <summary>Number of instances (batch dimension B).</summary>
    public int BatchSize { get; }
    /// <summary>Instance index of batch element 0; batch element b is instance <c>FirstInstance + b</c> in every RNG key.</summary>
    public int FirstInstance { get; }
    /// <summary>The next tick to run (ticks run so far).</summary>
    public long Tick { get; private set; }
    /// <summary>Simulated time (ms).</summary>
    public double TimeMs => Tick * Network.DtMs;
    /// <summary>The torch device the tensors live on.</summary>
    public Device Device => _device;
    /// <inheritdoc/>
    public string EngineName => $"dense ({_device.type.ToString().ToLowerInvariant()})";
    /// <summary>Wall time: the tensor step is counted as Integrate, plasticity rules (with their copies) as Plasticity, sinks and observers as Record, guards as Guard.</summary>
    public PhaseTimings Timings { get; } = new();
    /// <summary>Set once a guard has stopped the run.</summary>
    public StopReason? Stopped { get; private set; }

    /// <summary>Adds a step observer; the state is copied to the CPU after every tick while observers exist.</summary>
    public void AddObserver(IStepObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        _observers.Add(observer);
    }

    /// <summary>Adds a run guard, checked per instance after every tick.</summary>
    public void AddGuard(IRunGuard guard)
    {
        ArgumentNullException.ThrowIfNull(guard);
        _guards.Add(guard);
    }

    /// <summary>Adds a spike sink, called per instance per tick with ascending global ids (as in the event engine).</summary>
    public void AddSpikeSink(ISpikeSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _sinks.Add(sink);
    }

    /// <inheritdoc/>
    public void AddTickIO(ITickIO io)
    {
        ArgumentNullException.ThrowIfNull(io);
        foreach (var name in io.InputPopulations) _pops[Network.Population(name).Index].EnableExternalInput();
        foreach (var name in io.ClampedPopulations) _pops[Network.Population(name).Index].EnableClamp();
        _io.Add(io);
    }

    /// <summary>
    /// Adds a plasticity rule, called in the Plasticity phase of every tick: after Threshold and Emit of tick t (the
    /// spikes are in the ring), before the spike sinks, observers and guards; the same position as in
    /// <see cref="EventEngine"/>. The rules run in C# on CPU copies of the state (<see cref="DenseStateCache"/>, one
    /// device→host copy per variable and tick), with one <see cref="InstancePlasticity"/> per batch element holding its
    /// plastic weights; the device matrices follow them by version before the next tick (per instance, [B, …], once a
    /// projection is plastic). The same C# code as on the event engine, so the same bits.
    /// </summary>
    public void AddPlasticityRule(IPlasticityRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (Tick != 0)
            throw new InvalidOperationException("add plasticity rules before the first tick (or right after ResetState), as on the event engine");
        _binding ??= new PlasticityBinding(Network);
        rule.Bind(_binding);
        double perInstance = _binding.StateBytesPerInstance
            + (_binding.HasPlasticSpikeProjection ? 4.0 * Network.Synapses.Count + DenseDelivery.PlasticBytesPerInstance(Network) : 0)
            + (_binding.HasPlasticTraceProjection ? 16.0 * Network.TraceSynapses.Count + 8.0 * _n * _n : 0);
        if (perInstance * BatchSize > _budget)
            throw new SpecException([new SpecError("run.batch",
                $"{BatchSize} plastic instance(s) need about {perInstance * BatchSize / (1 << 30):F2} GiB for their own weights (host and device) and traces, more than the {_budget / (double)(1 << 30):F2} GiB available")]);
        _plastic ??= [.. Enumerable.Range(0, BatchSize).Select(k => new InstancePlasticity(Network, FirstInstance + k, _binding, _cache.For(k)))];
        _cache.Invalidate();
        var made = _plastic.Select(p => p.Prepare(rule)).ToArray();   // all or none
        for (int k = 0; k < made.Length; k++) _plastic[k].Attach(made[k]);
    }

    /// <summary>
    /// Sets every instance back to its initial state at tick 0 (as after construction), keeping the current weights
    /// (plastic ones included), and starts a trial for the rules, like <see cref="EventEngine.ResetState"/>. As there,
    /// the windows of the built-in rate guard are not reset.
    /// </summary>
    public void ResetState()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using (no_grad())
        {
            _delivery.Reset();
            foreach (var p in _pops) p.ResetState();
        }
        _inputs.Reset();
        Tick = 0;
        Stopped = null;
        _cache.Invalidate();
        if (_plastic is not null) foreach (var p in _plastic) p.TrialStart();
    }

    /// <inheritdoc/>
    public void EndTrial()
    {
        _cache.Invalidate();
        if (_plastic is not null) foreach (var p in _plastic) p.TrialEnd(Tick);
    }

    /// <inheritdoc/>
    public void EndPhase(int phase)
    {
        _cache.Invalidate();
        if (_plastic is not null) foreach (var p in _plastic) p.PhaseEnd(phase, Tick);
    }

    /// <inheritdoc/>
    public double[] GetWeights(int batchIndex, string projection)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(batchIndex, BatchSize);
        var view = _binding?.Projections.FirstOrDefault(p => p.Name == projection);
        if (view is null || _plastic is null) return PlasticityBinding.CompiledWeights(Network, projection);
        var w = new double[view.Count];
        _plastic[batchIndex].GetWeights(view, w);
        return w;
    }

    /// <summary>The trace-coupling weights of a population as the device holds them ([N·n], [source, local target]); null without. For specs.</summary>
    internal double[]? DeviceTraceWeights(int population, int batchIndex = 0)
    {
        if (_plastic is not null) _coupling.Sync(_plastic, _binding!);
        return _coupling.DeviceWeights(population, batchIndex);
    }

    /// <summary>The full state at the current tick, in the engine-neutral format (<see cref="Checkpoint"/>).</summary>
    public Checkpoint SaveCheckpoint()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return DenseCheckpoints.Capture(Network, Tick, FirstInstance, BatchSize, _delivery, _inputs, _pops, _plastic);
    }

    /// <summary>Resumes from a checkpoint written by any engine for the same network, batch size and first instance.</summary>
    public void Restore(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ObjectDisposedException.ThrowIf(_disposed, this);
        checkpoint.EnsureMatches(Network, FirstInstance, BatchSize);
        DenseCheckpoints.Load(Network, checkpoint, BatchSize, _delivery, _inputs, _pops, _plastic);
        Tick = checkpoint.Tick;
        Stopped = null;
        _cache.Invalidate();
    }

    /// <summary>Runs <paramref name="ticks"/> ticks (any split into several calls gives the same result).</summary>
    public RunResult Run(long ticks, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ticks);
        if (Stopped is not null) throw new InvalidOperationException($"the run was stopped by a guard ({Stopped}); create a new engine");
        long start = Tick;
        for (long k = 0; k < ticks; k++)
        {
            if ((k & 255) == 0 && cancellationToken.IsCancellationRequested) return new RunResult(Tick - start, true, null);
            Step();
            if (Stopped is not null) return new RunResult(Tick - start, false, Stopped);
        }
        return new RunResult(Tick - start, false, null);
    }

    /// <summary>
    /// A copy of a state variable (absolute units, like <see cref="EventEngine.GetVariable"/>) of every neuron of a
    /// population in batch element <paramref name="batchIndex"/>; the model's report offset (e.g. v_mv = u + E_L) is added in C#.
    /// </summary>
    public double[] GetVariable(int batchIndex, string population, string variable)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(batchIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(batchIndex, BatchSize);
        return _pops[Network.Population(population).Index].Read(batchIndex, variable);
    }

    /// <summary>One tick for every instance, in the order of the class remarks, then the rules, sinks, observers and guards.</summary>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long t = Tick;
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_plastic is not null)
        {
            _coupling.Sync(_plastic, _binding!);
            _delivery.Sync(_plastic, _binding!);
        }
        if (_io.Count > 0)
            for (int k = 0; k < BatchSize; k++)
            {
                _tickInputs.Batch = k;
                foreach (var h in _io) h.BeforeTick(FirstInstance + k, t, _tickInputs);
            }
        foreach (var p in _pops) p.UpdateDrive(t);
        _inputs.Generate(t);
        if (_hasNoise)
            for (int k = 0; k < BatchSize; k++)
                _noiseKeys[k] = unchecked((long)CounterRng.Key(Network.Seed, RngStreams.EscapeNoise, (ulong)(FirstInstance + k), (ulong)t));

        bool[]? mask = null;
        using (no_grad())
        using (NewDisposeScope())
        {
            Tensor acc = _delivery.Accumulate(t);
            Tensor accE = acc.narrow(1, 0, _n), accI = acc.narrow(1, _n, _n);

            foreach (var p in _pops) p.UpdateTraces(t);
            Tensor? traces = _coupling.Any ? cat([.. _pops.Select(p => p.CouplingOrZeros())], 1) : null;
            Tensor? keys = _hasNoise ? tensor(_noiseKeys, dtype: ScalarType.Int64).reshape(BatchSize, 1).to(_device) : null;

            var spikeParts = new Tensor[_pops.Length];
            for (int i = 0; i < _pops.Length; i++)
            {
                var p = _pops[i];
                Tensor? rec = traces is null ? null : _coupling.Input(i, traces);
                spikeParts[i] = p.Advance(t, accE.narrow(1, p.Pop.Offset, p.Pop.Size), accI.narrow(1, p.Pop.Offset, p.Pop.Size), rec, keys);
                if (p.Clamp is not null) spikeParts[i] = p.ApplyClamp(spikeParts[i]);
            }
            Tensor spikes = cat(spikeParts, 1);   // bool [B, N]
            Tensor row = spikes.to_type(ScalarType.Float64);
            if (_inputs.Sources > 0)
            {
                Tensor inputs = tensor(_inputs.Counts, dtype: ScalarType.Float64).reshape(BatchSize, _inputs.Sources).to(_device);
                row = cat([row, inputs], 1);
            }
            _delivery.Emit(t, row);
            if (_sinks.Count > 0 || _guards.Count > 0 || _plastic is not null || _io.Count > 0)
            {
                using Tensor cpuMask = spikes.cpu().contiguous().reshape(-1);
                mask = cpuMask.data<bool>().ToArray();
            }
        }

        long tp = System.Diagnostics.Stopwatch.GetTimestamp();
        _cache.Invalidate();
        if (_plastic is not null)
        {
            // Plasticity phase: rules see v[t+1], z[t+1], traces; their weights act from tick t + 1 (synced before it).
            for (int k = 0; k < BatchSize; k++)
            {
                int count = Spikes(mask!, k);
                int pre = _binding!.WantsSpikeHooks ? PreSpikes(k, count) : 0;
                _plastic[k].Step(t, _spikeBuffer.AsSpan(0, count), _preSource.AsSpan(0, pre), _preCount.AsSpan(0, pre));
            }
        }
        long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
        DenseStateReader? reader = _observers.Count > 0 || _io.Count > 0 ? _reader : null;
        StopReason? stop = null;
        long tGuard = 0;
        for (int k = 0; k < BatchSize; k++)
        {
            int count = mask is null ? 0 : Spikes(mask, k);
            var span = new ReadOnlySpan<int>(_spikeBuffer, 0, count);
            foreach (var sink in _sinks) sink.OnSpikes(FirstInstance + k, t, span);
            if (reader is not null)
            {
                reader.Batch = k;
                foreach (var o in _observers) o.OnStep(FirstInstance + k, t, reader);
                foreach (var h in _io) h.AfterTick(FirstInstance + k, t, span, reader);
            }
            long g0 = System.Diagnostics.Stopwatch.GetTimestamp();
            foreach (var g in _guards)
                if (stop is null && g.Check(FirstInstance + k, t, span) is { } reason) stop = new StopReason(FirstInstance + k, t, reason);
            tGuard += System.Diagnostics.Stopwatch.GetTimestamp() - g0;
        }
        long t2 = System.Diagnostics.Stopwatch.GetTimestamp();
        Timings.Add(Phase.Integrate, tp - t0);
        Timings.Add(Phase.Plasticity, t1 - tp);
        Timings.Add(Phase.Record, t2 - t1 - tGuard);
        Timings.Add(Phase.Guard, tGuard);
        Tick = t + 1;
        if (stop is not null) Stopped = stop;
    }

    // The spikes of batch element k (ascending global id) into _spikeBuffer; returns their number.
    private int Spikes(bool[] mask, int k)
    {
        int count = 0;
        for (int i = 0; i < _n; i++) if (mask[k * _n + i]) _spikeBuffer[count++] = i;
        return count;
    }

    // The presynaptic spikes of batch element k: its neuron spikes (in _spikeBuffer), then its input counts, ascending.
    private int PreSpikes(int k, int neuronSpikes)
    {
        int cap = neuronSpikes + _inputs.Sources;
        if (_preSource.Length < cap) { _preSource = new int[cap]; _preCount = new int[cap]; }
        int m = 0;
        for (int j = 0; j < neuronSpikes; j++) { _preSource[m] = _spikeBuffer[j]; _preCount[m++] = 1; }
        var counts = _inputs.Counts;
        for (int s = 0; s < _inputs.Sources; s++)
        {
            double c = counts[k * _inputs.Sources + s];
            if (c != 0) { _preSource[m] = _n + s; _preCount[m++] = (int)c; }
        }
        return m;
    }

    /// <summary>Frees the native tensors.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _delivery.Dispose();
        _coupling.Dispose();
        _logit.Dispose();
        foreach (var p in _pops) p.Dispose();
    }

    /// <summary>
    /// Refuses, before allocating, a network whose dense tensors would not fit: one [S, 2N] float64 matrix per distinct
    /// delay, an [N, N] trace-coupling matrix, the ring [D+1, B, S] and the state, plus a factor 2 of working space.
    /// </summary>
    private static void EnsureFits(CompiledNetwork net, int batch, long? budgetBytes)
    {
        long budget = MemoryBudget.Resolve(budgetBytes);
        int delays = net.Synapses.SegmentDelay.ToArray().Distinct().Count();
        double n = net.NeuronCount, s = net.SourceCount;
        double bytes = DenseDelivery.Bytes(net, batch) + (net.TraceSynapses.Count > 0 ? 8.0 * n * n : 0) + 8.0 * 16.0 * batch * n;
        if (bytes * 2 > budget)
            throw new SpecException([new SpecError("run.batch",
                $"the dense engine needs about {bytes * 2 / (1L << 30):F1} GiB ({delays} distinct delay(s) × [{s:N0} sources × {2 * n:N0}] float64 weight matrices, batch {batch}), " +
                $"more than the {budget / (double)(1L << 30):F1} GiB available; use the event engine, fewer distinct delays or a smaller network")]);
    }
}
