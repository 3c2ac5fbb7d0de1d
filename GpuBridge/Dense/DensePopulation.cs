using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.EventCore.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Sim.GpuBridge;

/// <summary>
/// One population's tensors on the device, for any registered model: one [B, n] float64 tensor per stored state
/// variable (the model's <see cref="NeuronModelDefinition.StateVariables"/>), the last-spike ticks [B, n] int64 when the
/// model has refractoriness, and the model's per-neuron constants as [n] tensors (<see cref="ModelConstants.DenseArrays"/>,
/// the compiled doubles: no transcendental is evaluated in torch). It implements <see cref="IDenseKernel{T}"/> for the
/// model's dense step (<see cref="NeuronModelDefinition.DenseStep{T}"/>), which is where the model's equations live.
/// </summary>
internal sealed class DensePopulation : IDenseKernel<Tensor>, IDisposable
{
    private readonly Device _device;
    private readonly int _batch, _firstInstance;
    private readonly Tensor _logit;
    public readonly CompiledPopulation Pop;
    private readonly NeuronModelDefinition _model;
    private readonly List<Tensor> _owned = [];
    private readonly Tensor[] _state, _initial, _constants;
    private readonly Tensor? _last, _nref, _noiseDv, _ids;
    // The fast coupling (null without): W_f as [source j, target i], θ [n], local indices 0..n−1.
    private readonly FastCoupling? _fast;
    private readonly Tensor? _fastWeight, _fastTheta, _localIds;
    private static readonly Scalar NegativeInfinity = double.NegativeInfinity.ToScalar(), Zero = 0.0.ToScalar();
    private readonly Scalar _scale;
    // Drive (C#, the same host formula as the event engine) and its device copy: [n], or [B, n] with a per-tick input.
    private readonly double[] _drive, _lastScale;
    private double[]? _external;   // [B·n] per-tick input (sample-and-hold), null unless enabled
    private double[]? _driveAll;   // [B·n] host drive with the per-tick input, reused
    private Tensor? _driveT;
    private int _driveLength;      // elements of _driveT (n, or B·n with a per-tick input)
    private readonly HostStaging _driveStaging = new();
    private double[]? _clamp;      // [B·n] spike clamp (NaN = free), held, null unless enabled
    private Tensor? _clampT;       // its device copy [B, n]
    private readonly HostStaging _clampStaging = new();
    private readonly long[] _shapeBatch, _shapeOne;   // [B, n] and [n]
    // This tick's inputs (set by Advance, valid during the model's step).
    private Tensor? _exc, _inh, _traceInput, _keys;

    public DensePopulation(CompiledPopulation p, Device device, int batch, int firstInstance, ulong seed, Tensor logitTable)
    {
        Pop = p;
        _model = p.Model;
        _device = device;
        _batch = batch;
        _firstInstance = firstInstance;
        _logit = logitTable;
        int n = p.Size;
        _scale = FixedPoint.Scale(p.WeightFractionBits).ToScalar();
        WeightScale = FixedPoint.Scale(p.WeightFractionBits);
        _drive = (double[])p.ConstantDrive.Clone();
        _shapeBatch = [batch, n];
        _shapeOne = [n];
        _lastScale = new double[p.Currents.Length];
        Array.Fill(_lastScale, double.NaN);
        HasDrive = p.HasDrive;
        if (p.NoiseDeltaV > 0)
            using (Scalar dv = p.NoiseDeltaV.ToScalar()) _noiseDv = Own(full(n, dv, dtype: ScalarType.Float64, device: device));
        _ids = Own(arange(p.Offset, p.Offset + n, dtype: ScalarType.Int64, device: device));
        _constants = [.. p.Constants.DenseArrays.Select(Const)];

        // Initial state of every instance, drawn by the model (the definition every engine shares).
        int vars = _model.StateVariables.Count;
        var host = new double[vars][];
        for (int v = 0; v < vars; v++) host[v] = new double[batch * n];
        var one = new double[vars][];
        for (int v = 0; v < vars; v++) one[v] = new double[n];
        for (int k = 0; k < batch; k++)
        {
            _model.Initialise(p, seed, firstInstance + k, one);
            for (int v = 0; v < vars; v++) one[v].CopyTo(host[v], k * n);
        }
        _state = new Tensor[vars];
        _initial = new Tensor[vars];
        for (int v = 0; v < vars; v++)
        {
            using Tensor cpu = tensor(host[v], dtype: ScalarType.Float64).reshape(batch, n);
            _state[v] = Own(cpu.to(device).clone());
            _initial[v] = Own(_state[v].clone());
        }
        if (_model.FastCouplingOf(p.Constants) is { } fast)
        {
            _fast = fast;
            using (Tensor w = tensor(fast.Weight, dtype: ScalarType.Float64).reshape(n, n)) _fastWeight = Own(w.to(device).clone());
            _fastTheta = Const(fast.Threshold);
            _localIds = Own(arange(0, n, dtype: ScalarType.Int64, device: device));
        }
        if (p.Constants.RefractoryTicks is { } nref)
        {
            _nref = Own(tensor(nref, dtype: ScalarType.Int64).to(device));
            _last = Own(zeros(batch, n, dtype: ScalarType.Int64, device: device));
            FillNeverSpiked(_last);
        }
    }

    public long Tick { get; private set; }
    public ModelConstants Constants => Pop.Constants;
    public double WeightScale { get; }
    public bool HasDrive { get; private set; }
    public Tensor Drive => _driveT ?? throw new InvalidOperationException($"population '{Pop.Name}' has no drive");
    public Tensor ExcInput => _exc!;
    public Tensor InhInput => _inh!;
    public Tensor? TraceInput => _traceInput;
    public Tensor State(int variable) => _state[variable];
    public Tensor Constant(int index) => _constants[index];

    /// <summary>The exported coupling trace [B, n] (<see cref="NeuronModelDefinition.CouplingTraceVariable"/>), or zeros.</summary>
    public Tensor CouplingOrZeros() => _model.CouplingTraceVariable >= 0
        ? _state[_model.CouplingTraceVariable]
        : zeros(_batch, Pop.Size, dtype: ScalarType.Float64, device: _device);

    /// <summary>The per-tick input [B·n], or null when none was enabled.</summary>
    public double[]? External => _external;

    /// <summary>The per-tick input [B·n] (sample-and-hold), enabling it on first use (the drive then becomes [B, n]).</summary>
    public double[] EnableExternalInput()
    {
        HasDrive = true;
        return _external ??= new double[_batch * Pop.Size];
    }

    /// <summary>The spike clamp [B·n] (NaN = free), or null when none was enabled.</summary>
    public double[]? Clamp => _clamp;

    /// <summary>Enables the spike clamp (teacher forcing; <see cref="ITickInputs.Clamp"/>), all free.</summary>
    public double[] EnableClamp()
    {
        if (_model.ClampVariable < 0) throw new ArgumentException($"population '{Pop.Name}' ({_model.Name}) cannot be clamped: the model names no spike variable a clamp could overwrite");
        if (_clamp is null)
        {
            _clamp = new double[_batch * Pop.Size];
            Array.Fill(_clamp, double.NaN);
            _clampT = Own(zeros(_shapeBatch, dtype: ScalarType.Float64, device: _device));
            // The staging buffer is made here, outside the step's dispose scope (which would free a buffer made in it).
            _clampStaging.Upload(_clamp, _shapeBatch, _clampT);
        }
        return _clamp;
    }

    /// <summary>
    /// Applies the clamp to this tick's spike mask [B, n] as the event engine does (the same values, so the same bits):
    /// the spike variable takes the clamped value where one is set; returns the resulting mask. Nothing to do (the mask
    /// itself is returned) when every neuron is free.
    /// </summary>
    public Tensor ApplyClamp(Tensor spikes)
    {
        var c = _clamp!;
        bool any = false;
        for (int i = 0; i < c.Length; i++)
        {
            double forced = c[i];
            if (double.IsNaN(forced)) continue;
            if (forced is not (0.0 or 1.0)) throw new InvalidOperationException($"spike clamp of '{Pop.Name}'[{i % Pop.Size}] (batch element {i / Pop.Size}) is {forced:R}; it must be 0, 1 or NaN (free)");
            any = true;
        }
        if (!any) return spikes;
        _clampStaging.Upload(c, _shapeBatch, _clampT!);
        int v = _model.ClampVariable;
        Tensor z = where(_clampT!.isnan(), _state[v], _clampT!);
        _state[v].copy_(z);
        return z.to_type(ScalarType.Bool);
    }

    /// <summary>State back to tick 0: the initial values, never spiked, the drive recomputed, the per-tick input zero.</summary>
    public void ResetState()
    {
        for (int v = 0; v < _state.Length; v++) _state[v].copy_(_initial[v]);
        if (_last is not null) FillNeverSpiked(_last);
        if (_external is not null) Array.Clear(_external);
        if (_clamp is not null) Array.Fill(_clamp, double.NaN);
        Array.Fill(_lastScale, double.NaN);
    }

    /// <summary>As PopulationState.UpdateDrive (the same host formula), then a device copy when it changed or a per-tick input exists.</summary>
    public void UpdateDrive(long tick)
    {
        if (!HasDrive) return;
        int n = Pop.Size;
        if (_external is not null)
        {
            Pop.RefreshCurrentScales(tick, _lastScale);
            Pop.DriveInto(_lastScale, _drive);
            var all = _driveAll ??= new double[_batch * n];
            for (int k = 0; k < _batch; k++)
                for (int i = 0; i < n; i++) all[k * n + i] = _external[k * n + i] + _drive[i];   // drive_i ← x_i + drive_i
            Upload(all, _shapeBatch);
            return;
        }
        bool changed = Pop.RefreshCurrentScales(tick, _lastScale) || _driveT is null;
        if (!changed) return;
        Pop.DriveInto(_lastScale, _drive);
        Upload(_drive, _shapeOne);
    }

    // The drive's device tensor is made once per shape and then overwritten in place (no allocation per tick).
    private void Upload(double[] values, long[] shape)
    {
        if (_driveT is null || _driveLength != values.Length)
        {
            _driveLength = values.Length;
            _driveT?.Dispose();
            _driveT = zeros(shape, dtype: ScalarType.Float64, device: _device);
        }
        _driveStaging.Upload(values, shape, _driveT);
    }

    /// <summary>The trace part of the step (before trace-coupled inputs are formed).</summary>
    public void UpdateTraces(long tick)
    {
        Tick = tick;
        _model.DenseTraces(this);
    }

    /// <summary>Deliver, Integrate and Threshold one tick through the model's dense step; returns the bool spike mask [B, n].</summary>
    public Tensor Advance(long tick, Tensor accE, Tensor accI, Tensor? traceInput, Tensor? keys)
    {
        Tick = tick;
        _exc = accE; _inh = accI; _traceInput = traceInput; _keys = keys;
        try { return _model.DenseStep(this); }
        finally { _exc = _inh = _traceInput = _keys = null; }
    }

    // IDenseKernel: one IEEE operation per call (mul, add with an explicit alpha of 1, never addcmul).
    public Tensor Add(Tensor a, Tensor b) => a.add(b, TorchNumerics.One);
    public Tensor Sub(Tensor a, Tensor b) => a.sub(b);
    public Tensor Mul(Tensor a, Tensor b) => a.mul(b);
    public Tensor Mul(Tensor a, double s)
    {
        if (s == WeightScale) return a.mul(_scale);
        using Scalar x = s.ToScalar();
        return a.mul(x);
    }
    public Tensor Add(Tensor a, double s)
    {
        using Scalar x = s.ToScalar();
        return a.add(x, TorchNumerics.One);
    }
    public Tensor Div(Tensor a, Tensor b) => a.div(b);
    public Tensor Abs(Tensor a) => a.abs();
    public Tensor Where(Tensor mask, Tensor a, Tensor b) => where(mask, a, b);
    public Tensor ClampRange(Tensor a, double min, double max)
    {
        using Scalar lo = min.ToScalar(), hi = max.ToScalar();
        return a.clamp(lo, hi);
    }
    public Tensor RoundToGrid(Tensor a, double scale, double unit) => TorchNumerics.RoundToGrid(a, scale, unit);
    public void Set(int variable, Tensor value) => _state[variable].copy_(value);
    public Tensor MaskToDouble(Tensor mask) => mask.to_type(ScalarType.Float64);

    // Strict threshold x > θ, or escape noise: (x − θ)/δv > Logit[top 16 bits of Word(key_b, global id)]. The divisor is a
    // device tensor (a CPU-scalar divisor may become a multiplication by the reciprocal on CUDA).
    public Tensor Fires(Tensor x, Tensor theta)
    {
        if (_noiseDv is null) return x.gt(theta);
        Tensor z = x.sub(theta).div(_noiseDv);
        Tensor word = TorchNumerics.Word(_keys!, _ids!);
        return TorchNumerics.EscapeNoiseSpikes(z, word, _logit);
    }

    // t − t_last ≥ n_ref, the same comparison as ThresholdWithRefractoriness.
    public Tensor Active()
    {
        if (_last is null) throw new InvalidOperationException($"model {_model.Name} has no refractoriness");
        using Scalar ts = Tick.ToScalar();
        return _last.neg().add_(ts, TorchNumerics.One).ge(_nref!);
    }

    public Tensor FiresWhere(Tensor x, Tensor theta, Tensor active)
    {
        if (_last is null) throw new InvalidOperationException($"model {_model.Name} has no refractoriness");
        Tensor spike = Fires(x, theta).logical_and_(active);
        using Scalar ts = Tick.ToScalar();
        _last.masked_fill_(spike, ts);
        return spike;
    }

    public Tensor NoSpikes() => zeros(_shapeBatch, dtype: ScalarType.Bool, device: _device);

    // t − t_last < n_ref: held; else takes the candidate and thresholds it; a spike resets and sets t_last ← t.
    public Tensor ThresholdWithRefractoriness(Tensor candidate, int variable, Tensor theta, Tensor reset)
    {
        if (_last is null) throw new InvalidOperationException($"model {_model.Name} has no refractoriness");
        using Scalar ts = Tick.ToScalar();
        var state = _state[variable];
        Tensor active = _last.neg().add_(ts, TorchNumerics.One).ge(_nref!);
        Tensor spike = Fires(candidate, theta).logical_and_(active);
        Tensor u = where(active, candidate, state);
        u = where(spike, reset.expand_as(u), u);
        state.copy_(u);
        _last.masked_fill_(spike, ts);
        return spike;
    }

    // The greedy resolution (FastCoupling): per batch element the unfired neuron with the largest v − θ > 0 fires (lowest
    // index on ties: the smallest index among those equal to the maximum, as the C# scan's strict > keeps the first),
    // v ← v + W_f[j] where an element fired, r_j ← r_j + jump; repeated while any element has a neuron above threshold.
    // One small group of tensor ops and one host sync per round: rounds = the most spikes of any element in this tick + 1.
    public Tensor ResolveFastCoupling()
    {
        var fast = _fast ?? throw new InvalidOperationException($"model {_model.Name} declares no fast coupling");
        int n = Pop.Size;
        Tensor v = _state[fast.Variable];
        Tensor? jump = fast.JumpVariable >= 0 ? _state[fast.JumpVariable] : null;
        Tensor fired = zeros(_shapeBatch, dtype: ScalarType.Bool, device: _device);
        using Scalar jumpSize = fast.Jump.ToScalar();
        using Scalar none = ((long)n).ToScalar();
        while (true)
        {
            using var round = NewDisposeScope();
            Tensor over = v.sub(_fastTheta!);
            Tensor candidate = over.gt(Zero).logical_and_(fired.logical_not());
            Tensor active = candidate.any(1);
            if (!active.any().item<bool>()) break;
            Tensor masked = over.masked_fill(candidate.logical_not(), NegativeInfinity);
            Tensor top = masked.amax([1], keepdim: true);
            Tensor isTop = candidate.logical_and(masked.eq(top));
            Tensor j = _localIds!.expand(_batch, n).masked_fill(isTop.logical_not(), none).amin([1]);
            Tensor jc = j.clamp_max(n - 1);
            Tensor hit = _localIds!.unsqueeze(0).eq(jc.unsqueeze(1)).logical_and_(active.unsqueeze(1));
            Tensor activeColumn = active.unsqueeze(1);
            v.copy_(where(activeColumn, v.add(_fastWeight!.index_select(0, jc), TorchNumerics.One), v));
            if (jump is not null) jump.copy_(where(hit, jump.add(jumpSize, TorchNumerics.One), jump));
            fired.logical_or_(hit);
        }
        _state[fast.SpikeVariable].copy_(fired.to_type(ScalarType.Float64));
        return fired;
    }

    /// <summary>Copies stored variable <paramref name="variable"/> (model frame) of every batch element into <paramref name="destination"/> [B·n].</summary>
    public void CopyStored(int variable, double[] destination)
    {
        using Tensor all = _state[variable].cpu().contiguous().reshape(-1);
        all.data<double>().CopyTo(destination, 0);
    }

    /// <summary>A CPU copy of a variable in absolute units (reported name) of one batch element.</summary>
    public double[] Read(int batchIndex, string variable)
    {
        int v = _model.VariableIndex(variable);
        if (v < 0)
            throw new ArgumentException($"'{variable}' is not a state variable of population '{Pop.Name}' ({string.Join(", ", _model.ReportedVariableNames)})", nameof(variable));
        double[] values;
        using (Tensor row = _state[v][batchIndex].cpu().contiguous()) values = row.data<double>().ToArray();
        var offset = _model.ReportOffset(Pop.Constants, v);
        if (!offset.IsEmpty)
            for (int i = 0; i < values.Length; i++) values[i] = values[i] + offset[i];
        return values;
    }

    /// <summary>Stored variables (model frame, checkpoint names) copied to [B·n] arrays.</summary>
    public IEnumerable<(string Name, double[] Values)> StateArrays()
    {
        var vars = _model.StateVariables;
        for (int v = 0; v < vars.Count; v++)
            using (Tensor c = _state[v].cpu().contiguous().reshape(-1)) yield return (vars[v].Name, c.data<double>().ToArray());
    }

    /// <summary>Last spike ticks [B·n], or null for models without refractoriness.</summary>
    public long[]? LastSpikeArray()
    {
        if (_last is null) return null;
        using Tensor c = _last.cpu().contiguous().reshape(-1);
        return c.data<long>().ToArray();
    }

    /// <summary>Sets the state tensors from a checkpoint (instances in batch order).</summary>
    public void RestoreState(Checkpoint checkpoint)
    {
        int b = checkpoint.Instances.Length, n = Pop.Size;
        var vars = _model.StateVariables;
        for (int v = 0; v < vars.Count; v++)
        {
            string key = $"{Pop.Name}.{vars[v].Name}";
            var all = new double[b * n];
            for (int k = 0; k < b; k++)
            {
                if (!checkpoint.Instances[k].State.TryGetValue(key, out var saved) || saved.Length != n)
                    throw new InvalidDataException($"checkpoint lacks state '{key}' of length {n}");
                saved.CopyTo(all, k * n);
            }
            using Tensor src = tensor(all, dtype: ScalarType.Float64).reshape(b, n);
            _state[v].copy_(src);
        }
        if (_last is not null)
        {
            var all = new long[b * n];
            for (int k = 0; k < b; k++) checkpoint.Instances[k].LastSpike.AsSpan(Pop.Offset, n).CopyTo(all.AsSpan(k * n));
            using Tensor src = tensor(all, dtype: ScalarType.Int64).reshape(b, n);
            _last.copy_(src);
        }
        // The held per-tick input, as the event engine restores it (zero where the checkpoint has none).
        if (_external is not null) Array.Clear(_external);
        for (int k = 0; k < b; k++)
            if (checkpoint.Instances[k].State.TryGetValue(Pop.Name + InstanceCheckpoint.TickInputSuffix, out var held))
            {
                if (held.Length != n) throw new InvalidDataException($"checkpoint's per-tick input of '{Pop.Name}' has {held.Length} values, not {n}");
                held.CopyTo(EnableExternalInput(), k * n);
            }
        if (_clamp is not null) Array.Fill(_clamp, double.NaN);
        for (int k = 0; k < b; k++)
            if (checkpoint.Instances[k].State.TryGetValue(Pop.Name + InstanceCheckpoint.ClampSuffix, out var clamp))
                InstanceCheckpoint.DecodeClamp(clamp, Pop.Name, EnableClamp().AsSpan(k * n, n));
        Array.Fill(_lastScale, double.NaN);
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
        return Own(cpu.to(_device).clone());
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _driveT?.Dispose();
        _driveStaging.Dispose();
        _clampStaging.Dispose();
        _scale.Dispose();
    }
}
