namespace Sim.EventCore.Numerics;

/// <summary>
/// Fixed-point weights: w = q · 2^-F with an integer q (DESIGN.md numerics contract, item 3).
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
}
