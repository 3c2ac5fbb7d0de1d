using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Numerics;
using TorchSharp;
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
/// model's folder) holds the equations, and <see cref="DensePlasticityContext"/> for rules.</para>
/// <para><b>One tick t</b> (the event engine's phases, in its order):</para>
/// <code>
/// Deliver:   acc = 0 + Σ_d ring[(t−d) mod R] · Wᵈ     (integer-valued float64: exact in any order)
///            drive = I_ext, then drive ← amp_c·s_c(t) + drive per current in spec order (C#, uploaded when it changes)
/// Traces:    each model's DenseTraces (GoalLif: hz, ej); then rec = exact W·trace per population taking trace input
/// Integrate, Threshold: each model's DenseStep → spike mask [B, n]
/// Emit:      ring[t mod R] ← [spike mask | input counts of tick t]
/// Plasticity: rules in C# on CPU copies (batch of one); Record: sinks, observers; Guard
/// </code>
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
    private readonly List<IPlasticityRule> _rules = [];
    private readonly DensePlasticityContext _plasticity;
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
        EnsureFits(net, b, options.MemoryBudgetBytes);

        using (no_grad())
        {
            _delivery = new DenseDelivery(net, _device, b);
            _coupling = new DenseTraceCoupling(net, _device);
            _logit = TorchNumerics.CreateLogitTable(_device);
            _pops = [.. net.Populations.Select(p => new DensePopulation(p, _device, b, FirstInstance, net.Seed, _logit))];
        }
        _hasNoise = _pops.Any(p => p.Pop.NoiseDeltaV > 0);
        _inputs = new DenseInputs(net, b, FirstInstance);
        _plasticity = new DensePlasticityContext(net, _pops, _coupling);
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

    /// <summary>
    /// Adds a plasticity rule, called in the Plasticity phase of every tick: after Threshold and Emit of tick t (the
    /// spikes are in the ring), before the spike sinks, observers and guards; the same position as in
    /// <see cref="EventEngine"/>. The rule runs in C# on the CPU against a <see cref="IPlasticityContext"/> whose
    /// <see cref="IPlasticityContext.Variable"/> returns CPU copies of the population's [n] rows of batch element 0, and
    /// whose writes go to the compiled table (with its exactness check) and then to the device W_rec (uploaded once, after
    /// all rules of the tick). Accepted only for a batch of one instance.
    /// </summary>
    /// <exception cref="InvalidOperationException">The engine runs more than one instance.</exception>
    public void AddPlasticityRule(IPlasticityRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (BatchSize != 1)
            throw new InvalidOperationException($"plasticity rules need a batch of one instance (this engine runs {BatchSize}): the plastic weights are shared by all instances");
        _rules.Add(rule);
    }

    /// <summary>
    /// Sets every instance back to its initial state at tick 0 (as after construction), keeping the current weights
    /// (including those written by plasticity rules): the start of a new trial or epoch, like
    /// <see cref="EventEngine.ResetState"/>. As there, the windows of the built-in rate guard are not reset.
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
    }

    /// <summary>The trace-coupling weights of a population as the device holds them ([N·n], [source, local target]); null without. For specs.</summary>
    internal double[]? DeviceTraceWeights(int population) => _coupling.DeviceWeights(population);

    /// <summary>The full state at the current tick, in the engine-neutral format (<see cref="Checkpoint"/>).</summary>
    public Checkpoint SaveCheckpoint()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var instances = new InstanceCheckpoint[BatchSize];
        var states = _pops.Select(p => p.StateArrays().ToArray()).ToArray();
        var lasts = _pops.Select(p => p.LastSpikeArray()).ToArray();
        // Pending source spikes: ticks Tick − D … Tick − 1 of the ring.
        int d = _delivery.Slots - 1;
        var history = new List<(long Tick, double[] Counts)>();
        for (long tp = Math.Max(0, Tick - d); tp < Tick; tp++) history.Add((tp, _delivery.CountsAt(tp)));
        for (int k = 0; k < BatchSize; k++)
        {
            var state = new Dictionary<string, double[]>();
            var last = new long[_n];
            Array.Fill(last, InstanceCheckpoint.NeverSpiked);
            for (int i = 0; i < _pops.Length; i++)
            {
                var pop = _pops[i].Pop;
                foreach (var (name, values) in states[i]) state[$"{pop.Name}.{name}"] = values.AsSpan(k * pop.Size, pop.Size).ToArray();
                if (lasts[i] is { } l) l.AsSpan(k * pop.Size, pop.Size).CopyTo(last.AsSpan(pop.Offset));
            }
            var hTicks = new List<long>(); var hSrc = new List<int>(); var hCount = new List<int>();
            foreach (var (tp, counts) in history)
                for (int src = 0; src < _s; src++)
                {
                    double c = counts[k * _s + src];
                    if (c != 0) { hTicks.Add(tp); hSrc.Add(src); hCount.Add((int)c); }
                }
            var (next, count) = _inputs.Poisson(k);
            instances[k] = new InstanceCheckpoint
            {
                State = state, LastSpike = last, HistoryTicks = [.. hTicks], HistorySources = [.. hSrc], HistoryCounts = [.. hCount],
                PoissonNextMs = (double[])next.Clone(), PoissonCount = (long[])count.Clone(),
            };
        }
        return new Checkpoint { NetworkFingerprint = Checkpoint.Fingerprint(Network), Tick = Tick, FirstInstance = FirstInstance, Instances = instances };
    }

    /// <summary>Resumes from a checkpoint written by any engine for the same network, batch size and first instance.</summary>
    public void Restore(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ObjectDisposedException.ThrowIf(_disposed, this);
        checkpoint.EnsureMatches(Network, FirstInstance, BatchSize);
        long tick = checkpoint.Tick;
        int slots = _delivery.Slots;
        var ring = new double[slots * BatchSize * _s];
        for (int k = 0; k < BatchSize; k++)
        {
            var c = checkpoint.Instances[k];
            for (int j = 0; j < c.HistoryTicks.Length; j++)
            {
                long tp = c.HistoryTicks[j];
                if (tp < tick - (slots - 1) || tp >= tick) continue;
                ring[((tp % slots) * BatchSize + k) * _s + c.HistorySources[j]] += c.HistoryCounts[j];
            }
            _inputs.Restore(k, c.PoissonNextMs, c.PoissonCount);
        }
        using (no_grad())
        {
            _delivery.Load(ring);
            foreach (var p in _pops) p.RestoreState(checkpoint);
        }
        Tick = tick;
        Stopped = null;
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
        _coupling.Sync();
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
            }
            Tensor spikes = cat(spikeParts, 1);   // bool [B, N]
            Tensor row = spikes.to_type(ScalarType.Float64);
            if (_inputs.Sources > 0)
            {
                Tensor inputs = tensor(_inputs.Counts, dtype: ScalarType.Float64).reshape(BatchSize, _inputs.Sources).to(_device);
                row = cat([row, inputs], 1);
            }
            _delivery.Emit(t, row);
            if (_sinks.Count > 0 || _guards.Count > 0)
            {
                using Tensor cpuMask = spikes.cpu().contiguous().reshape(-1);
                mask = cpuMask.data<bool>().ToArray();
            }
        }

        long tp = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_rules.Count > 0)
        {
            // Plasticity phase (batch of one): rules see v[t+1], z[t+1], traces; their weights act from tick t + 1.
            _plasticity.BeginTick();
            try
            {
                foreach (var r in _rules) r.Apply(FirstInstance, t, _plasticity);
            }
            finally
            {
                // Upload what was written even when a rule throws, so the device W_rec equals the compiled table.
                _plasticity.EndTick();
            }
        }
        long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
        DenseStateReader? reader = _observers.Count > 0 ? new DenseStateReader([.. _pops.Select(p => p.ReadAll())], [.. _pops.Select(p => p.Pop.Size)]) : null;
        StopReason? stop = null;
        long tGuard = 0;
        for (int k = 0; k < BatchSize; k++)
        {
            int count = 0;
            if (mask is not null)
                for (int i = 0; i < _n; i++) if (mask[k * _n + i]) _spikeBuffer[count++] = i;
            var span = new ReadOnlySpan<int>(_spikeBuffer, 0, count);
            foreach (var sink in _sinks) sink.OnSpikes(FirstInstance + k, t, span);
            if (reader is not null)
            {
                reader.Batch = k;
                foreach (var o in _observers) o.OnStep(FirstInstance + k, t, reader);
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
        long budget = budgetBytes ?? (long)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * 0.8);
        int delays = net.Synapses.SegmentDelay.ToArray().Distinct().Count();
        double n = net.NeuronCount, s = net.SourceCount;
        double bytes = DenseDelivery.Bytes(net, batch) + (net.TraceSynapses.Count > 0 ? 8.0 * n * n : 0) + 8.0 * 16.0 * batch * n;
        if (bytes * 2 > budget)
            throw new SpecException([new SpecError("run.batch",
                $"the dense engine needs about {bytes * 2 / (1L << 30):F1} GiB ({delays} distinct delay(s) × [{s:N0} sources × {2 * n:N0}] float64 weight matrices, batch {batch}), " +
                $"more than the {budget / (double)(1L << 30):F1} GiB available; use the event engine, fewer distinct delays or a smaller network")]);
    }
}
