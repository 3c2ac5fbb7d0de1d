using System.Numerics.Tensors;

namespace Sim.EventCore.Models;

/// <summary>
/// tanh x as a fixed sequence of IEEE operations, so that the rate unit needs no library transcendental per step
/// (docs/numerics.md item 5: <c>Math.Tanh</c> and <c>torch.tanh</c> may differ in the last bit). Every operation is a
/// clamp (a selection), a multiplication, an addition or a division, each correctly rounded in C#, TensorPrimitives and
/// torch (CPU and CUDA), so every engine gives the same bits:
/// <code>
/// s ← clamp(x, −20, 20);  s ← s·2^-10                                  (exact: a power of two)
/// y ← s·s;  p ← y·c_4;  p ← p + c_3;  p ← p·y;  p ← p + c_2;  p ← p·y;  p ← p + c_1;  p ← p·y;  p ← p + c_0;  t ← p·s
/// 10 times:  n ← t + t;  q ← t·t;  q ← q + 1;  t ← n / q                (tanh 2s = 2 tanh s / (1 + tanh² s))
/// </code>
/// c_k are the Taylor coefficients of tanh s / s in s² (1, −1/3, 2/15, −17/315, 62/2835), computed once in C#. At
/// |s| ≤ 20·2^-10 the truncated series is exact to 10^-19 relative; each doubling step keeps the relative error (its
/// condition number (1 − t²)/(1 + t²) is at most 1) and adds a few roundings, and tanh(±20) rounds to ±1 in float64, so
/// the clamp costs nothing. Measured against <c>Math.Tanh</c>: 5.6·10^-16 absolute, 1.1·10^-15 relative at most on [−25, 25] (spec
/// RateTanhModelTests). The sequence is odd (tanh(−x) = −tanh x bit for bit), |tanh x| ≤ 1, and NaN stays NaN.
/// </summary>
public static class FixedTanh
{
    /// <summary>The clamp bound X: |x| ≥ X gives ±1 (tanh 19.1 already rounds to 1).</summary>
    public const double Bound = 20.0;
    /// <summary>m: the argument is divided by 2^m and doubled back m times.</summary>
    public const int Halvings = 10;

    private static readonly double Shrink = Math.ScaleB(1.0, -Halvings);

    /// <summary>c_0 … c_4 of tanh s = s·(c_0 + c_1·s² + c_2·s⁴ + c_3·s⁶ + c_4·s⁸ + …).</summary>
    public static readonly double[] Coefficients = [1.0, -1.0 / 3.0, 2.0 / 15.0, -17.0 / 315.0, 62.0 / 2835.0];

    /// <summary>tanh x by the sequence of the class comment.</summary>
    public static double Of(double x)
    {
        double s = Math.Clamp(x, -Bound, Bound);
        s = s * Shrink;
        var c = Coefficients;
        double y = s * s;
        double p = y * c[4];
        for (int k = 3; k >= 1; k--)
        {
            p = p + c[k];
            p = p * y;
        }
        p = p + c[0];
        double t = p * s;
        for (int j = 0; j < Halvings; j++)
        {
            double n = t + t;
            double q = t * t;
            q = q + 1.0;
            t = n / q;
        }
        return t;
    }

    /// <summary>
    /// The same sequence over spans (TensorPrimitives: one IEEE operation per element and pass, so the same bits at any
    /// vector width); <paramref name="scratch1"/> and <paramref name="scratch2"/> as long as x, distinct from it and
    /// from <paramref name="result"/>.
    /// </summary>
    public static void Of(ReadOnlySpan<double> x, Span<double> result, Span<double> scratch1, Span<double> scratch2)
    {
        var c = Coefficients;
        Span<double> t = result, y = scratch1, p = scratch2;
        TensorPrimitives.Max(x, -Bound, t);       // the clamp as two selections: NaN stays NaN
        TensorPrimitives.Min(t, Bound, t);
        TensorPrimitives.Multiply(t, Shrink, t);  // s
        TensorPrimitives.Multiply(t, t, y);       // y = s·s
        TensorPrimitives.Multiply(y, c[4], p);
        for (int k = 3; k >= 1; k--)
        {
            TensorPrimitives.Add(p, c[k], p);
            TensorPrimitives.Multiply(p, y, p);
        }
        TensorPrimitives.Add(p, c[0], p);
        TensorPrimitives.Multiply(p, t, t);       // t = p·s
        Span<double> n = scratch1, q = scratch2;
        for (int j = 0; j < Halvings; j++)
        {
            TensorPrimitives.Add(t, t, n);
            TensorPrimitives.Multiply(t, t, q);
            TensorPrimitives.Add(q, 1.0, q);
            TensorPrimitives.Divide(n, q, t);
        }
    }

    /// <summary>The same sequence on tensors.</summary>
    public static T Of<T>(IDenseKernel<T> k, T x) where T : class
    {
        var c = Coefficients;
        T s = k.Mul(k.ClampRange(x, -Bound, Bound), Shrink);
        T y = k.Mul(s, s);
        T p = k.Mul(y, c[4]);
        for (int j = 3; j >= 1; j--) p = k.Mul(k.Add(p, c[j]), y);
        p = k.Add(p, c[0]);
        T t = k.Mul(p, s);
        for (int j = 0; j < Halvings; j++)
        {
            T n = k.Add(t, t);
            T q = k.Add(k.Mul(t, t), 1.0);
            t = k.Div(n, q);
        }
        return t;
    }
}
