using Sim.EventCore.Compilation;
using TorchSharp;
using static TorchSharp.torch;

namespace Sim.GpuBridge;

/// <summary>
/// Spike delivery of the dense engine: per distinct delay d a float64 matrix Wᵈ of shape [S, 2N] (source rows; the N
/// excitatory target columns hold Σ q ≥ 0 over multapses, then the N inhibitory ones Σ q &lt; 0), S = neurons + input
/// sources, and a ring [D_max+1, B, S] of past source spike counts. The delivered sums of tick t are
/// <c>acc = 0 + Σ_d ring[(t−d) mod R] · Wᵈ</c>: integer-valued float64, exact in any order (numerics contract item 3);
/// starting from +0 makes a signed zero +0, as in the event engine's ring.
/// </summary>
internal sealed class DenseDelivery : IDisposable
{
    private readonly Device _device;
    private readonly int _batch, _n, _s, _slots;
    private readonly List<(int Delay, Tensor WeightT)> _delays = [];
    private readonly Tensor _ring;
    private readonly Scalar _zero = 0.0.ToScalar();

    public DenseDelivery(CompiledNetwork net, Device device, int batch)
    {
        _device = device;
        _batch = batch;
        _n = net.NeuronCount;
        _s = net.SourceCount;
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
            acc.add_(SourceProduct(counts, w), TorchNumerics.One);
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

    public void Dispose()
    {
        foreach (var (_, w) in _delays) w.Dispose();
        _ring.Dispose();
        _zero.Dispose();
    }
}
