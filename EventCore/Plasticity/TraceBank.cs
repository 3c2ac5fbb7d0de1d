namespace Sim.EventCore.Plasticity;

/// <summary>
/// A lazily decayed trace per neuron or source (NEST's and Auryn's per-neuron traces, docs/architecture.md): x_i with the tick of
/// its last update L_i; read at tick t as x_i·α^(t−L_i), and a spike of multiplicity c at t sets x_i ← x_i·α^(t−L_i) + c
/// (<see cref="TraceUpdate.Accumulate"/>) or x_i ← 1 (<see cref="TraceUpdate.Nearest"/>), L_i ← t. α = exp(−dt/τ) is computed once; α^k comes from <see cref="DecayPowers"/>, a fixed sequence of products, so
/// the value is the same bits in every engine (the rules run in C# for both).
/// </summary>
internal sealed class TraceBank(TraceHandle handle, int size, double dtMs)
{
    private readonly double[] _value = new double[size];
    private readonly long[] _last = new long[size];
    private readonly DecayPowers _decay = new(Math.Exp(-dtMs / handle.TauMs));
    private readonly bool _nearest = handle.Update == TraceUpdate.Nearest;

    /// <summary>Which trace this is.</summary>
    public TraceHandle Handle { get; } = handle;

    /// <summary>x_i at <paramref name="tick"/> (≥ its last update).</summary>
    public double Read(int id, long tick) => _value[id] * _decay.Pow(tick - _last[id]);

    /// <summary>A spike of multiplicity <paramref name="count"/> of element <paramref name="id"/> at <paramref name="tick"/>.</summary>
    public void Add(int id, long tick, int count)
    {
        _value[id] = _nearest ? 1.0 : Read(id, tick) + count;
        _last[id] = tick;
    }

    /// <summary>A reader at <paramref name="tick"/>.</summary>
    public TraceReader Reader(long tick) => new(_value, _last, _decay, tick);

    /// <summary>All traces back to 0 (start of a trial).</summary>
    public void Reset()
    {
        Array.Clear(_value);
        Array.Clear(_last);
    }

    /// <summary>The stored values and update ticks (checkpoints).</summary>
    public (double[] Value, long[] Last) Capture() => ((double[])_value.Clone(), (long[])_last.Clone());

    /// <summary>Sets the stored values and update ticks.</summary>
    public void Restore(double[] value, long[] last)
    {
        if (value.Length != _value.Length || last.Length != _last.Length)
            throw new InvalidDataException($"trace τ = {Handle.TauMs} ms: {value.Length} values and {last.Length} update ticks saved, {_value.Length} of each expected");
        value.CopyTo(_value, 0);
        last.CopyTo(_last, 0);
    }
}

/// <summary>A lazily decayed trace read at one tick: x_i·α^(t − L_i), the same bits as <see cref="IPlasticityContext.Trace"/>.</summary>
public readonly struct TraceReader
{
    private readonly double[] _value;
    private readonly long[] _last;
    private readonly DecayPowers _decay;
    private readonly long _tick;

    internal TraceReader(double[] value, long[] last, DecayPowers decay, long tick) => (_value, _last, _decay, _tick) = (value, last, decay, tick);

    /// <summary>The trace of neuron or source <paramref name="id"/>.</summary>
    public double this[int id] => _value[id] * _decay.Pow(_tick - _last[id]);
}

/// <summary>
/// α^k for integer k ≥ 0 as a fixed sequence of IEEE products: α^k = B[k / 1024]·A[k mod 1024] for k &lt; 2^20, with the
/// tables A[j] = A[j−1]·α and B[m] = B[m−1]·α^1024 built by repeated multiplication (A[0] = B[0] = 1); larger k multiply
/// that by (α^(2^20))^(k / 2^20) by binary powering. Two loads and a product for the gaps of spiking neurons (at dt =
/// 0.1 ms, up to 105 s). The traces' decay, public so that rules with per-source or per-synapse exponentials (e.g.
/// short-term plasticity's e^{−Δt/τ_rec}) use the same bits on every engine without a per-spike <c>exp</c>
/// (docs/numerics.md item 5).
/// </summary>
public sealed class DecayPowers
{
    /// <summary>α.</summary>
    public double Alpha => _table[1];

    /// <summary>The powers of α = exp(−<paramref name="dtMs"/>/<paramref name="tauMs"/>) (τ = 0 or +∞ are not traces: refused).</summary>
    public static DecayPowers ForTau(double tauMs, double dtMs)
    {
        if (!(tauMs > 0) || !double.IsFinite(tauMs)) throw new ArgumentOutOfRangeException(nameof(tauMs), $"a decay needs a finite τ > 0 ms, got {tauMs}");
        return new DecayPowers(Math.Exp(-dtMs / tauMs));
    }

    private const int TableSize = 1024;
    private readonly double[] _table = new double[TableSize], _blocks = new double[TableSize];
    private readonly double _super;   // α^(2^20)

    /// <summary>The powers of <paramref name="alpha"/>.</summary>
    public DecayPowers(double alpha)
    {
        _table[0] = 1.0;
        for (int k = 1; k < TableSize; k++) _table[k] = _table[k - 1] * alpha;
        _blocks[0] = 1.0;
        double block = _table[TableSize - 1] * alpha;
        for (int m = 1; m < TableSize; m++) _blocks[m] = _blocks[m - 1] * block;
        _super = _blocks[TableSize - 1] * block;
    }

    /// <summary>α^k.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public double Pow(long k) => k < TableSize ? _table[k] : k < TableSize * TableSize ? _blocks[k >> 10] * _table[k & (TableSize - 1)] : PowHuge(k);

    private double PowHuge(long k)
    {
        double result = _blocks[(k >> 10) & (TableSize - 1)] * _table[k & (TableSize - 1)], b = _super;
        for (long e = k >> 20; e > 0 && result != 0; e >>= 1)
        {
            if ((e & 1) != 0) result *= b;
            b *= b;
        }
        return result;
    }
}
