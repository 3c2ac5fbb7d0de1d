using Sim.EventCore.Compilation;
using Sim.EventCore.Plasticity;
using TorchSharp;
using static TorchSharp.torch;

namespace Sim.GpuBridge;

/// <summary>
/// The trace-coupled projections of the dense engine: per target population that takes trace input, W transposed as
/// [N, n] (source rows, integer-valued q summed over multapses), shared by the batch, or [B, N, n] once a trace-coupled
/// projection is plastic (each instance its own weights), and its exact input
/// <c>rec = (trunc(trace·2^G_in) · Wᵀ + 0)·2^-(F_r+G_in)</c> (numerics contract item 7): every source trace lies on a grid at
/// least as fine as G_in allows, so trunc is a no-op and the (batched) matmul is an exact integer sum; + 0 makes a signed
/// zero +0 like a long sum converted to double. Plastic copies follow the instances' weights by version.
/// </summary>
internal sealed class DenseTraceCoupling : IDisposable
{
    private readonly CompiledNetwork _net;
    private readonly Device _device;
    private readonly int _batch;
    private Tensor?[] _weightT;              // per population: [N, n] or [B, N, n], or null
    private readonly double[] _inScale, _unit;
    private readonly Scalar _zero = 0.0.ToScalar();
    private readonly Scalar?[] _inScaleScalar, _unitScalar;   // per population, made once (kept alive for the native calls)
    private long[][]? _seen;                 // per instance, per plastic projection: the version the device holds
    private double[]?[]? _host;              // per population: the host image of one instance's W, reused
    private HostStaging?[]? _staging;        // per population: its CPU staging tensor
    private long[]?[]? _shape;               // per population: [N, n]

    public DenseTraceCoupling(CompiledNetwork net, Device device, int batch)
    {
        _net = net;
        _device = device;
        _batch = batch;
        int pops = net.Populations.Length;
        _weightT = new Tensor?[pops];
        _inScale = new double[pops];
        _unit = new double[pops];
        _inScaleScalar = new Scalar?[pops];
        _unitScalar = new Scalar?[pops];
        if (net.TraceSynapses.Count == 0) return;
        foreach (var p in net.Populations)
        {
            if (!p.Model.TakesTraceInput) continue;
            using Tensor cpu = tensor(HostMatrix(p, net.TraceSynapses.Q.ToArray()), dtype: ScalarType.Float64).reshape(net.NeuronCount, p.Size);
            _weightT[p.Index] = cpu.to(device);
            _inScale[p.Index] = Math.ScaleB(1.0, p.TraceInputFractionBits);
            _unit[p.Index] = Math.ScaleB(1.0, -(p.TraceWeightFractionBits + p.TraceInputFractionBits));
        }
    }

    /// <summary>True when some population takes trace-coupled input.</summary>
    public bool Any => _weightT.Any(w => w is not null);

    /// <summary>W of population <paramref name="p"/> as [N·n] ([source, local target], q summed over multapses) from trace-table weights <paramref name="q"/>.</summary>
    private double[] HostMatrix(CompiledPopulation p, long[] q) => HostMatrix(p, q, new double[_net.NeuronCount * p.Size]);

    private double[] HostMatrix(CompiledPopulation p, long[] q, double[] wt)
    {
        var tr = _net.TraceSynapses;
        Array.Clear(wt);
        for (int i = 0; i < p.Size; i++)
            for (int k = tr.RowStart[p.Offset + i]; k < tr.RowStart[p.Offset + i + 1]; k++) wt[tr.Source[k] * p.Size + i] += q[k];
        return wt;
    }

    /// <summary>The exact trace-coupled input of population <paramref name="population"/> from all traces [B, N], or null.</summary>
    public Tensor? Input(int population, Tensor traces)
    {
        var w = _weightT[population];
        if (w is null) return null;
        var g = _inScaleScalar[population] ??= _inScale[population].ToScalar();
        var unit = _unitScalar[population] ??= _unit[population].ToScalar();
        Tensor h = traces.mul(g).trunc_();
        Tensor product = w.dim() == 2 ? h.matmul(w) : h.unsqueeze(1).bmm(w).squeeze(1);
        return product.add_(_zero, TorchNumerics.One).mul_(unit);
    }

    /// <summary>The device matrix of one population for batch element <paramref name="batchIndex"/> as [N·n], or null. For specs.</summary>
    public double[]? DeviceWeights(int population, int batchIndex = 0)
    {
        if (_weightT[population] is not { } w) return null;
        using Tensor c = (w.dim() == 2 ? w : w[batchIndex]).cpu().contiguous().reshape(-1);
        return c.data<double>().ToArray();
    }

    /// <summary>
    /// Brings the device copies up to the instances' plastic weights: the first time a trace-coupled projection is
    /// plastic, every matrix becomes per instance; afterwards an instance's matrix is rebuilt when one of its plastic
    /// trace projections changed version.
    /// </summary>
    public void Sync(InstancePlasticity[] plastic, PlasticityBinding binding)
    {
        if (!Any || !binding.HasPlasticTraceProjection) return;
        var projections = binding.Projections;
        if (_seen is null)
        {
            _seen = new long[_batch][];
            for (int b = 0; b < _batch; b++) _seen[b] = Enumerable.Repeat(-1L, projections.Max(p => p.Slot) + 1).ToArray();
            _host = new double[]?[_weightT.Length];
            _staging = new HostStaging?[_weightT.Length];
            _shape = new long[]?[_weightT.Length];
            for (int p = 0; p < _weightT.Length; p++)
                if (_weightT[p] is { } shared)
                {
                    _weightT[p] = shared.unsqueeze(0).expand(_batch, -1, -1).contiguous();
                    shared.Dispose();
                }
        }
        for (int b = 0; b < _batch; b++)
        {
            bool changed = false;
            for (int j = 0; j < projections.Count; j++)   // indexed: no boxed enumerator per tick
            {
                var pj = projections[j];
                if (!pj.IsTraceCoupled) continue;
                if (pj.Slot >= _seen[b].Length) Array.Resize(ref _seen[b], pj.Slot + 1);
                long v = plastic[b].Weights.Version(pj.Slot);
                if (_seen[b][pj.Slot] != v) { _seen[b][pj.Slot] = v; changed = true; }
            }
            if (!changed) continue;
            var q = plastic[b].Weights.TraceQ;
            foreach (var p in _net.Populations)
            {
                if (_weightT[p.Index] is not { } w) continue;
                var host = HostMatrix(p, q, _host![p.Index] ??= new double[_net.NeuronCount * p.Size]);
                using (Tensor wb = w[b])
                    (_staging![p.Index] ??= new HostStaging()).Upload(host, _shape![p.Index] ??= [_net.NeuronCount, p.Size], wb);
            }
        }
    }

    public void Dispose()
    {
        foreach (var w in _weightT) w?.Dispose();
        foreach (var s in _inScaleScalar) s?.Dispose();
        foreach (var s in _unitScalar) s?.Dispose();
        _zero.Dispose();
        if (_staging is not null) foreach (var t in _staging) t?.Dispose();
    }
}
