using Sim.EventCore.Compilation;
using Sim.EventCore.Description;

namespace Sim.GpuBridge;

/// <summary>
/// The input sources of the dense engine, generated in C# per instance with the event engine's definitions
/// (<see cref="CompiledInput"/>): Poisson spike k at t_k = NextPoissonTimeMs(k, t_{k−1}) falls into tick ⌊t_k/dt⌋ unless
/// t_k ≥ stop; spike-time inputs at their compiled ticks; clock channel (t mod period)/span. The counts of one tick are
/// handed to the device as one [B, S_in] tensor.
/// </summary>
internal sealed class DenseInputs
{
    private readonly CompiledNetwork _net;
    private readonly int _batch, _firstInstance, _n, _nIn;
    private readonly double[][] _poissonNext;
    private readonly long[][] _poissonCount;
    private readonly int[][] _spikeCursor;

    public DenseInputs(CompiledNetwork net, int batch, int firstInstance)
    {
        _net = net;
        _batch = batch;
        _firstInstance = firstInstance;
        _n = net.NeuronCount;
        _nIn = net.SourceCount - net.NeuronCount;
        Counts = new double[batch * _nIn];
        _poissonNext = new double[batch][];
        _poissonCount = new long[batch][];
        _spikeCursor = new int[batch][];
        for (int k = 0; k < batch; k++)
        {
            _poissonNext[k] = new double[net.SourceCount];
            _poissonCount[k] = new long[net.SourceCount];
            _spikeCursor[k] = new int[net.Inputs.Length];
        }
        Reset();
    }

    /// <summary>Input sources (S − N).</summary>
    public int Sources => _nIn;

    /// <summary>The counts of the last generated tick, [B·S_in] (batch-major).</summary>
    public double[] Counts { get; }

    /// <summary>Generators at tick 0: Poisson first times and counters, spike-time cursors (as the event engine's Reset).</summary>
    public void Reset()
    {
        for (int k = 0; k < _batch; k++)
        {
            Array.Clear(_poissonNext[k]);
            Array.Clear(_poissonCount[k]);
            Array.Clear(_spikeCursor[k]);
            foreach (var inp in _net.Inputs)
            {
                if (inp.RatePerMs is null) continue;
                var spec = (PoissonInput)inp.Spec;
                for (int s = 0; s < inp.Size; s++)
                    if (inp.RatePerMs[s] > 0)
                        _poissonNext[k][inp.Offset + s] = inp.NextPoissonTimeMs(_net.Seed, _firstInstance + k, s, 0, spec.StartMs);
            }
        }
    }

    /// <summary>The Poisson generators' state of one batch element (for checkpoints).</summary>
    public (double[] NextMs, long[] Count) Poisson(int batchIndex) => (_poissonNext[batchIndex], _poissonCount[batchIndex]);

    /// <summary>Sets one batch element's Poisson generators from a checkpoint; spike-time cursors restart (they skip past ticks).</summary>
    public void Restore(int batchIndex, double[] nextMs, long[] count)
    {
        nextMs.CopyTo(_poissonNext[batchIndex], 0);
        count.CopyTo(_poissonCount[batchIndex], 0);
        Array.Clear(_spikeCursor[batchIndex]);
    }

    /// <summary>Fills <see cref="Counts"/> with the input spikes of tick <paramref name="t"/> for every instance.</summary>
    public void Generate(long t)
    {
        if (_nIn == 0) return;
        Array.Clear(Counts);
        var net = _net;
        for (int k = 0; k < _batch; k++)
        {
            int instance = _firstInstance + k;
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
                            Counts[row + src - _n] += 1;
                            next = inp.NextPoissonTimeMs(net.Seed, instance, s, ++_poissonCount[k][src], next);
                        }
                    }
                }
                else if (inp.SpikeTicks is { } ticks)
                {
                    ref int c = ref _spikeCursor[k][i];
                    while (c < ticks.Length && ticks[c] < t) c++;
                    while (c < ticks.Length && ticks[c] == t) { Counts[row + inp.Offset + inp.SpikeIndices![c] - _n] += 1; c++; }
                }
                else if (inp.ClockSpanTicks > 0)
                {
                    int ch = inp.ClockChannelAt(t);
                    if (ch >= 0) Counts[row + inp.Offset + ch - _n] += 1;
                }
            }
        }
    }
}
