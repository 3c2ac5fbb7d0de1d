using System.Numerics;

namespace Sim.EventCore.Numerics;

/// <summary>
/// Fixed-point weights: w = q · 2^-F with an integer q (docs/numerics.md item 3).
/// A neuron's synaptic input in one tick is a sum of such q's, exact in float64 in any order while
/// |Σq| &lt; 2^53, so a sparse scatter-add and a dense matrix product give identical bits.
/// </summary>
public static class FixedPoint
{
    /// <summary>Largest |q| a weight may have on its grid (2^30): leaves 2^23 headroom for sums.</summary>
    public const double MaxAbsQ = 1L << 30;

    /// <summary>Default number of fraction bits when weights allow it.</summary>
    public const int DefaultFractionBits = 24;

    /// <summary>Bound on exact float64 integer sums.</summary>
    public const double ExactLimit = 9007199254740992.0; // 2^53

    /// <summary>2^-F as a double (exact).</summary>
    public static double Scale(int fractionBits) => Math.ScaleB(1.0, -fractionBits);

    /// <summary>Rounds a weight to the grid 2^-F: q = round_half_even(w · 2^F).</summary>
    public static double Quantize(double w, int fractionBits) => Math.Round(Math.ScaleB(w, fractionBits), MidpointRounding.ToEven);

    /// <summary>
    /// The finest grid (at most <see cref="DefaultFractionBits"/> bits) on which |w| ≤ maxAbsWeight keeps |q| ≤ 2^30.
    /// </summary>
    public static int AutoFractionBits(double maxAbsWeight)
    {
        if (maxAbsWeight <= 0) return DefaultFractionBits;
        int f = DefaultFractionBits;
        while (f > -30 && Math.ScaleB(maxAbsWeight, f) > MaxAbsQ) f--;
        return f;
    }

    /// <summary>Rounds a non-negative value onto the grid 2^-G (round half to even); the form both engines use for traces.</summary>
    public static double RoundToGrid(double x, double twoPowG, double twoPowMinusG) => Math.Round(x * twoPowG, MidpointRounding.ToEven) * twoPowMinusG;

    /// <summary>Largest |x·2^F| that <see cref="QuantizeRow"/> accepts: 2^51 (the range of the exact magic-number rounding).</summary>
    public const double MaxQuantizedMagnitude = 2251799813685248.0; // 2^51

    private const double RoundingMagic = 6755399441055744.0; // 1.5·2^52
    private const long RoundingMagicBits = 0x4338000000000000;

    private static int FirstOutOfRange(ReadOnlySpan<double> x, double scale, int from)
    {
        for (int k = from; k < x.Length; k++) if (!(Math.Abs(x[k] * scale) < MaxQuantizedMagnitude)) return k;
        return -1;
    }

    /// <summary>
    /// Σ_k |q_k| exactly (long.MinValue included) while it stays below 2^54; any larger sum is reported as a value
    /// ≥ 2^54. Vectorised, for the exactness bound of plastic rows.
    /// </summary>
    public static ulong SumAbsSaturating(ReadOnlySpan<long> q)
    {
        const ulong cap = 1UL << 54;
        int k = 0;
        ulong sum = 0;
        if (Vector.IsHardwareAccelerated && q.Length >= Vector<long>.Count)
        {
            var acc = Vector<ulong>.Zero;
            var vcap = new Vector<ulong>(cap);
            int sinceClamp = 0;
            for (; k <= q.Length - Vector<long>.Count; k += Vector<long>.Count)
            {
                var x = new Vector<long>(q[k..]);
                var sign = Vector.ShiftRightArithmetic(x, 63);
                var abs = Vector.AsVectorUInt64((x ^ sign) - sign);   // long.MinValue → 2^63 as ulong
                acc += Vector.Min(abs, vcap);
                if (++sinceClamp == 512) { acc = Vector.Min(acc, vcap); sinceClamp = 0; }  // lanes stay < 2^64
            }
            acc = Vector.Min(acc, vcap);
            for (int l = 0; l < Vector<ulong>.Count; l++) sum += acc[l];
        }
        for (; k < q.Length; k++)
        {
            long x = q[k];
            ulong a = x < 0 ? (ulong)(-(x + 1)) + 1 : (ulong)x;
            sum += Math.Min(a, cap);
            if (sum > cap) sum = cap;
        }
        return Math.Min(sum, cap);
    }

    /// <summary>
    /// One pass over a row of real weights: q_k = round_half_even(w_k·scale) as integers (<paramref name="q"/>) and as
    /// exact float64 (<paramref name="qValue"/>), and Σ_k |q_k| (exact below 2^53, ≥ 2^53 otherwise: the terms are
    /// non-negative integers, so any summation order is exact while it stays below 2^53 and cannot fall below it after).
    /// Returns the first index whose |w_k·scale| is not below 2^51 (or is NaN), or −1. Exact and independent of the
    /// vector width: for |y| &lt; 2^51, y + 1.5·2^52 lies in [2^52, 2^53), where float64 spacing is 1, so the addition
    /// itself rounds half to even, and the integer is read from the bits. <paramref name="scale"/> should be a power of
    /// two (then y = w·scale is exact).
    /// </summary>
    public static int QuantizeRow(ReadOnlySpan<double> w, double scale, Span<long> q, Span<double> qValue, out double sumAbs)
    {
        if (q.Length < w.Length || qValue.Length < w.Length) throw new ArgumentException("destination too short");
        int k = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && w.Length >= Vector<double>.Count)
        {
            var vs = new Vector<double>(scale);
            var lim = new Vector<double>(MaxQuantizedMagnitude);
            var magic = new Vector<double>(RoundingMagic);
            var magicBits = new Vector<long>(RoundingMagicBits);
            var acc = Vector<double>.Zero;
            for (; k <= w.Length - Vector<double>.Count; k += Vector<double>.Count)
            {
                var y = new Vector<double>(w[k..]) * vs;
                if (!Vector.LessThanAll(Vector.Abs(y), lim)) { sumAbs = double.NaN; return FirstOutOfRange(w, scale, k); }
                var r = y + magic;
                (Vector.AsVectorInt64(r) - magicBits).CopyTo(q[k..]);
                var v = r - magic;
                v.CopyTo(qValue[k..]);
                acc += Vector.Abs(v);
            }
            sum = Vector.Sum(acc);
        }
        for (; k < w.Length; k++)
        {
            double y = w[k] * scale;
            if (!(Math.Abs(y) < MaxQuantizedMagnitude)) { sumAbs = double.NaN; return k; }
            double r = y + RoundingMagic;
            q[k] = BitConverter.DoubleToInt64Bits(r) - RoundingMagicBits;
            qValue[k] = r - RoundingMagic;
            sum += Math.Abs(qValue[k]);
        }
        sumAbs = sum;
        return -1;
    }
}
