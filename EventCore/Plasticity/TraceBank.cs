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

/// <summary>
/// α^k for integer k ≥ 0 as a fixed sequence of IEEE products: k &lt; 1024 from a table built by repeated multiplication
/// (α^k = α^(k−1)·α), larger k as (α^1024)^(k/1024)·α^(k mod 1024) with the first factor by binary powering. The traces'
/// decay, public so that rules with per-source or per-synapse exponentials (e.g. short-term plasticity's e^{−Δt/τ_rec})
/// use the same bits on every engine without a per-spike <c>exp</c> (docs/numerics.md item 5).
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
    private readonly double[] _table = new double[TableSize];
    private readonly double _block;

    /// <summary>The powers of <paramref name="alpha"/>.</summary>
    public DecayPowers(double alpha)
    {
        _table[0] = 1.0;
        for (int k = 1; k < TableSize; k++) _table[k] = _table[k - 1] * alpha;
        _block = _table[TableSize - 1] * alpha;
    }

    /// <summary>α^k.</summary>
    public double Pow(long k)
    {
        if (k < TableSize) return _table[k];
        double result = _table[k % TableSize], b = _block;
        for (long e = k / TableSize; e > 0 && result != 0; e >>= 1)
        {
            if ((e & 1) != 0) result *= b;
            b *= b;
        }
        return result;
    }
}
