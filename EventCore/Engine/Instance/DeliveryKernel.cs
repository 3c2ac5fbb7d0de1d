using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sim.EventCore.Compilation;

namespace Sim.EventCore.Engine;

/// <summary>
/// The scatter-add of spike delivery (Auryn's and NEST's inner loop): acc[target[k]] += q[k] for one segment of a
/// source's synapse row (one delay, one receptor), into the ring slot of that delay. The sums are integers below 2^53
/// (numerics contract item 3), so they are exact in any order and the loop may be unrolled freely.
/// <para>The loop runs without bounds checks: <see cref="Validate"/> checks once per compiled table (when the first engine
/// is built on it) that every target lies in [0, N) and that the segment bounds are consistent; the table's arrays are
/// read-only outside EventCore, so nothing can invalidate that afterwards.</para>
/// </summary>
internal static class DeliveryKernel
{
    /// <summary>Σ over k in [start, end) of acc[target[k]] += q[k], unrolled by four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScatterAdd(Span<double> acc, int[] target, int[] q, int start, int end)
    {
        ref double a = ref MemoryMarshal.GetReference(acc);
        ref int t = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(target), start);
        ref int w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(q), start);
        nint count = end - start, k = 0;
        for (; k <= count - 4; k += 4)
        {
            int t0 = Unsafe.Add(ref t, k), t1 = Unsafe.Add(ref t, k + 1), t2 = Unsafe.Add(ref t, k + 2), t3 = Unsafe.Add(ref t, k + 3);
            double w0 = Unsafe.Add(ref w, k), w1 = Unsafe.Add(ref w, k + 1), w2 = Unsafe.Add(ref w, k + 2), w3 = Unsafe.Add(ref w, k + 3);
            Unsafe.Add(ref a, t0) += w0;
            Unsafe.Add(ref a, t1) += w1;
            Unsafe.Add(ref a, t2) += w2;
            Unsafe.Add(ref a, t3) += w3;
        }
        for (; k < count; k++) Unsafe.Add(ref a, Unsafe.Add(ref t, k)) += Unsafe.Add(ref w, k);
    }

    /// <summary>As the unrolled overload, each weight taken <paramref name="multiplicity"/> times (q·m, exact).</summary>
    public static void ScatterAdd(Span<double> acc, int[] target, int[] q, int start, int end, int multiplicity)
    {
        ref double a = ref MemoryMarshal.GetReference(acc);
        ref int t = ref MemoryMarshal.GetArrayDataReference(target);
        ref int w = ref MemoryMarshal.GetArrayDataReference(q);
        double m = multiplicity;
        for (nint k = start; k < end; k++) Unsafe.Add(ref a, Unsafe.Add(ref t, k)) += Unsafe.Add(ref w, k) * m;
    }

    /// <summary>
    /// Checks what the unchecked loop relies on: segment bounds within the table and ascending, every target in
    /// [0, <paramref name="neurons"/>), weights and targets of equal length. Throws <see cref="InvalidOperationException"/>.
    /// A table that passed once is not scanned again (sweeps build many engines on one network).
    /// </summary>
    public static void Validate(SynapseTable syn, int neurons, int sources)
    {
        if (syn.Validated) return;
        if (syn.Q.Length != syn.Target.Length) throw new InvalidOperationException("synapse table: weights and targets differ in length");
        if (syn.SegmentOffsets.Length != sources + 1) throw new InvalidOperationException("synapse table: segment offsets do not cover the sources");
        int segments = syn.SegmentStart.Length - 1;
        for (int s = 0; s < sources; s++)
            if (syn.SegmentOffsets[s] < 0 || syn.SegmentOffsets[s] > syn.SegmentOffsets[s + 1] || syn.SegmentOffsets[s + 1] > segments)
                throw new InvalidOperationException($"synapse table: segments of source {s} out of range");
        for (int g = 0; g < segments; g++)
            if (syn.SegmentStart[g] < 0 || syn.SegmentStart[g] > syn.SegmentStart[g + 1] || syn.SegmentStart[g + 1] > syn.Target.Length)
                throw new InvalidOperationException($"synapse table: segment {g} out of range");
        foreach (int t in syn.Target)
            if ((uint)t >= (uint)neurons) throw new InvalidOperationException($"synapse table: target {t} outside [0, {neurons})");
        syn.Validated = true;
    }
}
