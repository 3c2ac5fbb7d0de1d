namespace Sim.EventCore.Precise;

/// <summary>Kinds of queued events; at equal times they are processed in this order.</summary>
internal enum PreciseEventKind : byte
{
    /// <summary>The arrivals of one spike through one arrival run (id = source, or the target when each synapse is its own run; payload = run).</summary>
    Arrival = 1,
    /// <summary>A spike of an input source (id = source id).</summary>
    Input = 2,
}

/// <summary>A queued event: ordered by (time, kind, id, sequence number of insertion).</summary>
internal struct PreciseEvent
{
    public double Time;
    public PreciseEventKind Kind;
    public int Id;
    public long Seq;
    /// <summary>Arrival: the arrival run; input: the input index.</summary>
    public int Payload;

    public readonly bool Before(in PreciseEvent o)
        => Time < o.Time || (Time == o.Time && (Kind < o.Kind || (Kind == o.Kind && (Id < o.Id || (Id == o.Id && Seq < o.Seq)))));
}

/// <summary>Binary min-heap of <see cref="PreciseEvent"/> with the deterministic order of <see cref="PreciseEvent.Before"/>.</summary>
internal sealed class PreciseEventHeap
{
    private PreciseEvent[] _a = new PreciseEvent[1024];
    private long _seq;

    public int Count { get; private set; }

    public ref readonly PreciseEvent Min => ref _a[0];

    /// <summary>Queues an event numbered in insertion order.</summary>
    public void Push(double time, PreciseEventKind kind, int id, int payload) => Push(time, kind, id, payload, _seq++);

    /// <summary>Queues an event with a given insertion number (the caller keeps the numbers unique per (time, kind, id)).</summary>
    public void Push(double time, PreciseEventKind kind, int id, int payload, long seq)
    {
        if (Count == _a.Length) Array.Resize(ref _a, _a.Length * 2);
        var e = new PreciseEvent { Time = time, Kind = kind, Id = id, Seq = seq, Payload = payload };
        int i = Count++;
        while (i > 0)
        {
            int p = (i - 1) >> 1;
            if (!e.Before(_a[p])) break;
            _a[i] = _a[p];
            i = p;
        }
        _a[i] = e;
    }

    public PreciseEvent Pop()
    {
        var top = _a[0];
        int last = --Count;
        if (last > 0)
        {
            var e = _a[last];
            int i = 0;
            while (true)
            {
                int c = 2 * i + 1;
                if (c >= last) break;
                if (c + 1 < last && _a[c + 1].Before(_a[c])) c++;
                if (!_a[c].Before(e)) break;
                _a[i] = _a[c];
                i = c;
            }
            _a[i] = e;
        }
        return top;
    }
}

/// <summary>
/// Indexed binary min-heap holding at most one predicted threshold-crossing time per neuron, ordered by (time, neuron id);
/// a new prediction replaces the old one in O(log N) (no stale entries).
/// </summary>
internal sealed class PredictionHeap
{
    private readonly int[] _heap, _pos;
    private readonly double[] _time;

    public PredictionHeap(int n)
    {
        _heap = new int[n];
        _pos = new int[n];
        _time = new double[n];
        Array.Fill(_pos, -1);
    }

    public int Count { get; private set; }
    public int MinId => _heap[0];
    public double MinTime => _time[_heap[0]];

    /// <summary>Sets (or, for +∞, removes) the prediction of neuron <paramref name="id"/>.</summary>
    public void Set(int id, double time)
    {
        int p = _pos[id];
        if (double.IsPositiveInfinity(time))
        {
            if (p >= 0) RemoveAt(p);
            return;
        }
        _time[id] = time;
        if (p < 0)
        {
            p = Count++;
            _heap[p] = id;
            _pos[id] = p;
        }
        p = Up(p);
        Down(p);
    }

    public int PopMin()
    {
        int id = _heap[0];
        RemoveAt(0);
        return id;
    }

    private void RemoveAt(int p)
    {
        int id = _heap[p];
        _pos[id] = -1;
        int last = --Count;
        if (p == last) return;
        _heap[p] = _heap[last];
        _pos[_heap[p]] = p;
        p = Up(p);
        Down(p);
    }

    private bool Less(int a, int b) => _time[a] < _time[b] || (_time[a] == _time[b] && a < b);

    private int Up(int p)
    {
        int id = _heap[p];
        while (p > 0)
        {
            int q = (p - 1) >> 1;
            if (!Less(id, _heap[q])) break;
            _heap[p] = _heap[q]; _pos[_heap[p]] = p;
            p = q;
        }
        _heap[p] = id; _pos[id] = p;
        return p;
    }

    private void Down(int p)
    {
        int id = _heap[p];
        while (true)
        {
            int c = 2 * p + 1;
            if (c >= Count) break;
            if (c + 1 < Count && Less(_heap[c + 1], _heap[c])) c++;
            if (!Less(_heap[c], id)) break;
            _heap[p] = _heap[c]; _pos[_heap[p]] = p;
            p = c;
        }
        _heap[p] = id; _pos[id] = p;
    }
}
