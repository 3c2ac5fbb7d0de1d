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
/// The dense TorchSharp grid engine (DESIGN.md, DenseEngine): the same <see cref="CompiledNetwork"/> as the
/// <see cref="EventEngine"/>, as tensors with a batch dimension, giving the same bits (DESIGN.md numerics contract).
/// </summary>
/// <remarks>
/// <para><b>Tensors.</b> Per distinct delay d a float64 matrix Wᵈ of shape [S, 2N] (stored transposed: source rows,
/// the N excitatory targets (Σ q ≥ 0 over multapses) then the N inhibitory ones (Σ q &lt; 0)), S = neurons + input
/// sources; a ring [D_max+1, B, S] of past source spike counts; state [B, n] per population and variable in the event
/// engine's frames (LifExp: u = v − E_L, g_exc, g_inh; LifDelta: u; GoalLif: v, z, hz, ej; last-spike tick int64);
/// per-neuron constants [n] copied from the compiled constants (no transcendental is evaluated in torch, item 5).</para>
/// <para><b>One tick t</b> (the event engine's phases, in its order):</para>
/// <code>
/// Deliver:   acc = 0 + Σ_d ring[(t−d) mod R] · Wᵈ            (integer-valued float64: exact in any order, item 3; starting
///                                                           from +0 makes a signed zero +0, as in the event engine's ring)
///            drive = I_ext, then drive ← amp_c·s_c(t) + drive per current in spec order (C#, uploaded when it changes)
/// Traces:    GoalLif: a ← z·(1−α_s); a ← hz·α_s + a; hz ← Q(a);  b ← hz·(1−α_m); b ← ej·α_m + b; ej ← Q(b)
///            (Q = round half even to 2^-G, <see cref="TorchNumerics.RoundToGrid(Tensor, double, double)"/>)
///            rec = (trunc(hz·2^G) · W_recᵀ + 0)·2^-(F_r+G)   (exact integer sum, item 7)
/// Integrate: LifExp:   g_e ← acc_e·2^-F + g_e; g_i ← acc_i·2^-F + g_i; a ← u·α_m; a ← g_e·P_e + a; a ← g_i·P_i + a;
///                      [a ← drive·gain + a]; g_e ← g_e·α_e; g_i ← g_i·α_i
///            LifDelta: j ← (acc_e + acc_i)·2^-F; a ← u·α_m; [a ← drive·gain + a]; a ← a + j
///            GoalLif:  c ← (acc_e + acc_i)·2^-F; c ← c + rec; c ← c + bias; [c ← c + drive];
///                      a ← v·α_m; a ← c·(1−α_m) + a; v ← reset·z + a
/// Threshold: LifExp/LifDelta: if t − t_last &lt; n_ref, u is held; else u ← a, spike iff a &gt; θ (strict) or, with escape
///            noise, (a − θ)/δv &gt; Logit[top 16 bits of Word(Key(seed, EscapeNoise, instance, t), global id)] (item 6);
///            a spike sets u ← u_r, t_last ← t.  GoalLif: z ← [v &gt; thr] (or escape noise on v − thr).
/// Emit:      ring[t mod R] ← [spike mask | input counts of tick t]
/// </code>
/// <para>Every product and sum is a separate IEEE operation (<c>mul</c> then <c>add</c>; never <c>addcmul</c> or
/// <c>addmm</c> with scalars, which may fuse; item 4). Escape-noise division uses a device tensor divisor (a CPU-scalar
/// divisor may become a multiplication by the reciprocal on CUDA). Inputs (Poisson, spike times, clock) and currents are
/// generated in C# with the event engine's definitions and copied in as a [B, S_in] count tensor per tick. Each step runs
/// under <c>no_grad</c> in a dispose scope; persistent tensors are updated in place, so native memory does not grow.</para>
/// </remarks>
public sealed class DenseEngine : ISimulationEngine
{
    private readonly Device _device;
    private readonly int _n, _s, _nIn, _slots;
    private readonly List<(int Delay, Tensor WeightT)> _delays = [];
    private readonly Tensor _ring;
    private readonly Tensor _logit;
    private readonly DensePopulation[] _pops;
    private readonly bool _hasNoise;
    private readonly List<ISpikeSink> _sinks = [];
    private readonly List<IStepObserver> _observers = [];
    private readonly List<IRunGuard> _guards = [];
    private readonly List<IPlasticityRule> _rules = [];
    private readonly DensePlasticityContext _plasticity;
    // Input generators per instance (C#): Poisson next time and spike counter per source, spike-time cursors.
    private readonly double[][] _poissonNext;
    private readonly long[][] _poissonCount;
    private readonly int[][] _spikeCursor;
    private readonly double[] _inputCounts;
    private readonly long[] _noiseKeys;
    private readonly int[] _spikeBuffer;
    private readonly Scalar _zero = 0.0.ToScalar();
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
        _nIn = _s - _n;
        _slots = net.MaxDelayTicks + 1;
        int b = BatchSize;
        EnsureFits(net, b, options.MemoryBudgetBytes);

        using (no_grad())
        {
            BuildDelayMatrices(net);
            double[,]? wRec = BuildTraceCoupling(net);
            _ring = zeros(_slots, b, _s, dtype: ScalarType.Float64, device: _device);
            _logit = TorchNumerics.CreateLogitTable(_device);
            _pops = [.. net.Populations.Select(p => new DensePopulation(this, p, wRec))];
        }
        _hasNoise = _pops.Any(p => p.Pop.NoiseDeltaV > 0);

        _poissonNext = new double[b][];
        _poissonCount = new long[b][];
        _spikeCursor = new int[b][];
        for (int k = 0; k < b; k++)
        {
            _poissonNext[k] = new double[_s];
            _poissonCount[k] = new long[_s];
            _spikeCursor[k] = new int[net.Inputs.Length];
        }
        ResetInputs();
        _plasticity = new DensePlasticityContext(this);
        _traceVersion = Network.TraceSynapses.Version;   // the device copies were just built from the table
        _inputCounts = new double[b * _nIn];
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

    /// <summary>
    /// Adds a plasticity rule, called in the Plasticity phase of every tick: after Threshold and Emit of tick t (the
    /// spikes are in the ring), before the spike sinks, observers and guards; the same position as in
    /// <see cref="EventEngine"/>. The rule runs in C# on the CPU against a <see cref="IPlasticityContext"/> whose
    /// <see cref="IPlasticityContext.Variable"/> returns CPU copies of the population's [n] rows of batch element 0
    /// (copied from the device once per tick and variable, on first use), and whose
    /// <see cref="IPlasticityContext.SetTraceRow"/> writes the compiled table (<see cref="CompiledNetwork.SetTraceRow"/>,
    /// with its exactness check Σ_j |Q_ij|·2^G_in &lt; 2^53, numerics contract item 3) and then the dense W_rec on the
    /// device (the changed populations' [N, n] matrices are uploaded once, after all rules of the tick). A rule such as
    /// <c>RankRRule</c> is engine-independent code, so the update it computes from the same v, z, ej is the same bits on
    /// both engines; the cost is a device→host copy of the rows it reads and a host→device copy of W_rec per tick.
    /// Accepted only for a batch of one instance (the plastic weights live in the shared <see cref="CompiledNetwork"/>;
    /// per-instance weights batched on the device are future work).
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
            _ring.zero_();
            foreach (var p in _pops) p.ResetState();
        }
        ResetInputs();
        Tick = 0;
        Stopped = null;
    }

    /// <summary>
    /// The trace-coupling weights of population <paramref name="population"/> as the device holds them: [N·n] copied to
    /// the CPU, [source, local target] (integer-valued q summed over multapses); null without trace synapses. For specs.
    /// </summary>
    internal double[]? DeviceTraceWeights(int population)
    {
        SyncTraceWeights();
        var w = _pops[population].RecWeightT;
        if (w is null) return null;
        using Tensor c = w.cpu().contiguous().reshape(-1);
        return c.data<double>().ToArray();
    }

    // Input generators at tick 0: Poisson first times and counters, spike-time cursors (InstanceState.Reset).
    private void ResetInputs()
    {
        var net = Network;
        for (int k = 0; k < BatchSize; k++)
        {
            Array.Clear(_poissonNext[k]);
            Array.Clear(_poissonCount[k]);
            Array.Clear(_spikeCursor[k]);
            foreach (var inp in net.Inputs)
            {
                if (inp.RatePerMs is null) continue;
                var spec = (PoissonInput)inp.Spec;
                for (int s = 0; s < inp.Size; s++)
                    if (inp.RatePerMs[s] > 0)
                        _poissonNext[k][inp.Offset + s] = inp.NextPoissonTimeMs(net.Seed, FirstInstance + k, s, 0, spec.StartMs);
            }
        }
    }

    /// <summary>The full state at the current tick, in the engine-neutral format (<see cref="Checkpoint"/>).</summary>
    public Checkpoint SaveCheckpoint()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var instances = new InstanceCheckpoint[BatchSize];
        var states = _pops.Select(p => p.StateArrays()).ToArray();
        var lasts = _pops.Select(p => p.LastSpikeArray()).ToArray();
        // Pending source spikes: ticks Tick − D … Tick − 1 of the ring.
        int d = _slots - 1;
        var history = new List<(long Tick, double[] Counts)>();
        for (long tp = Math.Max(0, Tick - d); tp < Tick; tp++)
            using (Tensor row = _ring[(int)(tp % _slots)].cpu().contiguous())
                history.Add((tp, row.data<double>().ToArray()));
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
            instances[k] = new InstanceCheckpoint
            {
                State = state, LastSpike = last, HistoryTicks = [.. hTicks], HistorySources = [.. hSrc], HistoryCounts = [.. hCount],
                PoissonNextMs = (double[])_poissonNext[k].Clone(), PoissonCount = (long[])_poissonCount[k].Clone(),
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
        var ring = new double[_slots * BatchSize * _s];
        for (int k = 0; k < BatchSize; k++)
        {
            var c = checkpoint.Instances[k];
            for (int j = 0; j < c.HistoryTicks.Length; j++)
            {
                long tp = c.HistoryTicks[j];
                if (tp < tick - (_slots - 1) || tp >= tick) continue;
                ring[((tp % _slots) * BatchSize + k) * _s + c.HistorySources[j]] += c.HistoryCounts[j];
            }
            c.PoissonNextMs.CopyTo(_poissonNext[k], 0);
            c.PoissonCount.CopyTo(_poissonCount[k], 0);
            Array.Clear(_spikeCursor[k]);
        }
        using (no_grad())
        {
            using (Tensor r = tensor(ring, dtype: ScalarType.Float64).reshape(_slots, BatchSize, _s)) _ring.copy_(r);
            foreach (var p in _pops) p.RestoreState(checkpoint);
        }
        Tick = tick;
        Stopped = null;
    }

    /// <summary>Adds a spike sink, called per instance per tick with ascending global ids (as in the event engine).</summary>
    public void AddSpikeSink(ISpikeSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _sinks.Add(sink);
    }

    // Version of the compiled trace table that the device copies of W_rec reflect.
    private long _traceVersion;

    /// <summary>
    /// The plastic weights live in the compiled network. Writes through this engine's plasticity context are mirrored
    /// as they happen; any other write (e.g. a per-trial rule update between runs, or a caller using
    /// <see cref="CompiledNetwork.SetTraceRow"/>) shows as a newer table version, and the device copies are re-read
    /// here, before the tick that uses them.
    /// </summary>
    private void SyncTraceWeights()
    {
        var tr = Network.TraceSynapses;
        if (tr.Version == _traceVersion) return;
        foreach (var p in _pops)
        {
            for (int i = p.Pop.Offset; i < p.Pop.Offset + p.Pop.Size; i++) p.MirrorRow(i, tr);
            p.UploadTraceWeights();
        }
        _traceVersion = tr.Version;
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
    /// population in batch element <paramref name="batchIndex"/>; <c>v_mv = u + E_L</c> is computed in C# doubles.
    /// </summary>
    public double[] GetVariable(int batchIndex, string population, string variable)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(batchIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(batchIndex, BatchSize);
        var pop = _pops[Network.Population(population).Index];
        return pop.Read(batchIndex, variable);
    }

    /// <summary>
    /// One tick for every instance, in the order of the class remarks (Deliver → traces → exact W_rec·hz → Integrate →
    /// Threshold → Emit), then the spike sinks.
    /// </summary>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long t = Tick;
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        SyncTraceWeights();
        foreach (var p in _pops) p.UpdateDrive(t);
        GenerateInputs(t);
        if (_hasNoise)
            for (int k = 0; k < BatchSize; k++)
                _noiseKeys[k] = unchecked((long)CounterRng.Key(Network.Seed, RngStreams.EscapeNoise, (ulong)(FirstInstance + k), (ulong)t));

        bool[]? mask = null;
        using (no_grad())
        using (NewDisposeScope())
        {
            Tensor acc = zeros(BatchSize, 2 * _n, dtype: ScalarType.Float64, device: _device);
            foreach (var (d, w) in _delays)
            {
                if (t - d < 0) continue;
                Tensor counts = _ring[(int)((t - d) % _slots)];
                acc.add_(SourceProduct(counts, w), TorchNumerics.One);
            }
            Tensor accE = acc.narrow(1, 0, _n), accI = acc.narrow(1, _n, _n);

            foreach (var p in _pops) p.UpdateTraces();
            Tensor? hzAll = null;
            if (_pops.Any(p => p.RecWeightT is not null))
                hzAll = cat([.. _pops.Select(p => p.HzOrZeros())], 1);

            Tensor? keys = null;
            if (_hasNoise)
                keys = tensor(_noiseKeys, dtype: ScalarType.Int64).reshape(BatchSize, 1).to(_device);

            var spikeParts = new Tensor[_pops.Length];
            for (int i = 0; i < _pops.Length; i++)
            {
                var p = _pops[i];
                spikeParts[i] = p.Advance(t, accE.narrow(1, p.Pop.Offset, p.Pop.Size), accI.narrow(1, p.Pop.Offset, p.Pop.Size), hzAll, keys);
            }
            Tensor spikes = cat(spikeParts, 1);   // bool [B, N]
            Tensor row = spikes.to_type(ScalarType.Float64);
            if (_nIn > 0)
            {
                Tensor inputs = tensor(_inputCounts, dtype: ScalarType.Float64).reshape(BatchSize, _nIn).to(_device);
                row = cat([row, inputs], 1);
            }
            _ring[(int)(t % _slots)].copy_(row);
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
        DenseStateReader? reader = _observers.Count > 0 ? new DenseStateReader(_pops.Select(p => p.ReadAll()).ToArray(), _pops.Select(p => p.Pop.Size).ToArray()) : null;
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
        foreach (var (_, w) in _delays) w.Dispose();
        _ring.Dispose();
        _logit.Dispose();
        foreach (var p in _pops) p.Dispose();
        _zero.Dispose();
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
        double bytes = 8.0 * (delays * s * 2 * n + (net.TraceSynapses.Count > 0 ? n * n : 0) + (net.MaxDelayTicks + 1.0) * batch * s + 16.0 * batch * n);
        if (bytes * 2 > budget)
            throw new SpecException([new SpecError("run.batch",
                $"the dense engine needs about {bytes * 2 / (1L << 30):F1} GiB ({delays} distinct delay(s) × [{s:N0} sources × {2 * n:N0}] float64 weight matrices, batch {batch}), " +
                $"more than the {budget / (double)(1L << 30):F1} GiB available; use the event engine, fewer distinct delays or a smaller network")]);
    }

    // counts [B, S] · W [S, 2N]. Integer-valued float64 products and sums below 2^53 are exact, so restricting the
    // product to the sources that spiked in some instance (rows whose counts are all zero contribute exact zeros)
    // gives the same numbers as the full product, only faster when activity is sparse.
    private Tensor SourceProduct(Tensor counts, Tensor weightT)
    {
        Tensor active = counts.ne(_zero).any(0).nonzero().reshape(-1);
        long k = active.shape[0];
        if (k == 0) return zeros(BatchSize, 2 * _n, dtype: ScalarType.Float64, device: _device);
        if (k * 4 > _s) return counts.matmul(weightT);
        return counts.index_select(1, active).matmul(weightT.index_select(0, active));
    }

    private void BuildDelayMatrices(CompiledNetwork net)
    {
        var syn = net.Synapses;
        var byDelay = new SortedDictionary<int, double[]>();
        for (int s = 0; s < _s; s++)
            for (int g = syn.SegmentOffsets[s]; g < syn.SegmentOffsets[s + 1]; g++)
            {
                int d = syn.SegmentDelay[g];
                if (!byDelay.TryGetValue(d, out var w)) byDelay[d] = w = new double[(long)_s * 2 * _n];
                for (int k = syn.SegmentStart[g]; k < syn.SegmentStart[g + 1]; k++)
                {
                    int q = syn.Q[k];
                    long column = q >= 0 ? syn.Target[k] : _n + syn.Target[k];
                    w[(long)s * 2 * _n + column] += q;
                }
            }
        foreach (var (d, w) in byDelay)
        {
            using Tensor cpu = tensor(w, dtype: ScalarType.Float64).reshape(_s, 2 * _n);
            _delays.Add((d, cpu.to(_device)));
        }
    }

    private static double[,]? BuildTraceCoupling(CompiledNetwork net)
    {
        var tr = net.TraceSynapses;
        if (tr.Count == 0) return null;
        var w = new double[net.NeuronCount, net.NeuronCount];
        for (int i = 0; i < net.NeuronCount; i++)
            for (int k = tr.RowStart[i]; k < tr.RowStart[i + 1]; k++) w[i, tr.Source[k]] += tr.Q[k];
        return w;
    }

    // Input counts of tick t per instance, with the event engine's definitions (InstanceState.EmitInputs):
    // Poisson spike k at t_k = NextPoissonTimeMs(k, t_{k−1}) falls into tick ⌊t_k/dt⌋ unless t_k ≥ stop;
    // spike-time inputs at their compiled ticks; clock channel (t mod period)/span.
    private void GenerateInputs(long t)
    {
        if (_nIn == 0) return;
        Array.Clear(_inputCounts);
        var net = Network;
        for (int k = 0; k < BatchSize; k++)
        {
            int instance = FirstInstance + k;
            int row = k * _nIn;
            for (int i = 0; i < net.Inputs.Length; i++)
            {
                var inp = net.Inputs[i];
                if (inp.RatePerMs is { } rates)
                {
                    for (int s = 0; s < inp.Size; s++)
                    {
                        if (rates[s] <= 0) continue;
                        int src = inp.Offset + s;
                        ref double next = ref _poissonNext[k][src];
                        while (!inp.PoissonStopped(next) && TimeGrid.FloorTicks(next, net.DtMs) == t)
                        {
                            _inputCounts[row + src - _n] += 1;
                            next = inp.NextPoissonTimeMs(net.Seed, instance, s, ++_poissonCount[k][src], next);
                        }
                    }
                }
                else if (inp.SpikeTicks is { } ticks)
                {
                    ref int c = ref _spikeCursor[k][i];
                    while (c < ticks.Length && ticks[c] < t) c++;
                    while (c < ticks.Length && ticks[c] == t) { _inputCounts[row + inp.Offset + inp.SpikeIndices![c] - _n] += 1; c++; }
                }
                else if (inp.ClockSpanTicks > 0)
                {
                    int ch = inp.ClockChannelAt(t);
                    if (ch >= 0) _inputCounts[row + inp.Offset + ch - _n] += 1;
                }
            }
        }
    }

    /// <summary>
    /// The <see cref="IPlasticityContext"/> of a <see cref="DenseEngine"/> (batch of one): state rows of batch element 0 are
    /// copied to the CPU on first use in a tick and kept until the tick ends; trace rows are written into the compiled table
    /// (with its exactness check) and mirrored into the dense W_rec, uploaded to the device at the end of the tick.
    /// </summary>
    private sealed class DensePlasticityContext(DenseEngine engine) : IPlasticityContext
    {
        private readonly Dictionary<(int Population, string Name, bool Frame), double[]> _rows = [];

        /// <inheritdoc/>
        public CompiledNetwork Network => engine.Network;

        /// <summary>Forgets the copies of the previous tick.</summary>
        public void BeginTick() => _rows.Clear();

        /// <summary>Uploads the W_rec of every population a rule wrote to.</summary>
        public void EndTick()
        {
            foreach (var p in engine._pops) p.UploadTraceWeights();
            _rows.Clear();
        }

        /// <inheritdoc/>
        public ReadOnlySpan<double> Variable(int population, string variable) => Row(population, variable, true);

        /// <inheritdoc/>
        public void SetTraceRow(int target, ReadOnlySpan<long> q)
        {
            bool inSync = InSync;
            engine.Network.SetTraceRow(target, q);   // checks Σ|q|·2^G_in < 2^53 and throws, row unchanged, beyond it
            Mirror(target, inSync);
        }

        /// <inheritdoc/>
        public void SetTraceRowWeights(int target, ReadOnlySpan<double> weights)
        {
            bool inSync = InSync;
            engine.Network.SetTraceRowWeights(target, weights);   // the same checks, after rounding onto the grid
            Mirror(target, inSync);
        }

        /// <summary>The device copy holds every write made so far (none behind its back).</summary>
        private bool InSync => engine.Network.TraceSynapses.Version == engine._traceVersion;

        /// <summary>
        /// Copies the row just written into the device copy. The copy stays current only if it was before the write; an
        /// earlier foreign write (not mirrored) leaves the version behind, so the next tick re-reads everything.
        /// </summary>
        private void Mirror(int target, bool wasInSync)
        {
            var net = engine.Network;
            engine._pops[net.PopulationOf(target)].MirrorRow(target, net.TraceSynapses);
            if (wasInSync) engine._traceVersion = net.TraceSynapses.Version;
        }

        /// <inheritdoc/>
        public double Read(int population, string variable, int index) => Row(population, variable, false)[index];

        /// <inheritdoc/>
        public StateHandle Resolve(int population, string variable)
        {
            var names = Naming.StateVariables(engine.Network.Populations[population].Model);
            for (int k = 0; k < names.Count; k++) if (names[k] == variable) return new StateHandle(population, k);
            throw new ArgumentException($"'{variable}' is not a state variable of population {population} ({string.Join(", ", names)})", nameof(variable));
        }

        /// <inheritdoc/>
        public double Read(in StateHandle handle, int index)
            => Read(handle.Population, Naming.StateVariables(engine.Network.Populations[handle.Population].Model)[handle.Variable], index);

        // frame: the model frame of Variable (checkpoint names); otherwise absolute units (IStateReader names).
        private double[] Row(int population, string name, bool frame)
        {
            if (_rows.TryGetValue((population, name, frame), out var row)) return row;
            var pop = engine._pops[population];
            row = frame ? pop.ReadFrame(0, name) : pop.Read(0, name);
            _rows[(population, name, frame)] = row;
            return row;
        }
    }

    /// <summary>One population's tensors and its per-tick kernels (see the class remarks for the sequence).</summary>
    private sealed class DensePopulation : IDisposable
    {
        private readonly DenseEngine _e;
        public readonly CompiledPopulation Pop;
        private readonly List<Tensor> _owned = [];
        // (state tensor, its value at tick 0) for ResetState.
        private readonly List<(Tensor State, Tensor Initial)> _initial = [];
        // Host copy of RecWeightT ([N·n], [source, local target]) kept equal to the compiled trace table by MirrorRow.
        private readonly double[]? _recHost;
        private bool _recDirty;
        // State [B, n].
        private readonly Tensor? _u, _ge, _gi, _v, _z, _hz, _ej, _last;
        // Constants [n].
        private readonly Tensor? _alphaMem, _pExc, _pInh, _driveGain, _alphaExc, _alphaInh, _theta, _reset, _nref;
        private readonly Tensor? _alphaSyn, _oneMinusAlphaSyn, _oneMinusAlphaMem, _bias, _resetJump, _threshold;
        private readonly Tensor? _noiseDv, _ids;
        private readonly double[] _eLeak = [];
        private readonly Scalar _scale;
        private readonly double _traceScale, _traceUnit, _recUnit, _recScale;
        /// <summary>W_rec rows of this population, transposed: [N, n]; null when it has no trace-coupled inputs.</summary>
        public readonly Tensor? RecWeightT;
        // Drive (C#, same as PopulationState.UpdateDrive) and its device copy [n].
        private readonly double[] _drive;
        private readonly double[] _lastScale;
        private Tensor? _driveT;

        public DensePopulation(DenseEngine e, CompiledPopulation p, double[,]? wRec)
        {
            _e = e;
            Pop = p;
            int b = e.BatchSize, n = p.Size;
            _scale = FixedPoint.Scale(p.WeightFractionBits).ToScalar();
            _drive = (double[])p.ConstantDrive.Clone();
            _lastScale = new double[p.Currents.Length];
            Array.Fill(_lastScale, double.NaN);
            if (p.NoiseDeltaV > 0)
                using (Scalar dv = p.NoiseDeltaV.ToScalar()) _noiseDv = Own(full(n, dv, dtype: ScalarType.Float64, device: e._device));
            _ids = Own(arange(p.Offset, p.Offset + n, dtype: ScalarType.Int64, device: e._device));
            ulong seed = e.Network.Seed;
            switch (p.Constants)
            {
                case LifExpConstants c:
                {
                    var q = (LifExpParameters)p.Spec.Parameters;
                    _eLeak = c.ELeakMv;
                    _alphaMem = Const(c.AlphaMem); _pExc = Const(c.PExc); _pInh = Const(c.PInh); _driveGain = Const(c.DriveGain);
                    _alphaExc = Const(c.AlphaExc); _alphaInh = Const(c.AlphaInh); _theta = Const(c.ThetaU); _reset = Const(c.ResetU);
                    _nref = Own(tensor(c.RefractoryTicks.Select(x => (long)x).ToArray(), dtype: ScalarType.Int64).to(e._device));
                    _u = State(k => q.VInitMv is null ? new double[n] : Draw(q.VInitMv, "v_init_mv", seed, k, c.ELeakMv));
                    _ge = State(k => Draw(q.GExcInitMv, "g_exc_init_mv", seed, k, null));
                    _gi = State(k => Draw(q.GInhInitMv, "g_inh_init_mv", seed, k, null));
                    _last = Own(zeros(b, n, dtype: ScalarType.Int64, device: e._device));
                    FillNeverSpiked(_last);
                    break;
                }
                case LifDeltaConstants c:
                {
                    var q = (LifDeltaParameters)p.Spec.Parameters;
                    _eLeak = c.ELeakMv;
                    _alphaMem = Const(c.AlphaMem); _driveGain = Const(c.DriveGain); _theta = Const(c.ThetaU); _reset = Const(c.ResetU);
                    _nref = Own(tensor(c.RefractoryTicks.Select(x => (long)x).ToArray(), dtype: ScalarType.Int64).to(e._device));
                    _u = State(k => q.VInitMv is null ? new double[n] : Draw(q.VInitMv, "v_init_mv", seed, k, c.ELeakMv));
                    _last = Own(zeros(b, n, dtype: ScalarType.Int64, device: e._device));
                    FillNeverSpiked(_last);
                    break;
                }
                case GoalLifConstants c:
                {
                    var q = (GoalLifParameters)p.Spec.Parameters;
                    _alphaMem = Const(c.AlphaMem); _oneMinusAlphaMem = Const(c.OneMinusAlphaMem);
                    _alphaSyn = Const(c.AlphaSyn); _oneMinusAlphaSyn = Const(c.OneMinusAlphaSyn);
                    _bias = Const(c.Bias); _resetJump = Const(c.ResetJump); _threshold = Const(c.Threshold);
                    _traceScale = c.TraceScale;
                    _traceUnit = c.TraceUnit;
                    _recUnit = Math.ScaleB(1.0, -(p.TraceWeightFractionBits + p.TraceInputFractionBits));
                    _recScale = Math.ScaleB(1.0, p.TraceInputFractionBits);
                    _v = State(k => Draw(q.VInit, "v_init", seed, k, null));
                    _z = Own(zeros(b, n, dtype: ScalarType.Float64, device: e._device));
                    _hz = Own(zeros(b, n, dtype: ScalarType.Float64, device: e._device));
                    _ej = Own(zeros(b, n, dtype: ScalarType.Float64, device: e._device));
                    if (wRec is not null)
                    {
                        int nAll = e._n;
                        var wt = new double[nAll * n];   // [source, local target]
                        for (int i = 0; i < n; i++)
                            for (int s = 0; s < nAll; s++) wt[s * n + i] = wRec[p.Offset + i, s];
                        RecWeightT = Own(tensor(wt, dtype: ScalarType.Float64).reshape(nAll, n).to(e._device));
                        _recHost = wt;
                    }
                    break;
                }
                default:
                    throw new NotSupportedException($"population '{p.Name}': model {p.Model} is not supported by the dense engine");
            }
        }

        // An explicit Scalar kept alive by the using (see TorchNumerics.One on temporary Scalars).
        private static void FillNeverSpiked(Tensor last)
        {
            using Scalar never = InstanceCheckpoint.NeverSpiked.ToScalar();
            last.fill_(never);
        }

        private Tensor Own(Tensor t) { _owned.Add(t); return t; }

        private Tensor Const(double[] values)
        {
            using Tensor cpu = tensor(values, dtype: ScalarType.Float64);
            return Own(cpu.to(_e._device).clone());
        }

        private Tensor State(Func<int, double[]> perInstance)
        {
            int b = _e.BatchSize, n = Pop.Size;
            var all = new double[b * n];
            for (int k = 0; k < b; k++) perInstance(_e.FirstInstance + k).CopyTo(all, k * n);
            using Tensor cpu = tensor(all, dtype: ScalarType.Float64).reshape(b, n);
            Tensor state = Own(cpu.to(_e._device).clone());
            _initial.Add((state, Own(state.clone())));
            return state;
        }

        /// <summary>State back to tick 0: drawn initial values, z = hz = ej = 0, never spiked; the drive is recomputed.</summary>
        public void ResetState()
        {
            foreach (var (state, initial) in _initial) state.copy_(initial);
            _z?.zero_();
            _hz?.zero_();
            _ej?.zero_();
            if (_last is not null) FillNeverSpiked(_last);
            Array.Fill(_lastScale, double.NaN);
        }

        /// <summary>
        /// A CPU copy of one state variable of batch element <paramref name="batchIndex"/> in the model frame of
        /// <see cref="Checkpoint"/> (the names and units of the event engine's <see cref="IPlasticityContext.Variable"/>).
        /// </summary>
        public double[] ReadFrame(int batchIndex, string name)
        {
            foreach (var (n, t) in StateTensors())
                if (n == name)
                    using (Tensor row = t[batchIndex].cpu().contiguous()) return row.data<double>().ToArray();
            throw new ArgumentException($"'{name}' is not a state variable of population '{Pop.Name}'", nameof(name));
        }

        /// <summary>
        /// Copies the compiled trace row of global target <paramref name="target"/> (a neuron of this population) into
        /// the host copy of W_rec: column i = target − offset, W[s, i] = Σ of the row's q over multapses from source s
        /// (integer-valued, exact). The device matrix is updated by <see cref="UploadTraceWeights"/>.
        /// </summary>
        public void MirrorRow(int target, TraceCouplingTable tr)
        {
            if (_recHost is null) return;   // no trace synapses in the network: every row is empty
            int n = Pop.Size, i = target - Pop.Offset;
            for (int k = tr.RowStart[target]; k < tr.RowStart[target + 1]; k++) _recHost[tr.Source[k] * n + i] = 0;
            for (int k = tr.RowStart[target]; k < tr.RowStart[target + 1]; k++) _recHost[tr.Source[k] * n + i] += tr.Q[k];
            _recDirty = true;
        }

        /// <summary>Copies the host W_rec to the device if a row changed since the last upload.</summary>
        public void UploadTraceWeights()
        {
            if (!_recDirty || RecWeightT is null) return;
            using (no_grad())
            using (Tensor cpu = tensor(_recHost!, dtype: ScalarType.Float64).reshape(RecWeightT.shape))
                RecWeightT.copy_(cpu);
            _recDirty = false;
        }

        // PopulationState.DrawInitial: key = Key(seed, PopulationValues(pop, "init:" + name), instance, 0); x_i = Draw(key, i) − offset_i (or − 0.0).
        private double[] Draw(Value v, string name, ulong seed, int instance, double[]? offset)
        {
            ulong key = CounterRng.Key(seed, RngStreams.PopulationValues(Pop.Index, "init:" + name), (ulong)instance, 0);
            var a = new double[Pop.Size];
            for (int i = 0; i < a.Length; i++) a[i] = v.Draw(key, i) - (offset is null ? 0.0 : offset[i]);
            return a;
        }

        // As PopulationState.UpdateDrive: CompiledPopulation.RefreshCurrentScales and DriveInto, then a device copy.
        public void UpdateDrive(long tick)
        {
            if (!Pop.HasDrive) return;
            bool changed = Pop.RefreshCurrentScales(tick, _lastScale) || _driveT is null;
            if (!changed) return;
            Pop.DriveInto(_lastScale, _drive);   // the same host formula as the event engine
            _driveT?.Dispose();
            using (no_grad())
            using (Tensor cpu = tensor(_drive, dtype: ScalarType.Float64))
                _driveT = cpu.to(_e._device).clone();
        }

        public void UpdateTraces()
        {
            if (_hz is null) return;
            Tensor a = _z!.mul(_oneMinusAlphaSyn!);
            a = _hz.mul(_alphaSyn!).add(a, TorchNumerics.One);
            _hz.copy_(TorchNumerics.RoundToGrid(a, _traceScale, _traceUnit));
            Tensor bb = _hz.mul(_oneMinusAlphaMem!);
            bb = _ej!.mul(_alphaMem!).add(bb, TorchNumerics.One);
            _ej.copy_(TorchNumerics.RoundToGrid(bb, _traceScale, _traceUnit));
        }

        public Tensor HzOrZeros() => _hz is not null
            ? _hz
            : zeros(_e.BatchSize, Pop.Size, dtype: ScalarType.Float64, device: _e._device);

        /// <summary>Integrate and threshold one tick; returns the bool spike mask [B, n].</summary>
        public Tensor Advance(long t, Tensor accE, Tensor accI, Tensor? hzAll, Tensor? keys)
        {
            switch (Pop.Constants)
            {
                case LifExpConstants:
                {
                    _ge!.copy_(accE.mul(_scale).add(_ge, TorchNumerics.One));
                    _gi!.copy_(accI.mul(_scale).add(_gi, TorchNumerics.One));
                    Tensor a = _u!.mul(_alphaMem!);
                    a = _ge.mul(_pExc!).add(a, TorchNumerics.One);
                    a = _gi.mul(_pInh!).add(a, TorchNumerics.One);
                    if (Pop.HasDrive) a = _driveT!.mul(_driveGain!).add(a, TorchNumerics.One);
                    _ge.mul_(_alphaExc!);
                    _gi.mul_(_alphaInh!);
                    return ThresholdWithRefractoriness(t, a, keys);
                }
                case LifDeltaConstants:
                {
                    Tensor j = accE.add(accI, TorchNumerics.One).mul(_scale);
                    Tensor a = _u!.mul(_alphaMem!);
                    if (Pop.HasDrive) a = _driveT!.mul(_driveGain!).add(a, TorchNumerics.One);
                    a = a.add(j, TorchNumerics.One);
                    return ThresholdWithRefractoriness(t, a, keys);
                }
                default:
                {
                    Tensor c = accE.add(accI, TorchNumerics.One).mul(_scale);
                    if (RecWeightT is not null)
                    {
                        // Exact W_rec·hz: hz·2^G_in is an integer (every source trace lies on a grid at least as fine as
                        // G_in allows, so trunc is a no-op; the event engine forms Q·hz in float64 from the same grid
                        // values, and a checkpoint with an off-grid hz, where trunc would act, is refused), an exact
                        // integer-valued matmul, + 0 (a signed zero becomes +0 like a long sum converted to double), × 2^-(F+G_in).
                        using Scalar g = _recScale.ToScalar();
                        using Scalar zero = 0.0.ToScalar();
                        using Scalar unit = _recUnit.ToScalar();
                        Tensor h = hzAll!.mul(g).trunc_();
                        Tensor rec = h.matmul(RecWeightT).add_(zero, TorchNumerics.One).mul_(unit);
                        c = c.add(rec, TorchNumerics.One);
                    }
                    c = c.add(_bias!, TorchNumerics.One);
                    if (Pop.HasDrive) c = c.add(_driveT!, TorchNumerics.One);
                    Tensor a = _v!.mul(_alphaMem!);
                    a = c.mul(_oneMinusAlphaMem!).add(a, TorchNumerics.One);
                    _v.copy_(_resetJump!.mul(_z!).add(a, TorchNumerics.One));
                    Tensor spike = Fires(_v, _threshold!, keys);
                    _z!.copy_(spike.to_type(ScalarType.Float64));
                    return spike;
                }
            }
        }

        // t − t_last < n_ref: u held; else u ← a and threshold on a; a spike sets u ← u_r, t_last ← t.
        private Tensor ThresholdWithRefractoriness(long t, Tensor a, Tensor? keys)
        {
            using Scalar ts = t.ToScalar();
            Tensor active = _last!.neg().add_(ts, TorchNumerics.One).ge(_nref!);
            Tensor spike = Fires(a, _theta!, keys).logical_and_(active);
            Tensor u = where(active, a, _u!);
            u = where(spike, _reset!.expand_as(u), u);
            _u!.copy_(u);
            _last.masked_fill_(spike, ts);
            return spike;
        }

        // Strict threshold x > θ, or escape noise: (x − θ)/δv > Logit[top 16 bits of Word(key_b, global id)].
        private Tensor Fires(Tensor x, Tensor theta, Tensor? keys)
        {
            if (_noiseDv is null) return x.gt(theta);
            Tensor z = x.sub(theta).div(_noiseDv);
            Tensor word = TorchNumerics.Word(keys!, _ids!);
            return TorchNumerics.EscapeNoiseSpikes(z, word, _e._logit);
        }

        /// <summary>State tensors in the model frames of <see cref="Checkpoint"/>, copied to [B·n] arrays.</summary>
        public IEnumerable<(string Name, double[] Values)> StateArrays()
        {
            foreach (var (name, t) in StateTensors())
                using (Tensor c = t.cpu().contiguous().reshape(-1)) yield return (name, c.data<double>().ToArray());
        }

        private IEnumerable<(string Name, Tensor T)> StateTensors() => Pop.Model switch
        {
            NeuronModel.LifExp => [("u_mv", _u!), ("g_exc_mv", _ge!), ("g_inh_mv", _gi!)],
            NeuronModel.LifDelta => [("u_mv", _u!)],
            _ => [("v", _v!), ("z", _z!), ("hz", _hz!), ("ej", _ej!)],
        };

        /// <summary>Last spike ticks [B·n], or null for models without refractoriness.</summary>
        public long[]? LastSpikeArray()
        {
            if (_last is null) return null;
            using Tensor c = _last.cpu().contiguous().reshape(-1);
            return c.data<long>().ToArray();
        }

        /// <summary>Sets the state tensors from a checkpoint.</summary>
        public void RestoreState(Checkpoint checkpoint)
        {
            int b = checkpoint.Instances.Length, n = Pop.Size;
            foreach (var (name, t) in StateTensors())
            {
                string key = $"{Pop.Name}.{name}";
                var all = new double[b * n];
                for (int k = 0; k < b; k++)
                {
                    if (!checkpoint.Instances[k].State.TryGetValue(key, out var saved) || saved.Length != n)
                        throw new InvalidDataException($"checkpoint lacks state '{key}' of length {n}");
                    saved.CopyTo(all, k * n);
                }
                using Tensor src = tensor(all, dtype: ScalarType.Float64).reshape(b, n);
                t.copy_(src);
            }
            if (_last is not null)
            {
                var all = new long[b * n];
                for (int k = 0; k < b; k++) checkpoint.Instances[k].LastSpike.AsSpan(Pop.Offset, n).CopyTo(all.AsSpan(k * n));
                using Tensor src = tensor(all, dtype: ScalarType.Int64).reshape(b, n);
                _last.copy_(src);
            }
            Array.Fill(_lastScale, double.NaN);
        }

        /// <summary>Every named state variable (absolute units) of every batch element: variable → [B·n].</summary>
        public Dictionary<string, double[]> ReadAll()
        {
            var result = new Dictionary<string, double[]>();
            int b = _e.BatchSize;
            foreach (var v in Naming.StateVariables(Pop.Model))
            {
                var all = new double[b * Pop.Size];
                for (int k = 0; k < b; k++) Read(k, v).CopyTo(all, k * Pop.Size);
                result[v] = all;
            }
            return result;
        }

        public double[] Read(int batchIndex, string variable)
        {
            var names = Naming.StateVariables(Pop.Model);
            if (!names.Contains(variable))
                throw new ArgumentException($"'{variable}' is not a state variable of population '{Pop.Name}' ({string.Join(", ", names)})", nameof(variable));
            Tensor source = Pop.Model switch
            {
                NeuronModel.LifExp => variable switch { "v_mv" => _u!, "g_exc_mv" => _ge!, _ => _gi! },
                NeuronModel.LifDelta => _u!,
                _ => variable switch { "v" => _v!, "z" => _z!, "hz" => _hz!, _ => _ej! },
            };
            double[] values;
            using (Tensor row = source[batchIndex].cpu().contiguous()) values = row.data<double>().ToArray();
            if (variable == "v_mv")
                for (int i = 0; i < values.Length; i++) values[i] = values[i] + _eLeak[i];
            return values;
        }

        public void Dispose()
        {
            foreach (var t in _owned) t.Dispose();
            _driveT?.Dispose();
            _scale.Dispose();
        }
    }
}

/// <summary>Observer access to a CPU copy of the dense state after a tick.</summary>
internal sealed class DenseStateReader(Dictionary<string, double[]>[] values, int[] sizes) : IStateReader
{
    private readonly string[][] _names = [.. values.Select(v => v.Keys.ToArray())];

    /// <summary>The batch element being observed.</summary>
    public int Batch { get; set; }

    public double Read(int population, string variable, int index) => values[population][variable][Batch * sizes[population] + index];

    public StateHandle Resolve(int population, string variable)
    {
        int v = Array.IndexOf(_names[population], variable);
        if (v < 0) throw new ArgumentException($"'{variable}' is not a state variable of population {population}", nameof(variable));
        return new StateHandle(population, v);
    }

    public double Read(in StateHandle handle, int index) => values[handle.Population][_names[handle.Population][handle.Variable]][Batch * sizes[handle.Population] + index];
}
