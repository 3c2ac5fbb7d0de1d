namespace Sim.EventCore.Models;

/// <summary>
/// The GOAL pseudo-derivative p(v) = σ(v)·(1 − σ(v)), σ the logistic function, δv = 1 (docs/models/goal_lif.md;
/// authors' code). Per-step transcendentals are not allowed by the numerics contract (docs/numerics.md item 5), so p is a
/// shared lookup table computed once in C#:
/// <code>
/// k = round_half_even(v·2^K) clamped to [−L·2^K, L·2^K],  p(v) ≈ P[k + L·2^K],  P[m] = σ(x)(1 − σ(x)), x = m·2^-K − L
/// </code>
/// with K = <see cref="Bits"/> = 10 and L = <see cref="Range"/> = 64. The key is computed exactly (a scaling by a power
/// of two and one rounding), so every engine picks the same entry. Error: |p′| ≤ 0.1 and |v − k·2^-K| ≤ 2^-11 give
/// |P − p(v)| ≤ 5·10^-5; beyond |v| = 64, p &lt; 10^-27 and the edge entry is used.
/// </summary>
public static class SigmoidPseudoDerivative
{
    /// <summary>K: the table's resolution is 2^-K in v.</summary>
    public const int Bits = 10;
    /// <summary>L: the table covers v ∈ [−L, L].</summary>
    public const int Range = 64;

    private const int Half = Range << Bits;
    private static readonly double Scale = Math.ScaleB(1.0, Bits);

    /// <summary>P[m] = σ(x)(1 − σ(x)) at x = (m − L·2^K)·2^-K, m = 0 … 2·L·2^K.</summary>
    public static readonly double[] Table = Build();

    private static double[] Build()
    {
        var t = new double[2 * Half + 1];
        for (int m = 0; m < t.Length; m++)
        {
            double x = Math.ScaleB(m - Half, -Bits);
            double s = 1.0 / (1.0 + Math.Exp(-x));
            t[m] = s * (1.0 - s);
        }
        return t;
    }

    /// <summary>Table index of v: round_half_even(v·2^K) + L·2^K, clamped to the table.</summary>
    public static int Index(double v)
    {
        double k = Math.Round(v * Scale, MidpointRounding.ToEven);
        if (!(k > -Half)) return 0; // also NaN
        if (k >= Half) return 2 * Half;
        return (int)k + Half;
    }

    /// <summary>p(v) from the table.</summary>
    public static double Of(double v) => Table[Index(v)];
}
