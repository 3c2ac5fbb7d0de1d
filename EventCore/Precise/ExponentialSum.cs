namespace Sim.EventCore.Precise;

/// <summary>One term (C0 + C1·h)·e^{−Rate·h} of an exponential polynomial (Rate ≥ 0).</summary>
/// <param name="Rate">Decay rate r ≥ 0 (1/ms).</param>
/// <param name="C0">Constant part of the polynomial coefficient.</param>
/// <param name="C1">Linear part of the polynomial coefficient (nonzero only for a repeated rate, e.g. τ_syn = τ_m).</param>
public readonly record struct ExpTerm(double Rate, double C0, double C1);

/// <summary>
/// Zeros and first upward crossing of an exponential polynomial F(h) = Σ_k (a_k + b_k·h)·e^{−r_k·h}, r_k ≥ 0,
/// with a root finder that cannot miss a crossing.
/// <para><b>Why no crossing is missed.</b> Call m(F) = Σ_k (deg P_k + 1) the number of coefficients of F (P_k the
/// polynomial of rate r_k, zero terms dropped, equal rates merged). By the generalized Descartes rule of signs /
/// Pólya–Szegő (Part V, problem 75), F has at most m(F) − 1 real zeros; the proof is constructive and this class follows
/// it: let r₀ be the smallest rate; H(h) = e^{r₀·h}·F(h) has the same zeros as F (a positive factor) and one term of
/// rate 0, a polynomial P₀. Its derivative H′ = P₀′ + Σ_{k≥1} (P_k′ − (r_k − r₀)·P_k)·e^{−(r_k − r₀)h} has one
/// coefficient less (the rate-0 polynomial loses a degree, or disappears). So the critical points of H, i.e. the
/// zeros of H′, are found by the same procedure on a strictly smaller problem (recursion on m; the base case, a single
/// term (a + b·h)e^{−r·h}, has its only zero −a/b in closed form). Between consecutive critical points (and the ends
/// of the interval) H is monotone, so it has a zero there iff its end values have opposite signs (or one is zero),
/// and a bracketing solver (regula falsi safeguarded by bisection) converges to it. The last piece [p_m, ∞) is bracketed using the sign at infinity,
/// which is the sign of the leading coefficient of P₀ (every other term of H decays). No step of the search depends on
/// a step size or on a sampling of F, hence no crossing can be skipped.</para>
/// <para>For the LIF with exponential currents, u(h) − θ = c₀ + c_m e^{−h/τ_m} + c_e e^{−h/τ_e} + c_i e^{−h/τ_i}
/// (K = 3 distinct exponentials plus a constant, m = 4): at most 2 critical points, found from a 3-coefficient problem,
/// whose own critical point (at most one) is found in closed form from a 2-coefficient problem.
/// With τ_e = τ_m the term h·e^{−h/τ_m} is a polynomial coefficient of degree 1, covered by the same recursion.</para>
/// <para>Rounding: critical points and crossings are located to about one ulp by a safeguarded regula falsi (<see cref="Solve"/>); a crossing can only be missed when the
/// maximum of F exceeds 0 by less than the rounding error of evaluating F at that maximum (grazing within rounding).</para>
/// </summary>
public static class ExponentialSum
{
    /// <summary>F(h) = Σ (C0 + C1·h)·e^{−Rate·h}.</summary>
    public static double Evaluate(ReadOnlySpan<ExpTerm> terms, double h)
    {
        double s = 0;
        foreach (var t in terms) s += (t.C0 + t.C1 * h) * Math.Exp(-t.Rate * h);
        return s;
    }

    /// <summary>Merges equal rates, drops zero terms, sorts by ascending rate.</summary>
    public static ExpTerm[] Normalize(ReadOnlySpan<ExpTerm> terms)
    {
        var list = new List<ExpTerm>(terms.Length);
        foreach (var t in terms)
        {
            if (t.Rate < 0 || !double.IsFinite(t.Rate)) throw new ArgumentOutOfRangeException(nameof(terms), "rates must be finite and ≥ 0");
            int j = list.FindIndex(x => x.Rate == t.Rate);
            if (j >= 0) list[j] = new ExpTerm(t.Rate, list[j].C0 + t.C0, list[j].C1 + t.C1);
            else list.Add(t);
        }
        list.RemoveAll(t => t.C0 == 0 && t.C1 == 0);
        list.Sort((a, b) => a.Rate.CompareTo(b.Rate));
        return [.. list];
    }

    /// <summary>
    /// Every zero of F in the open interval (lo, hi) where F changes sign or vanishes at a critical point (hi may be +∞),
    /// ascending. Extra points never hurt the callers (they only split monotone pieces further).
    /// </summary>
    public static List<double> Zeros(ReadOnlySpan<ExpTerm> terms, double lo, double hi)
    {
        var roots = new List<double>();
        ZerosInto(Normalize(terms), lo, hi, roots);
        return roots;
    }

    private static void ZerosInto(ExpTerm[] f, double lo, double hi, List<double> roots)
    {
        if (f.Length == 0) return;
        if (f.Length == 1)
        {
            // (a + b·h)e^{−r·h}: the only zero is −a/b.
            if (f[0].C1 != 0)
            {
                double z = -f[0].C0 / f[0].C1;
                if (z > lo && z < hi) roots.Add(z);
            }
            return;
        }
        var h = Shift(f);
        var crit = new List<double>();
        ZerosInto(Normalize(Derivative(h)), lo, hi, crit);
        double a = lo, fa = Evaluate(h, lo);
        for (int k = 0; k <= crit.Count; k++)
        {
            double b = k < crit.Count ? crit[k] : hi;
            double fb;
            if (double.IsPositiveInfinity(b))
            {
                int sInf = SignAtInfinity(h);
                if (fa == 0 || Math.Sign(fa) == sInf) return;
                if (!FiniteEnd(h, a, sInf, out b)) return;
                fb = Evaluate(h, b);
            }
            else fb = Evaluate(h, b);
            if (fa * fb < 0) roots.Add(Bisect(h, a, b, fa));
            if (fb == 0 && b < hi) roots.Add(b);
            a = b; fa = fb;
        }
    }

    /// <summary>e^{r₀h}·F with r₀ the smallest rate: rates r_k − r₀, the first becoming 0.</summary>
    private static ExpTerm[] Shift(ExpTerm[] f)
    {
        double r0 = f[0].Rate;
        var h = new ExpTerm[f.Length];
        for (int k = 0; k < f.Length; k++) h[k] = new ExpTerm(k == 0 ? 0 : f[k].Rate - r0, f[k].C0, f[k].C1);
        return h;
    }

    /// <summary>d/dh of (a + b·h)e^{−r·h} = (b − r·a − r·b·h)e^{−r·h}.</summary>
    private static ExpTerm[] Derivative(ExpTerm[] f)
    {
        var d = new ExpTerm[f.Length];
        for (int k = 0; k < f.Length; k++)
        {
            var t = f[k];
            d[k] = new ExpTerm(t.Rate, t.C1 - t.Rate * t.C0, -t.Rate * t.C1);
        }
        return d;
    }

    /// <summary>Sign of F at +∞ for a shifted F (first term of rate 0 dominates): sign of its leading coefficient.</summary>
    private static int SignAtInfinity(ExpTerm[] h) => h[0].Rate == 0 ? Math.Sign(h[0].C1 != 0 ? h[0].C1 : h[0].C0) : 0;

    /// <summary>Finds b &gt; a with sign F(b) = <paramref name="sign"/> by doubling steps (exists: F tends to its leading term).</summary>
    private static bool FiniteEnd(ExpTerm[] h, double a, int sign, out double b)
    {
        double step = 1.0;
        for (int k = 1; k < h.Length; k++) if (h[k].Rate > 0) { step = 1.0 / h[k].Rate; break; }
        for (int it = 0; it < 1100; it++)
        {
            b = a + step;
            if (!double.IsFinite(b)) break;
            if (Math.Sign(Evaluate(h, b)) == sign) return true;
            step *= 2;
        }
        b = double.PositiveInfinity;
        return false;
    }

    /// <summary>A zero of F on [a, b] where F(a), F(b) have opposite signs (see <see cref="Solve"/>).</summary>
    private static double Bisect(ExpTerm[] f, double a, double b, double fa)
    {
        if (fa < 0) return Solve(x => Evaluate(f, x), a, fa, b, Evaluate(f, b));
        return Solve(x => -Evaluate(f, x), a, -fa, b, -Evaluate(f, b));
    }

    /// <summary>
    /// Shrinks a bracket with f(lo) ≤ 0 &lt; f(hi) (f monotone on it) until hi − lo is within about one ulp of hi
    /// (or 1e-18), by the Illinois variant of regula falsi with a bisection step every third iteration (so the width at
    /// least halves every three steps: the bracket is never lost and convergence is guaranteed). Returns hi, a point
    /// with f(hi) &gt; 0.
    /// </summary>
    public static double Solve(Func<double, double> f, double lo, double flo, double hi, double fhi)
    {
        int side = 0;
        for (int it = 0; it < 400; it++)
        {
            double width = hi - lo;
            if (width <= Math.Max(1e-18, 2.3e-16 * Math.Abs(hi))) break;
            double m = it % 3 == 2 ? lo + 0.5 * width : lo - flo * (width / (fhi - flo));
            if (!(m > lo && m < hi)) m = lo + 0.5 * width;
            if (m <= lo || m >= hi) break;
            double fm = f(m);
            if (fm > 0) { hi = m; fhi = fm; if (side == 1) flo *= 0.5; side = 1; }
            else { lo = m; flo = fm; if (side == -1) fhi *= 0.5; side = -1; }
        }
        return hi;
    }

    /// <summary>
    /// The first h ≥ 0 at which F(h) &gt; 0 (strictly), or +∞ if F never exceeds 0: 0 when F(0) &gt; 0; otherwise the
    /// point h with F(h) &gt; 0 within about one ulp of the crossing, inside the first monotone piece whose right end is positive.
    /// A trajectory whose maximum equals 0 exactly (tangency) gives no crossing.
    /// </summary>
    /// <param name="terms">F as exponential-polynomial terms (used for the critical points).</param>
    /// <param name="sign">Optional evaluation of F (e.g. a more accurate formula for the same function) used for the sign
    /// tests of the final bracket and bisection; null evaluates the terms.</param>
    public static double FirstUpCrossing(ReadOnlySpan<ExpTerm> terms, Func<double, double>? sign = null)
    {
        var f = Normalize(terms);
        if (f.Length == 0) return double.PositiveInfinity;
        var h = Shift(f);
        Func<double, double> eval = sign ?? (x => Evaluate(f, x));
        if (eval(0) > 0) return 0;
        var crit = new List<double>();
        ZerosInto(Normalize(Derivative(h)), 0, double.PositiveInfinity, crit);
        double a = 0;
        for (int k = 0; k <= crit.Count; k++)
        {
            double b;
            if (k < crit.Count) b = crit[k];
            else
            {
                if (SignAtInfinity(h) <= 0) return double.PositiveInfinity;
                if (!FiniteEndUp(eval, h, a, out b)) return double.PositiveInfinity;
            }
            double fb = eval(b);
            // Invariant: eval(a) ≤ 0 (checked at 0, and at every earlier piece end); F monotone on [a, b].
            if (fb > 0) return Solve(eval, a, eval(a), b, fb);
            a = b;
        }
        return double.PositiveInfinity;
    }

    private static bool FiniteEndUp(Func<double, double> eval, ExpTerm[] h, double a, out double b)
    {
        double step = 1.0;
        for (int k = 1; k < h.Length; k++) if (h[k].Rate > 0) { step = 1.0 / h[k].Rate; break; }
        for (int it = 0; it < 1100; it++)
        {
            b = a + step;
            if (!double.IsFinite(b)) break;
            if (eval(b) > 0) return true;
            step *= 2;
        }
        b = double.PositiveInfinity;
        return false;
    }

    /// <summary>log(1 + x) accurate for small x (Goldberg's trick), for x &gt; −1.</summary>
    public static double Log1P(double x)
    {
        double u = 1.0 + x;
        return u == 1.0 ? x : Math.Log(u) * x / (u - 1.0);
    }

    /// <summary>e^x − 1 accurate for small x (Kahan's trick).</summary>
    public static double ExpM1(double x)
    {
        if (Math.Abs(x) >= 0.5) return Math.Exp(x) - 1.0;
        double u = Math.Exp(x);
        if (u == 1.0) return x;
        double um1 = u - 1.0;
        return um1 == -1.0 ? -1.0 : um1 * x / Math.Log(u);
    }
}
