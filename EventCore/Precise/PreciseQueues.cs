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
/// Indexed binary min-heap holding at most one time per id (a neuron's predicted crossing, a Poisson source's next
/// spike), ordered by (time, id); a new time replaces the old one in O(log N) (no stale entries). Times are kept in the
/// heap nodes next to their ids, so a comparison reads one node, not an id and then its time.
/// </summary>
internal sealed class PredictionHeap
{
    private struct Node
    {
        public double Time;
        public int Id;
    }

    private readonly Node[] _heap;
    private readonly int[] _pos;

    public PredictionHeap(int n)
    {
        _heap = new Node[n];
        _pos = new int[n];
        Array.Fill(_pos, -1);
    }

    public int Count { get; private set; }
    public int MinId => _heap[0].Id;
    /// <summary>The time of <paramref name="id"/>, or +∞ if it has none.</summary>
    public double TimeOf(int id) => _pos[id] < 0 ? double.PositiveInfinity : _heap[_pos[id]].Time;
    public double MinTime => _heap[0].Time;

    /// <summary>Sets (or, for +∞, removes) the time of <paramref name="id"/>.</summary>
    public void Set(int id, double time)
    {
        int p = _pos[id];
        if (double.IsPositiveInfinity(time))
        {
            if (p >= 0) RemoveAt(p);
            return;
        }
        var node = new Node { Time = time, Id = id };
        if (p < 0) p = Count++;
        else if (Less(_heap[p], node)) { Down(p, node); return; }
        Up(p, node);
    }

    public int PopMin()
    {
        int id = _heap[0].Id;
        RemoveAt(0);
        return id;
    }

    private void RemoveAt(int p)
    {
        _pos[_heap[p].Id] = -1;
        int last = --Count;
        if (p == last) return;
        var moved = _heap[last];
        if (p > 0 && Less(moved, _heap[(p - 1) >> 1])) Up(p, moved);
        else Down(p, moved);
    }

    private static bool Less(in Node a, in Node b) => a.Time < b.Time || (a.Time == b.Time && a.Id < b.Id);

    /// <summary>Places <paramref name="node"/> at or above hole <paramref name="p"/>.</summary>
    private void Up(int p, Node node)
    {
        while (p > 0)
        {
            int q = (p - 1) >> 1;
            if (!Less(node, _heap[q])) break;
            _heap[p] = _heap[q];
            _pos[_heap[p].Id] = p;
            p = q;
        }
        _heap[p] = node;
        _pos[node.Id] = p;
    }

    /// <summary>Places <paramref name="node"/> at or below hole <paramref name="p"/>.</summary>
    private void Down(int p, Node node)
    {
        int n = Count;
        while (true)
        {
            int c = 2 * p + 1;
            if (c >= n) break;
            if (c + 1 < n && Less(_heap[c + 1], _heap[c])) c++;
            if (!Less(_heap[c], node)) break;
            _heap[p] = _heap[c];
            _pos[_heap[p].Id] = p;
            p = c;
        }
        _heap[p] = node;
        _pos[node.Id] = p;
    }
}

/// <summary>
/// Arrival runs queued per distinct delay: spikes are processed in non-decreasing time, so the runs of one delay d are
/// queued in non-decreasing time t + d and each queue is a FIFO (a growable ring). The next time is the smallest head
/// over the few queues. Used when a network has at most <see cref="MaxClasses"/> distinct delays.
/// </summary>
internal sealed class ArrivalFifos
{
    /// <summary>Largest number of distinct delays served by FIFOs (beyond it the engine uses the heap).</summary>
    public const int MaxClasses = 16;

    private struct Entry
    {
        public double Time;
        public long Seq;
        public int Run;
    }

    private readonly Entry[][] _ring;
    private readonly int[] _head, _count;

    public ArrivalFifos(int classes)
    {
        _ring = new Entry[classes][];
        for (int c = 0; c < classes; c++) _ring[c] = new Entry[64];
        _head = new int[classes];
        _count = new int[classes];
    }

    /// <summary>Queues a run at <paramref name="time"/> (not before the last time queued in this class).</summary>
    public void Push(int cls, double time, long seq, int run)
    {
        var ring = _ring[cls];
        int n = _count[cls];
        if (n == ring.Length)
        {
            var bigger = new Entry[2 * ring.Length];
            for (int k = 0; k < n; k++) bigger[k] = ring[(_head[cls] + k) & (ring.Length - 1)];
            _ring[cls] = ring = bigger;
            _head[cls] = 0;
        }
        if (n > 0 && time < ring[(_head[cls] + n - 1) & (ring.Length - 1)].Time)
            throw new InvalidOperationException($"PreciseEngine: arrival at {time:R} ms queued after one at {ring[(_head[cls] + n - 1) & (ring.Length - 1)].Time:R} ms for the same delay (internal error: events went back in time; please report the network)");
        ring[(_head[cls] + n) & (ring.Length - 1)] = new Entry { Time = time, Seq = seq, Run = run };
        _count[cls] = n + 1;
    }

    /// <summary>The earliest queued time, or +∞.</summary>
    public double MinTime
    {
        get
        {
            double m = double.PositiveInfinity;
            for (int c = 0; c < _count.Length; c++)
                if (_count[c] > 0 && _ring[c][_head[c]].Time < m) m = _ring[c][_head[c]].Time;
            return m;
        }
    }

    /// <summary>Removes one run queued at exactly <paramref name="time"/>, if any.</summary>
    public bool TryPopAt(double time, out long seq, out int run)
    {
        for (int c = 0; c < _count.Length; c++)
        {
            if (_count[c] == 0) continue;
            var ring = _ring[c];
            ref var e = ref ring[_head[c]];
            if (e.Time != time) continue;
            seq = e.Seq;
            run = e.Run;
            _head[c] = (_head[c] + 1) & (ring.Length - 1);
            _count[c]--;
            return true;
        }
        seq = 0;
        run = -1;
        return false;
    }
}
