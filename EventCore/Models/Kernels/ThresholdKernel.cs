using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sim.EventCore.Models;

/// <summary>
/// The deterministic threshold/reset/refractoriness step shared by the LIF models, vectorised with
/// <see cref="Vector{T}"/>: selections and comparisons only (no arithmetic on the state), so the result is the same
/// bits at any vector width. Per neuron: if t − t_last &lt; n_ref the state is held; otherwise u ← a, and u &gt; θ fires
/// (u ← u_r, t_last ← t). Spiking neurons are appended in ascending id.
/// </summary>
internal static class ThresholdKernel
{
    /// <param name="uniform">Every neuron has the same θ and n_ref (precomputed once; the kernel then broadcasts them).</param>
    public static void Run(long t, double[] u, double[] a, double[] theta, double[] reset, long[] last, long[] nref,
        int offset, int[] spikes, ref int count, bool uniform)
    {
        int n = u.Length, i = 0;
        if (Vector.IsHardwareAccelerated && Vector<double>.Count == Vector<long>.Count)
        {
            int w = Vector<double>.Count;
            var vt = new Vector<long>(t);
            ref double ru = ref MemoryMarshal.GetArrayDataReference(u);
            ref double ra = ref MemoryMarshal.GetArrayDataReference(a);
            ref double rth = ref MemoryMarshal.GetArrayDataReference(theta);
            ref long rl = ref MemoryMarshal.GetArrayDataReference(last);
            ref long rn = ref MemoryMarshal.GetArrayDataReference(nref);
            if (uniform && n > 0)
            {
                // Homogeneous population: broadcast θ and n_ref (same comparisons, fewer memory streams).
                var vth = new Vector<double>(theta[0]);
                var vn = new Vector<long>(nref[0]);
                for (; i <= n - w; i += w)
                {
                    var active = Vector.GreaterThanOrEqual(vt - Vector.LoadUnsafe(ref rl, (nuint)i), vn);
                    var un = Vector.ConditionalSelect(active, Vector.LoadUnsafe(ref ra, (nuint)i), Vector.LoadUnsafe(ref ru, (nuint)i));
                    var fire = Vector.GreaterThan(un, vth) & active;
                    un.StoreUnsafe(ref ru, (nuint)i);
                    if (fire != Vector<long>.Zero)
                        for (int k = 0; k < w; k++)
                            if (fire[k] != 0) Fire(i + k, t, u, reset, last, offset, spikes, ref count);
                }
            }
            for (; i <= n - w; i += w)
            {
                var active = Vector.GreaterThanOrEqual(vt - Vector.LoadUnsafe(ref rl, (nuint)i), Vector.LoadUnsafe(ref rn, (nuint)i));
                var un = Vector.ConditionalSelect(active, Vector.LoadUnsafe(ref ra, (nuint)i), Vector.LoadUnsafe(ref ru, (nuint)i));
                var fire = Vector.GreaterThan(un, Vector.LoadUnsafe(ref rth, (nuint)i)) & active;
                un.StoreUnsafe(ref ru, (nuint)i);
                if (fire != Vector<long>.Zero)
                    for (int k = 0; k < w; k++)
                        if (fire[k] != 0) Fire(i + k, t, u, reset, last, offset, spikes, ref count);
            }
        }
        for (; i < n; i++)
        {
            if (t - last[i] < nref[i]) continue;
            u[i] = a[i];
            if (u[i] > theta[i]) Fire(i, t, u, reset, last, offset, spikes, ref count);
        }
    }

    /// <summary>Neuron i spikes at tick t: u ← u_r, last spike ← t, its global id appended.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Fire(int i, long t, double[] u, double[] reset, long[] last, int offset, int[] spikes, ref int count)
    {
        u[i] = reset[i];
        last[i] = t;
        spikes[count++] = offset + i;
    }
}
