using System.Buffers;
using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Plasticity;

/// <summary>
/// The plastic weights of one instance: its own copies of the synapse table's weights (when a spike projection is
/// plastic) and of the trace-coupling weights (when a trace-coupled projection is plastic), initialised from the
/// compiled network, which stays immutable. Engines read these arrays in place of the compiled ones. Every write is
/// rounded onto the projection's grid (q = round_half_even(w·2^F), numerics contract item 8) and checked before
/// anything is written: the weight's range, and the exactness bound of its target's input sum (item 3: Σ|q| of a spike
/// row below 2^46, Σ|q|·2^G_in of a trace row below 2^53), kept per target as an exact running sum. A write bumps the
/// projection's version, which the dense engine uses to keep its device copy in sync. Public for engine implementers.
/// </summary>
public sealed class InstanceWeights
{
    private readonly CompiledNetwork _net;
    private readonly long[] _versions;
    private ulong[]? _spikeRowAbs, _traceRowAbs;
    private readonly int[] _targetPopulation;

    /// <summary>Spike-synapse weights (synapse-table order): the compiled array until a spike projection becomes plastic.</summary>
    public int[] SpikeQ { get; private set; }
    /// <summary>Trace-coupling weights (trace-table order), as integers and as exact float64.</summary>
    public long[] TraceQ { get; private set; }
    /// <inheritdoc cref="TraceQ"/>
    public double[] TraceQValue { get; private set; }

    internal InstanceWeights(CompiledNetwork net, int projections)
    {
        _net = net;
        SpikeQ = net.Synapses.QArray;
        TraceQ = net.TraceSynapses.QArray;
        TraceQValue = net.TraceSynapses.QValueArray;
        _versions = new long[projections];
        _targetPopulation = new int[net.NeuronCount];
        foreach (var p in net.Populations) Array.Fill(_targetPopulation, p.Index, p.Offset, p.Size);
    }

    /// <summary>Version of plastic projection <paramref name="slot"/> (incremented by each write).</summary>
    public long Version(int slot) => _versions[slot];

    /// <summary>Bytes held beyond the compiled network.</summary>
    public long Bytes => (SpikeQ != _net.Synapses.QArray ? 4L * SpikeQ.Length + 8L * _net.NeuronCount : 0)
                         + (TraceQ != _net.TraceSynapses.QArray ? 16L * TraceQ.Length + 8L * _net.NeuronCount : 0);

    /// <summary>Takes private copies of the weights a plastic projection of this kind lives in (once).</summary>
    internal void MakePlastic(PlasticProjection p)
    {
        if (p.IsTraceCoupled && TraceQ == _net.TraceSynapses.QArray)
        {
            TraceQ = (long[])TraceQ.Clone();
            TraceQValue = (double[])TraceQValue.Clone();
            _traceRowAbs = new ulong[_net.NeuronCount];
            var tr = _net.TraceSynapses;
            for (int i = 0; i < _net.NeuronCount; i++) _traceRowAbs[i] = FixedPoint.SumAbsSaturating(TraceQ.AsSpan(tr.RowStart[i], tr.RowStart[i + 1] - tr.RowStart[i]));
        }
        else if (!p.IsTraceCoupled && SpikeQ == _net.Synapses.QArray)
        {
            SpikeQ = (int[])SpikeQ.Clone();
            _spikeRowAbs = new ulong[_net.NeuronCount];
            var target = _net.Synapses.Target;
            for (int k = 0; k < SpikeQ.Length; k++) _spikeRowAbs[target[k]] += (ulong)Math.Abs((long)SpikeQ[k]);
        }
    }

    /// <summary>The float64 weights of an unquantized projection (local order), for checkpoints.</summary>
    internal double[] Values(PlasticProjection p)
    {
        var result = new double[p.Count];
        for (int k = 0; k < result.Length; k++) result[k] = TraceQValue[p.TablePosition[k]];
        return result;
    }

    /// <summary>Sets the float64 weights of an unquantized projection (a restore).</summary>
    internal void CopyValuesFrom(PlasticProjection p, ReadOnlySpan<double> w)
    {
        if (w.Length != p.Count) throw new InvalidDataException($"projection '{p.Name}' has {p.Count} synapses, the saved weights {w.Length}");
        for (int k = 0; k < w.Length; k++) TraceQValue[p.TablePosition[k]] = w[k];
        _versions[p.Slot]++;
    }

    /// <summary>
    /// Copies saved grid weights (a restore, or the start of a run from learned weights), checked as every write is (range,
    /// receptor sign, the targets' exactness bounds) before anything is written.
    /// </summary>
    internal void CopyFrom(PlasticProjection p, ReadOnlySpan<long> q)
    {
        if (q.Length != p.Count) throw new InvalidDataException($"projection '{p.Name}' has {p.Count} synapses, the saved weights {q.Length}");
        try
        {
            if (p.IsTraceCoupled) CheckTraceRows(p, default, all: true, q);
            else CheckSpike(p, default, all: true, q);
        }
        catch (PlasticWeightException e)
        {
            throw new InvalidDataException($"saved weights of '{p.Name}' are not valid here: {e.Message}", e);
        }
        var pos = p.TablePosition;
        for (int k = 0; k < q.Length; k++)
        {
            if (p.IsTraceCoupled) Replace(p.Post[k], pos[k], q[k], q[k]);
            else ReplaceSpike(p, k, pos[k], q[k]);
        }
        _versions[p.Slot]++;
    }

    /// <summary>The grid weights q of a projection, local order.</summary>
    internal long[] Grid(PlasticProjection p)
    {
        var result = new long[p.Count];
        var pos = p.TablePosition;
        for (int k = 0; k < result.Length; k++) result[k] = p.IsTraceCoupled ? TraceQ[pos[k]] : SpikeQ[pos[k]];
        return result;
    }

    /// <summary>w = q·2^-F of local synapse k.</summary>
    internal double Get(PlasticProjection p, int k)
    {
        int at = p.TablePosition[k];
        if (!p.Exact) return TraceQValue[at];   // the weight itself (unquantized mode)
        return (p.IsTraceCoupled ? TraceQValue[at] : SpikeQ[at]) * p.Unit;
    }

    /// <summary>Writes local synapses <paramref name="ids"/> (null: all, in order) with <paramref name="weights"/>; checked first.</summary>
    internal void Set(PlasticProjection p, ReadOnlySpan<int> ids, bool all, ReadOnlySpan<double> weights)
    {
        int m = all ? p.Count : ids.Length;
        if (weights.Length != m) throw new ArgumentException($"{m} weights expected for projection '{p.Name}', got {weights.Length}", nameof(weights));
        long[] qRent = ArrayPool<long>.Shared.Rent(m);
        double[] vRent = ArrayPool<double>.Shared.Rent(m);
        try
        {
            var q = qRent.AsSpan(0, m);
            var v = vRent.AsSpan(0, m);
            int bad = FixedPoint.QuantizeRow(weights, Math.ScaleB(1.0, p.FractionBits), q, v, out _);
            if (bad >= 0) throw OutOfGrid(p, all ? bad : ids[bad], weights[bad]);
            var pos = p.TablePosition;
            if (!p.Exact)
            {
                // Unquantized mode: the weights are stored as given (q only for reports), no exactness bound.
                for (int j = 0; j < m; j++) { int at = pos[all ? j : ids[j]]; TraceQ[at] = q[j]; TraceQValue[at] = weights[j]; }
                _versions[p.Slot]++;
                return;
            }
            if (p.IsTraceCoupled) CheckTraceRows(p, ids, all, q);
            else CheckSpike(p, ids, all, q);
            for (int j = 0; j < m; j++)
            {
                int k = all ? j : ids[j];
                if (p.IsTraceCoupled) Replace(p.Post[k], pos[k], q[j], v[j]);
                else ReplaceSpike(p, k, pos[k], q[j]);
            }
            _versions[p.Slot]++;
        }
        finally
        {
            ArrayPool<long>.Shared.Return(qRent);
            ArrayPool<double>.Shared.Return(vRent);
        }
    }

    /// <summary>
    /// Writes one synapse of an exact spike projection: the same rounding and checks as <see cref="Set"/> with one id
    /// (range, receptor sign, the target's Σ|q| below 2^46, all before the write), without renting buffers: the write of
    /// spike-timing rules, one per synapse a spike crosses.
    /// </summary>
    internal void SetSpike(PlasticProjection p, int k, double weight)
    {
        double y = weight * p.Scale;
        if (!(Math.Abs(y) < FixedPoint.MaxQuantizedMagnitude)) throw OutOfGrid(p, k, weight);
        long q = (long)Math.Round(y, MidpointRounding.ToEven);   // = QuantizeRow's magic-number rounding (exact below 2^51)
        if (Math.Abs(q) > FixedPoint.MaxAbsQ)
            throw new PlasticWeightException($"plastic weight {k} of '{p.Name}' is {q * p.Unit:G6}: beyond the grid's range |q| ≤ 2^30 (2^-{p.FractionBits})");
        if (q != 0 && (q < 0) != (p.Receptor[k] == 1) && _net.Populations[p.TargetPopulation].Model.DistinguishesReceptors)
            CheckSpikeRanges(p, [k], all: false, [q]);   // throws the sign error with its explanation
        int at = p.TablePosition[k], target = p.Post[k];
        ulong sum = _spikeRowAbs![target] - Abs(SpikeQ[at]) + Abs(q);
        CheckSpikeRow(p, target, sum);
        _spikeRowAbs[target] = sum;
        SpikeQ[at] = (int)q;
        _versions[p.Slot]++;
    }

    /// <summary>
    /// Writes the incoming weights of one target (<see cref="PlasticProjection.Incoming"/> order), checked first, with
    /// the results of <see cref="Set"/> with those ids. The rules' common write, a whole trace row (e.g. a row of W_rec per
    /// tick), takes one pass: the quantizer's exact sum is the row's new Σ|q| and the row is copied in; any other row
    /// (shared with another projection, a spike row, unquantized) goes through <see cref="Set"/>.
    /// </summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]   // the stack rows are written before they are read
    internal void SetIncoming(PlasticProjection p, int target, ReadOnlySpan<double> weights)
    {
        var ids = p.Incoming(target);
        int row = p.Exact ? p.WholeTraceRow(target) : -1;
        if (row < 0) { Set(p, ids, all: false, weights); return; }
        int m = ids.Length;
        if (weights.Length != m) throw new ArgumentException($"{m} weights expected for projection '{p.Name}', got {weights.Length}", nameof(weights));
        const int StackRow = 512;   // a row this long lives on the stack (8 KiB); longer ones rent
        long[]? qRent = m > StackRow ? ArrayPool<long>.Shared.Rent(m) : null;
        double[]? vRent = m > StackRow ? ArrayPool<double>.Shared.Rent(m) : null;
        Span<long> q = qRent is null ? stackalloc long[m] : qRent.AsSpan(0, m);
        Span<double> v = vRent is null ? stackalloc double[m] : vRent.AsSpan(0, m);
        try
        {
            int bad = FixedPoint.QuantizeRow(weights, Math.ScaleB(1.0, p.FractionBits), q, v, out double sumAbs);
            if (bad >= 0) throw OutOfGrid(p, ids[bad], weights[bad]);
            CheckTraceRow(target, sumAbs);   // ≥ 2^53, and so refused, whenever the sum is not exact
            q.CopyTo(TraceQ.AsSpan(row, m));
            v.CopyTo(TraceQValue.AsSpan(row, m));
            _traceRowAbs![target] = (ulong)sumAbs;
            _versions[p.Slot]++;
        }
        finally
        {
            if (qRent is not null) ArrayPool<long>.Shared.Return(qRent);
            if (vRent is not null) ArrayPool<double>.Shared.Return(vRent);
        }
    }

    private void Replace(int target, int at, long q, double qValue)
    {
        _traceRowAbs![target] = _traceRowAbs[target] - Abs(TraceQ[at]) + Abs(q);
        TraceQ[at] = q;
        TraceQValue[at] = qValue;
    }

    private void ReplaceSpike(PlasticProjection p, int k, int at, long q)
    {
        int target = p.Post[k];
        _spikeRowAbs![target] = _spikeRowAbs[target] - Abs(SpikeQ[at]) + Abs(q);
        SpikeQ[at] = (int)q;
    }

    private static ulong Abs(long x) => x < 0 ? (ulong)(-(x + 1)) + 1 : (ulong)x;

    // Per-target change of Σ|q| of the write being checked (exact: each |q| < 2^54), and the targets touched, each once.
    private long[]? _delta;
    private int[]? _touched;
    private bool[]? _listed;

    private int Accumulate(PlasticProjection p, ReadOnlySpan<int> ids, bool all, ReadOnlySpan<long> q, bool trace)
    {
        _delta ??= new long[_net.NeuronCount];
        _touched ??= new int[_net.NeuronCount];
        _listed ??= new bool[_net.NeuronCount];
        var pos = p.TablePosition;
        var post = p.Post;
        int touched = 0;
        for (int j = 0; j < q.Length; j++)
        {
            int k = all ? j : ids[j];
            int target = post[k];
            long old = trace ? TraceQ[pos[k]] : SpikeQ[pos[k]];
            long d = (long)Math.Min(Abs(q[j]), 1UL << 54) - (long)Math.Min(Abs(old), 1UL << 54);
            if (!_listed[target]) { _listed[target] = true; _touched[touched++] = target; }
            _delta[target] += d;
        }
        return touched;
    }

    // Trace rows: the new Σ|q| of every touched target row must stay below 2^(53 − G_in) (CompiledNetwork.TraceRowLimit).
    private void CheckTraceRows(PlasticProjection p, ReadOnlySpan<int> ids, bool all, ReadOnlySpan<long> q)
    {
        int touched = Accumulate(p, ids, all, q, trace: true);
        try
        {
            for (int t = 0; t < touched; t++)
            {
                int target = _touched![t];
                CheckTraceRow(target, (double)_traceRowAbs![target] + _delta![target]);
            }
        }
        finally { Clear(touched); }
    }

    private void CheckTraceRow(int target, double sum)
    {
        var pop = _net.Populations[_targetPopulation[target]];
        double limit = CompiledNetwork.TraceRowLimit(pop);
        if (sum >= limit)
            throw new PlasticWeightException(
                $"plastic trace weights into neuron {target} of '{pop.Name}' reach {sum:E3} grid units (2^-{pop.TraceWeightFractionBits}), " +
                $"beyond the exact range {limit:E3} (Σ|q|·2^{pop.TraceInputFractionBits} < 2^53); use fewer weight_fraction_bits or a smaller learning rate");
    }

    // Spike rows: |q| ≤ 2^30 (int storage), the receptor's sign where the target model tells receptors apart, and the
    // running Σ|q| of the target below 2^46 (the compiler's bound, leaving room for several spikes of one source per tick).
    private void CheckSpike(PlasticProjection p, ReadOnlySpan<int> ids, bool all, ReadOnlySpan<long> q)
    {
        CheckSpikeRanges(p, ids, all, q);
        int touched = Accumulate(p, ids, all, q, trace: false);
        try
        {
            for (int t = 0; t < touched; t++)
            {
                int target = _touched![t];
                CheckSpikeRow(p, target, (double)_spikeRowAbs![target] + _delta![target]);
            }
        }
        finally { Clear(touched); }
    }

    private static void CheckSpikeRow(PlasticProjection p, int target, double sum)
    {
        if (sum >= Math.ScaleB(1.0, 46))
            throw new PlasticWeightException($"plastic weights into neuron {target} of '{p.Name}' reach Σ|q| = {sum:E3}, beyond the exact range 2^46");
    }

    private void CheckSpikeRanges(PlasticProjection p, ReadOnlySpan<int> ids, bool all, ReadOnlySpan<long> q)
    {
        var receptors = p.Receptor;
        bool signed = _net.Populations[p.TargetPopulation].Model.DistinguishesReceptors;
        for (int j = 0; j < q.Length; j++)
        {
            int k = all ? j : ids[j];
            if (Math.Abs(q[j]) > FixedPoint.MaxAbsQ)
                throw new PlasticWeightException($"plastic weight {k} of '{p.Name}' is {q[j] * p.Unit:G6}: beyond the grid's range |q| ≤ 2^30 (2^-{p.FractionBits})");
            if (signed && q[j] != 0 && (q[j] < 0) != (receptors[k] == 1))
                throw new PlasticWeightException(
                    $"plastic weight {k} of '{p.Name}' would change sign ({q[j] * p.Unit:G6}): its target model '{_net.Populations[p.TargetPopulation].Model.Name}' " +
                    "routes excitatory and inhibitory weights to different synapses, so a plastic synapse keeps its sign (bound it at 0)");
        }
    }

    private void Clear(int touched)
    {
        for (int t = 0; t < touched; t++) { _delta![_touched![t]] = 0; _listed![_touched[t]] = false; }
    }

    private static PlasticWeightException OutOfGrid(PlasticProjection p, int k, double w) => new(
        $"plastic weight {k} of '{p.Name}' is {w:G6}: not finite or beyond the range of the grid 2^-{p.FractionBits} (|w·2^F| < 2^51)");
}

/// <summary>
/// A plastic weight write refused before anything was written: a value off the grid's range, a sign the target's
/// receptor cannot take, or a row sum beyond the exactness bound (usually too large a learning rate). Tasks that learn
/// catch this one type to end learning with its reason; anything else is a bug and propagates.
/// </summary>
public sealed class PlasticWeightException(string message) : InvalidOperationException(message);
