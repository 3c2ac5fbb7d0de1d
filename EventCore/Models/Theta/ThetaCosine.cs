namespace Sim.EventCore.Models;

/// <summary>
/// cos θ for θ ∈ [−π, π] as a fixed polynomial, so that the theta neuron needs no library transcendental per step
/// (docs/numerics.md item 5: <c>Math.Cos</c> and <c>torch.cos</c> may differ in the last bit): the Taylor series
/// Σ_{k=0}^{13} (−1)^k θ^{2k}/(2k)! evaluated by Horner in x = θ·θ, one unfused multiply and one add per
/// coefficient, the coefficients computed once in C#. Truncation error ≤ π^28/28! ≈ 3·10^-16 on [−π, π]; measured
/// against <c>Math.Cos</c> below 1e-15 (spec ThetaModelTests).
/// </summary>
public static class ThetaCosine
{
    /// <summary>c_k = (−1)^k/(2k)!, k = 0 … 13.</summary>
    public static readonly double[] Coefficients = Build();

    private static double[] Build()
    {
        var c = new double[14];
        double factorial = 1;
        for (int k = 0; k < c.Length; k++)
        {
            if (k > 0) factorial = factorial * (2 * k - 1) * (2 * k);
            c[k] = (k % 2 == 0 ? 1.0 : -1.0) / factorial;
        }
        return c;
    }

    /// <summary>x ← θ·θ; p ← x·c_13; p ← p + c_12; then for k = 11 … 0: p ← p·x; p ← p + c_k.</summary>
    public static double Of(double theta)
    {
        double x = theta * theta;
        var c = Coefficients;
        double p = x * c[^1];
        p = p + c[^2];
        for (int k = c.Length - 3; k >= 0; k--)
        {
            p = p * x;
            p = p + c[k];
        }
        return p;
    }

    /// <summary>The same sequence on tensors.</summary>
    public static T Of<T>(IDenseKernel<T> k, T theta) where T : class
    {
        T x = k.Mul(theta, theta);
        var c = Coefficients;
        T p = k.Add(k.Mul(x, c[^1]), c[^2]);
        for (int j = c.Length - 3; j >= 0; j--) p = k.Add(k.Mul(p, x), c[j]);
        return p;
    }
}
