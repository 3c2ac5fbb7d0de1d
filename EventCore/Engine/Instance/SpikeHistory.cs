namespace Sim.EventCore.Engine;

/// <summary>
/// The source spikes (neurons and inputs) of the last D_max ticks whose deliveries may still be pending: a circular log
/// of (tick, source, multiplicity), so that a checkpoint can re-create the delivery ring on any engine. Grows only until
/// the peak number of pending spike groups is reached.
/// </summary>
internal sealed class SpikeHistory
{
    private long[] _tick = new long[4096];
    private int[] _source = new int[4096], _count = new int[4096];
    private int _head, _length;

    /// <summary>Forgets everything (tick 0).</summary>
    public void Clear() => _head = _length = 0;

    /// <summary>Logs a spike group.</summary>
    public void Remember(long t, int source, int count)
    {
        if (_length == _tick.Length)
        {
            int cap = _tick.Length * 2;
            var nt = new long[cap]; var ns = new int[cap]; var nc = new int[cap];
            for (int k = 0; k < _length; k++)
            {
                int j = (_head + k) % _tick.Length;
                nt[k] = _tick[j]; ns[k] = _source[j]; nc[k] = _count[j];
            }
            _tick = nt; _source = ns; _count = nc; _head = 0;
        }
        int at = (_head + _length) % _tick.Length;
        _tick[at] = t; _source[at] = source; _count[at] = count;
        _length++;
    }

    /// <summary>Drops the groups emitted at ticks ≤ <paramref name="oldest"/> (delivered entirely).</summary>
    public void Forget(long oldest)
    {
        while (_length > 0 && _tick[_head] <= oldest) { _head = (_head + 1) % _tick.Length; _length--; }
    }

    /// <summary>The pending groups in emission order.</summary>
    public (long[] Ticks, int[] Sources, int[] Counts) Snapshot()
    {
        var ticks = new long[_length]; var src = new int[_length]; var count = new int[_length];
        for (int k = 0; k < _length; k++)
        {
            int j = (_head + k) % _tick.Length;
            ticks[k] = _tick[j]; src[k] = _source[j]; count[k] = _count[j];
        }
        return (ticks, src, count);
    }
}
