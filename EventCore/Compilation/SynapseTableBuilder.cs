using Sim.EventCore.Numerics;

namespace Sim.EventCore.Compilation;

/// <summary>
/// Builds the compiled synapse tables from the drawn synapses: the spike table in CSR by source, each row in segments of
/// equal (delay, receptor, projection) with targets ascending, in a canonical order independent of generation order, and
/// the trace-coupling table in CSR by target; weights quantized onto their population's grid.
/// </summary>
internal static class SynapseTableBuilder
{
    public static SynapseTable BuildSpikeTable(SynapseBuffer b, int nSrc, int nNeurons, CompiledPopulation[] pops, bool exactDelays)
    {
        int m = b.Count;
        var bitsOf = new int[nNeurons];
        foreach (var p in pops) Array.Fill(bitsOf, p.WeightFractionBits, p.Offset, p.Size);
        var q = new int[m];
        for (int k = 0; k < m; k++) q[k] = (int)FixedPoint.Quantize(b.Weight[k], bitsOf[b.Target[k]]);

        // Sort by (source, delay, receptor, projection, target): a canonical order independent of generation order.
        var order = new int[m];
        for (int k = 0; k < m; k++) order[k] = k;
        Array.Sort(order, (x, y) =>
        {
            int c = b.Source[x].CompareTo(b.Source[y]);
            if (c != 0) return c;
            c = b.Delay[x].CompareTo(b.Delay[y]);
            if (c != 0) return c;
            c = (q[x] < 0).CompareTo(q[y] < 0);
            if (c != 0) return c;
            c = b.Projection[x].CompareTo(b.Projection[y]);
            if (c != 0) return c;
            c = b.Target[x].CompareTo(b.Target[y]);
            return c != 0 ? c : x.CompareTo(y);
        });

        var target = new int[m];
        var qs = new int[m];
        var delayMs = exactDelays ? new double[m] : null;
        var segOffsets = new int[nSrc + 1];
        var segDelay = new List<int>();
        var segRec = new List<byte>();
        var segStart = new List<int>();
        var segProj = new List<int>();
        int maxDelay = 1;
        int prevSrc = -1, prevDelay = -1, prevRec = -1, prevProj = -1;
        for (int r = 0; r < m; r++)
        {
            int k = order[r];
            target[r] = b.Target[k];
            qs[r] = q[k];
            if (delayMs is not null) delayMs[r] = b.DelayMs[k];
            int src = b.Source[k], d = b.Delay[k], rec = q[k] < 0 ? 1 : 0, pj = b.Projection[k];
            if (src != prevSrc || d != prevDelay || rec != prevRec || pj != prevProj)
            {
                while (prevSrc < src) segOffsets[++prevSrc] = segDelay.Count;
                segDelay.Add(d); segRec.Add((byte)rec); segStart.Add(r); segProj.Add(pj);
                prevDelay = d; prevRec = rec; prevProj = pj;
                maxDelay = Math.Max(maxDelay, d);
            }
        }
        while (prevSrc < nSrc) segOffsets[++prevSrc] = segDelay.Count;
        segStart.Add(m);
        return new SynapseTable
        {
            SegmentOffsetsArray = segOffsets, SegmentDelayArray = [.. segDelay], SegmentReceptorArray = [.. segRec], SegmentStartArray = [.. segStart],
            SegmentProjection = [.. segProj], TargetArray = target, QArray = qs, DelayMs = delayMs, MaxDelayTicks = maxDelay,
        };
    }

    public static TraceCouplingTable BuildTraceTable(SynapseBuffer b, int nNeurons, CompiledPopulation[] pops)
    {
        int m = b.Count;
        var bitsOf = new int[nNeurons];
        foreach (var p in pops) Array.Fill(bitsOf, p.TraceWeightFractionBits, p.Offset, p.Size);
        var order = Enumerable.Range(0, m).OrderBy(k => b.Target[k]).ThenBy(k => b.Source[k]).ThenBy(k => k).ToArray();
        var rowStart = new int[nNeurons + 1];
        var src = new int[m];
        var q = new long[m];
        var proj = new int[m];
        for (int r = 0; r < m; r++)
        {
            int k = order[r];
            src[r] = b.Source[k];
            proj[r] = b.Projection[k];
            q[r] = (long)FixedPoint.Quantize(b.Weight[k], bitsOf[b.Target[k]]);
            rowStart[b.Target[k] + 1]++;
        }
        for (int i = 0; i < nNeurons; i++) rowStart[i + 1] += rowStart[i];
        var inexactUnit = new double[nNeurons];
        foreach (var p in pops)
            if (!p.ExactTraceInput) Array.Fill(inexactUnit, Math.ScaleB(1.0, -p.TraceWeightFractionBits), p.Offset, p.Size);
        return new TraceCouplingTable(rowStart, src, q, proj, inexactUnit);
    }

    /// <summary>Growable struct-of-arrays of synapses during compilation.</summary>
    internal sealed class SynapseBuffer
    {
        public int[] Source = new int[1024], Target = new int[1024], Projection = new int[1024], Delay = new int[1024];
        public double[] Weight = new double[1024], DelayMs = new double[1024];
        public int Count;

        public void Add(int source, int target, int projection)
        {
            if (Count == Source.Length)
            {
                int cap = checked(Count * 2);
                Array.Resize(ref Source, cap); Array.Resize(ref Target, cap); Array.Resize(ref Projection, cap);
                Array.Resize(ref Delay, cap); Array.Resize(ref Weight, cap); Array.Resize(ref DelayMs, cap);
            }
            Source[Count] = source; Target[Count] = target; Projection[Count] = projection; Count++;
        }
    }
}
