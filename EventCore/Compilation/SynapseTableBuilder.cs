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
    /// <remarks>
    /// Sized up front from the expected synapse count (<see cref="NetworkCompiler"/>'s memory estimate), so that building
    /// does not hold the up to 2× slack of doubling: 24 bytes per synapse, 32 with exact delays. It grows by a quarter
    /// only when a random connectivity draws more than expected.
    /// </remarks>
    internal sealed class SynapseBuffer(long expected, bool exactDelays)
    {
        public int[] Source = new int[Capacity(expected)], Target = new int[Capacity(expected)], Projection = new int[Capacity(expected)], Delay = new int[Capacity(expected)];
        public double[] Weight = new double[Capacity(expected)];
        public double[] DelayMs = exactDelays ? new double[Capacity(expected)] : [];
        public int Count;

        /// <summary>Bytes per synapse held while building.</summary>
        public static int BytesPerSynapse(bool exactDelays) => 4 * sizeof(int) + sizeof(double) + (exactDelays ? sizeof(double) : 0);

        private static int Capacity(long expected) => (int)Math.Clamp(expected, 16, Array.MaxLength);

        public void Add(int source, int target, int projection)
        {
            if (Count == Source.Length)
            {
                int cap = (int)Math.Min(Array.MaxLength, Count + Math.Max(1024L, Count / 4));
                if (cap == Count) throw new InvalidOperationException("more synapses than an array can hold");
                Array.Resize(ref Source, cap); Array.Resize(ref Target, cap); Array.Resize(ref Projection, cap);
                Array.Resize(ref Delay, cap); Array.Resize(ref Weight, cap);
                if (DelayMs.Length > 0) Array.Resize(ref DelayMs, cap);
            }
            Source[Count] = source; Target[Count] = target; Projection[Count] = projection; Count++;
        }
    }
}
