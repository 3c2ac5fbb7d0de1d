using Sim.EventCore.Compilation;
using TorchSharp;
using static TorchSharp.torch;

namespace Sim.GpuBridge;

/// <summary>
/// The trace-coupled projections of the dense engine: per target population that takes trace input, W transposed as
/// [N, n] (source rows, integer-valued q summed over multapses), and its exact input
/// <c>rec = (trunc(trace·2^G_in) · Wᵀ + 0)·2^-(F_r+G_in)</c> (numerics contract item 7): every source trace lies on a grid at
/// least as fine as G_in allows, so trunc is a no-op and the matmul is an exact integer sum; + 0 makes a signed zero +0
/// like a long sum converted to double. A host copy of each matrix follows the compiled table.
/// </summary>
internal sealed class DenseTraceCoupling : IDisposable
{
    private readonly CompiledNetwork _net;
    private readonly Tensor?[] _weightT;     // per population: [N, n], or null
    private readonly double[]?[] _host;      // per population: [N·n] host copy, [source, local target]
    private readonly bool[] _dirty;
    private readonly double[] _inScale, _unit;
    private long _version;

    public DenseTraceCoupling(CompiledNetwork net, Device device)
    {
        _net = net;
        int pops = net.Populations.Length, n = net.NeuronCount;
        _weightT = new Tensor?[pops];
        _host = new double[]?[pops];
        _dirty = new bool[pops];
        _inScale = new double[pops];
        _unit = new double[pops];
        var tr = net.TraceSynapses;
        if (tr.Count > 0)
            foreach (var p in net.Populations)
            {
                if (!p.Model.TakesTraceInput) continue;
                var wt = new double[n * p.Size];
                for (int i = 0; i < p.Size; i++)
                    for (int k = tr.RowStart[p.Offset + i]; k < tr.RowStart[p.Offset + i + 1]; k++) wt[tr.Source[k] * p.Size + i] += tr.Q[k];
                _host[p.Index] = wt;
                using Tensor cpu = tensor(wt, dtype: ScalarType.Float64).reshape(n, p.Size);
                _weightT[p.Index] = cpu.to(device);
                _inScale[p.Index] = Math.ScaleB(1.0, p.TraceInputFractionBits);
                _unit[p.Index] = Math.ScaleB(1.0, -(p.TraceWeightFractionBits + p.TraceInputFractionBits));
            }
        _version = tr.Version;
    }

    /// <summary>True when some population takes trace-coupled input.</summary>
    public bool Any => _weightT.Any(w => w is not null);

    /// <summary>Bytes of the dense trace coupling: one [N, n] matrix per population taking trace input (host and device).</summary>
    public static double Bytes(CompiledNetwork net) => net.TraceSynapses.Count > 0 ? 16.0 * net.NeuronCount * net.NeuronCount : 0;

    /// <summary>The exact trace-coupled input of population <paramref name="population"/> from all traces [B, N], or null.</summary>
    public Tensor? Input(int population, Tensor traces)
    {
        var w = _weightT[population];
        if (w is null) return null;
        using Scalar g = _inScale[population].ToScalar();
        using Scalar zero = 0.0.ToScalar();
        using Scalar unit = _unit[population].ToScalar();
        Tensor h = traces.mul(g).trunc_();
        return h.matmul(w).add_(zero, TorchNumerics.One).mul_(unit);
    }

    /// <summary>The device matrix of one population as [N·n] (source, local target), or null. For specs.</summary>
    public double[]? DeviceWeights(int population)
    {
        Sync();
        if (_weightT[population] is not { } w) return null;
        using Tensor c = w.cpu().contiguous().reshape(-1);
        return c.data<double>().ToArray();
    }

    /// <summary>Whether the device copies hold every write of the compiled table so far.</summary>
    public bool InSync => _net.TraceSynapses.Version == _version;

    /// <summary>
    /// Re-reads every row when the compiled table changed behind the engine's back (e.g. a rule writing between runs):
    /// the table's version is newer than the one the device copies reflect.
    /// </summary>
    public void Sync()
    {
        var tr = _net.TraceSynapses;
        if (tr.Version == _version) return;
        foreach (var p in _net.Populations)
        {
            for (int i = p.Offset; i < p.Offset + p.Size; i++) MirrorRow(i);
            Upload();
        }
        _version = tr.Version;
    }

    /// <summary>
    /// Copies the compiled row of global target <paramref name="target"/> into the host copy (column i = target − offset,
    /// W[s, i] = Σ of the row's q over multapses from s); <see cref="Upload"/> sends it to the device. When the copies were
    /// current before this write (<paramref name="wasInSync"/>), they are current after it.
    /// </summary>
    public void MirrorRow(int target, bool wasInSync = false)
    {
        var tr = _net.TraceSynapses;
        int p = _net.PopulationOf(target);
        if (_host[p] is { } host)
        {
            int n = _net.Populations[p].Size, i = target - _net.Populations[p].Offset;
            for (int k = tr.RowStart[target]; k < tr.RowStart[target + 1]; k++) host[tr.Source[k] * n + i] = 0;
            for (int k = tr.RowStart[target]; k < tr.RowStart[target + 1]; k++) host[tr.Source[k] * n + i] += tr.Q[k];
            _dirty[p] = true;
        }
        if (wasInSync) _version = tr.Version;
    }

    /// <summary>Copies every changed host matrix to the device.</summary>
    public void Upload()
    {
        for (int p = 0; p < _weightT.Length; p++)
        {
            if (!_dirty[p] || _weightT[p] is not { } w) continue;
            using (no_grad())
            using (Tensor cpu = tensor(_host[p]!, dtype: ScalarType.Float64).reshape(w.shape))
                w.copy_(cpu);
            _dirty[p] = false;
        }
    }

    public void Dispose()
    {
        foreach (var w in _weightT) w?.Dispose();
    }
}
