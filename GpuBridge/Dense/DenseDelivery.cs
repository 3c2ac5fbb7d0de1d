using Sim.EventCore.Compilation;
using TorchSharp;
using static TorchSharp.torch;

namespace Sim.GpuBridge;

/// <summary>
/// Spike delivery of the dense engine: per distinct delay d a float64 matrix Wᵈ of shape [S, 2N] (source rows; the N
/// excitatory target columns hold Σ q ≥ 0 over multapses, then the N inhibitory ones Σ q &lt; 0), S = neurons + input
/// sources, and a ring [D_max+1, B, S] of past source spike counts. The delivered sums of tick t are
/// <c>acc = 0 + Σ_d ring[(t−d) mod R] · Wᵈ</c>: integer-valued float64, exact in any order (numerics contract item 3);
/// starting from +0 makes a signed zero +0, as in the event engine's ring. A synapse's column is its receptor (fixed at
/// compilation), as the event engine's ring is. Once a spike projection is plastic, each instance gets its own matrices
/// [B, S, 2N] (batched products), rebuilt from the instance's weights when their version changes.
/// </summary>
internal sealed class DenseDelivery : IDisposable
{
    private readonly Device _device;
    private readonly int _batch, _n, _s, _slots;
    private readonly List<(int Delay, Tensor WeightT)> _delays = [];
    private readonly CompiledNetwork _net;
    private long[][]? _seen;   // per instance, per plastic projection: the version the device holds
    private SortedDictionary<int, double[]>? _host;   // one instance's host matrices per delay, reused
    private readonly HostStaging _staging = new();
    private readonly long[] _shape;                    // [S, 2N]
    private readonly Tensor _ring;
    private readonly Scalar _zero = 0.0.ToScalar();

    public DenseDelivery(CompiledNetwork net, Device device, int batch)
    {
        _device = device;
        _batch = batch;
        _net = net;
        _n = net.NeuronCount;
        _s = net.SourceCount;
        _shape = [_s, 2 * _n];
        _slots = net.MaxDelayTicks + 1;
        BuildDelayMatrices(net);
        _ring = zeros(_slots, batch, _s, dtype: ScalarType.Float64, device: device);
    }

    /// <summary>Slots of the ring (D_max + 1).</summary>
    public int Slots => _slots;

    /// <summary>Bytes the dense delivery needs for <paramref name="batch"/> instances: the matrices and the ring.</summary>
    public static double Bytes(CompiledNetwork net, int batch)
    {
        int delays = net.Synapses.SegmentDelay.ToArray().Distinct().Count();
        double n = net.NeuronCount, s = net.SourceCount;
        return 8.0 * (delays * s * 2 * n + (net.MaxDelayTicks + 1.0) * batch * s);
    }

    /// <summary>The delivered sums of tick <paramref name="t"/>, [B, 2N] (excitatory columns first).</summary>
    public Tensor Accumulate(long t)
    {
        Tensor acc = zeros(_batch, 2 * _n, dtype: ScalarType.Float64, device: _device);
        foreach (var (d, w) in _delays)
        {
            if (t - d < 0) continue;
            Tensor counts = _ring[(int)((t - d) % _slots)];
            acc.add_(w.dim() == 2 ? SourceProduct(counts, w) : counts.unsqueeze(1).bmm(w).squeeze(1), TorchNumerics.One);
        }
        return acc;
    }

    /// <summary>Stores the source spike counts of tick <paramref name="t"/> ([B, S]: neuron spikes, then input counts).</summary>
    public void Emit(long t, Tensor counts) => _ring[(int)(t % _slots)].copy_(counts);

    /// <summary>Clears the ring (tick 0).</summary>
    public void Reset() => _ring.zero_();

    /// <summary>The counts of tick <paramref name="tick"/> on the CPU ([B·S]).</summary>
    public double[] CountsAt(long tick)
    {
        using Tensor row = _ring[(int)(tick % _slots)].cpu().contiguous();
        return row.data<double>().ToArray();
    }

    /// <summary>Replaces the whole ring ([slots·B·S], slot-major).</summary>
    public void Load(double[] ring)
    {
        using Tensor r = tensor(ring, dtype: ScalarType.Float64).reshape(_slots, _batch, _s);
        _ring.copy_(r);
    }

    // counts [B, S] · W [S, 2N]. Integer-valued float64 products and sums below 2^53 are exact, so restricting the
    // product to the sources that spiked in some instance (rows whose counts are all zero contribute exact zeros)
    // gives the same numbers as the full product, only faster when activity is sparse.
    private Tensor SourceProduct(Tensor counts, Tensor weightT)
    {
        Tensor active = counts.ne(_zero).any(0).nonzero().reshape(-1);
        long k = active.shape[0];
        if (k == 0) return zeros(_batch, 2 * _n, dtype: ScalarType.Float64, device: _device);
        if (k * 4 > _s) return counts.matmul(weightT);
        return counts.index_select(1, active).matmul(weightT.index_select(0, active));
    }

    // Per delay, W [S, 2N] from weights q in synapse-table order; the column of a synapse is its segment's receptor.
    private SortedDictionary<int, double[]> HostMatrices(int[] q, SortedDictionary<int, double[]>? into = null)
    {
        var syn = _net.Synapses;
        var byDelay = into ?? new SortedDictionary<int, double[]>();
        foreach (var w in byDelay.Values) Array.Clear(w);
        foreach (int d in syn.SegmentDelay) if (!byDelay.ContainsKey(d)) byDelay[d] = new double[(long)_s * 2 * _n];
        for (int s = 0; s < _s; s++)
            for (int g = syn.SegmentOffsets[s]; g < syn.SegmentOffsets[s + 1]; g++)
            {
                var w = byDelay[syn.SegmentDelay[g]];
                int shift = syn.SegmentReceptor[g] == 0 ? 0 : _n;
                for (int k = syn.SegmentStart[g]; k < syn.SegmentStart[g + 1]; k++) w[(long)s * 2 * _n + shift + syn.Target[k]] += q[k];
            }
        return byDelay;
    }

    private void BuildDelayMatrices(CompiledNetwork net)
    {
        foreach (var (d, w) in HostMatrices(net.Synapses.Q.ToArray()))
        {
            using Tensor cpu = tensor(w, dtype: ScalarType.Float64).reshape(_s, 2 * _n);
            _delays.Add((d, cpu.to(_device)));
        }
    }

    /// <summary>
    /// Brings the device matrices up to the instances' plastic spike weights: the first time a spike projection is
    /// plastic, every matrix becomes per instance; afterwards an instance's matrices are rebuilt when one of its plastic
    /// spike projections changed version.
    /// </summary>
    public void Sync(Sim.EventCore.Plasticity.InstancePlasticity[] plastic, Sim.EventCore.Plasticity.PlasticityBinding binding)
    {
        if (!binding.HasPlasticSpikeProjection) return;
        var projections = binding.Projections;
        int slots = 0;
        for (int j = 0; j < projections.Count; j++) slots = Math.Max(slots, projections[j].Slot + 1);   // indexed: no boxed enumerator per tick
        if (_seen is null)
        {
            _seen = new long[_batch][];
            for (int b = 0; b < _batch; b++) _seen[b] = Enumerable.Repeat(-1L, slots).ToArray();
            for (int i = 0; i < _delays.Count; i++)
            {
                var (d, shared) = _delays[i];
                _delays[i] = (d, shared.unsqueeze(0).expand(_batch, -1, -1).contiguous());
                shared.Dispose();
            }
        }
        for (int b = 0; b < _batch; b++)
        {
            if (_seen[b].Length < slots) Array.Resize(ref _seen[b], slots);
            bool changed = false;
            for (int j = 0; j < projections.Count; j++)
            {
                var pj = projections[j];
                if (pj.IsTraceCoupled) continue;
                long v = plastic[b].Weights.Version(pj.Slot);
                if (_seen[b][pj.Slot] != v) { _seen[b][pj.Slot] = v; changed = true; }
            }
            if (!changed) continue;
            var host = _host = HostMatrices(plastic[b].Weights.SpikeQ, _host);
            foreach (var (d, w) in _delays)
                using (Tensor wb = w[b])
                    _staging.Upload(host[d], _shape, wb);
        }
    }

    /// <summary>Bytes of one instance's own matrices once spike weights are plastic.</summary>
    public static double PlasticBytesPerInstance(CompiledNetwork net)
        => 8.0 * net.Synapses.SegmentDelay.ToArray().Distinct().Count() * net.SourceCount * 2 * net.NeuronCount;

    public void Dispose()
    {
        foreach (var (_, w) in _delays) w.Dispose();
        _staging.Dispose();
        _ring.Dispose();
        _zero.Dispose();
    }
}
