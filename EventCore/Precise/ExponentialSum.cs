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

    /// <summary>Largest number of terms accepted (scratch space lives on the stack).</summary>
    public const int MaxTerms = 64;

    /// <summary>A real function of one variable, evaluated without allocation (a struct or ref struct).</summary>
    public interface IFunction
    {
        /// <summary>f(x).</summary>
        double At(double x);
    }

    /// <summary>F given by its terms.</summary>
    private readonly ref struct Terms(ReadOnlySpan<ExpTerm> f) : IFunction
    {
        private readonly ReadOnlySpan<ExpTerm> _f = f;
        public double At(double x) => Evaluate(_f, x);
    }

    /// <summary>−F given by its terms.</summary>
    private readonly ref struct NegatedTerms(ReadOnlySpan<ExpTerm> f) : IFunction
    {
        private readonly ReadOnlySpan<ExpTerm> _f = f;
        public double At(double x) => -Evaluate(_f, x);
    }

    /// <summary>A delegate as an <see cref="IFunction"/>.</summary>
    private readonly struct Delegate(Func<double, double> f) : IFunction
    {
        public double At(double x) => f(x);
    }

    /// <summary>Merges equal rates, drops zero terms, sorts by ascending rate.</summary>
    public static ExpTerm[] Normalize(ReadOnlySpan<ExpTerm> terms)
    {
        Span<ExpTerm> buffer = terms.Length <= 16 ? stackalloc ExpTerm[terms.Length] : new ExpTerm[terms.Length];
        return buffer[..NormalizeInto(terms, buffer)].ToArray();
    }

    /// <summary>
    /// <see cref="Normalize"/> into <paramref name="into"/> (length ≥ terms): equal rates merged in input order, zero terms
    /// dropped, ascending rate (the rates are distinct after merging, so the order is unique). Returns the count.
    /// </summary>
    private static int NormalizeInto(ReadOnlySpan<ExpTerm> terms, Span<ExpTerm> into)
    {
        if (terms.Length > MaxTerms) throw new ArgumentException($"at most {MaxTerms} terms (the search recurses once per coefficient)", nameof(terms));
        int m = 0;
        foreach (var t in terms)
        {
            if (t.Rate < 0 || !double.IsFinite(t.Rate)) throw new ArgumentOutOfRangeException(nameof(terms), "rates must be finite and ≥ 0");
            int j = 0;
            while (j < m && into[j].Rate != t.Rate) j++;
            if (j < m) into[j] = new ExpTerm(t.Rate, into[j].C0 + t.C0, into[j].C1 + t.C1);
            else into[m++] = t;
        }
        int kept = 0;
        for (int k = 0; k < m; k++)
            if (!(into[k].C0 == 0 && into[k].C1 == 0)) into[kept++] = into[k];
        for (int k = 1; k < kept; k++)
        {
            var x = into[k];
            int j = k - 1;
            while (j >= 0 && into[j].Rate > x.Rate) { into[j + 1] = into[j]; j--; }
            into[j + 1] = x;
        }
        return kept;
    }

    /// <summary>
    /// Every zero of F in the open interval (lo, hi) where F changes sign or vanishes at a critical point (hi may be +∞),
    /// ascending. Extra points never hurt the callers (they only split monotone pieces further).
    /// </summary>
    public static List<double> Zeros(ReadOnlySpan<ExpTerm> terms, double lo, double hi)
    {
        var f = Normalize(terms);
        Span<double> roots = stackalloc double[2 * f.Length + 1];
        int count = 0;
        ZerosInto(f, lo, hi, roots, ref count);
        return [.. roots[..count]];
    }

    /// <summary>
    /// The zeros of a normalized F (at most m(F) − 1 ≤ 2·terms − 1 of them, so <paramref name="roots"/> needs room for
    /// 2·f.Length) appended to <paramref name="roots"/>; no allocation (scratch on the stack; the recursion depth is the
    /// number of coefficients).
    /// </summary>
    private static void ZerosInto(ReadOnlySpan<ExpTerm> f, double lo, double hi, Span<double> roots, ref int count)
    {
        if (f.Length == 0) return;
        if (f.Length == 1)
        {
            // (a + b·h)e^{−r·h}: the only zero is −a/b.
            if (f[0].C1 != 0)
            {
                double z = -f[0].C0 / f[0].C1;
                if (z > lo && z < hi) roots[count++] = z;
            }
            return;
        }
        Span<ExpTerm> h = stackalloc ExpTerm[f.Length];
        Shift(f, h);
        Span<ExpTerm> d = stackalloc ExpTerm[f.Length];
        Derivative(h, d);
        Span<ExpTerm> dn = stackalloc ExpTerm[f.Length];
        int dm = NormalizeInto(d, dn);
        Span<double> crit = stackalloc double[2 * f.Length + 1];
        int nc = 0;
        ZerosInto(dn[..dm], lo, hi, crit, ref nc);
        double a = lo, fa = Evaluate(h, lo);
        for (int k = 0; k <= nc; k++)
        {
            double b = k < nc ? crit[k] : hi;
            double fb;
            if (double.IsPositiveInfinity(b))
            {
                int sInf = SignAtInfinity(h);
                if (fa == 0 || Math.Sign(fa) == sInf) return;
                if (!FiniteEnd(h, a, sInf, out b)) return;
                fb = Evaluate(h, b);
            }
            else fb = Evaluate(h, b);
            if (fa * fb < 0) roots[count++] = Bisect(h, a, b, fa);
            if (fb == 0 && b < hi) roots[count++] = b;
            a = b; fa = fb;
        }
    }

    /// <summary>e^{r₀h}·F with r₀ the smallest rate: rates r_k − r₀, the first becoming 0.</summary>
    private static void Shift(ReadOnlySpan<ExpTerm> f, Span<ExpTerm> h)
    {
        double r0 = f[0].Rate;
        for (int k = 0; k < f.Length; k++) h[k] = new ExpTerm(k == 0 ? 0 : f[k].Rate - r0, f[k].C0, f[k].C1);
    }

    /// <summary>d/dh of (a + b·h)e^{−r·h} = (b − r·a − r·b·h)e^{−r·h}.</summary>
    private static void Derivative(ReadOnlySpan<ExpTerm> f, Span<ExpTerm> d)
    {
        for (int k = 0; k < f.Length; k++)
        {
            var t = f[k];
            d[k] = new ExpTerm(t.Rate, t.C1 - t.Rate * t.C0, -t.Rate * t.C1);
        }
    }

    /// <summary>Sign of F at +∞ for a shifted F (first term of rate 0 dominates): sign of its leading coefficient.</summary>
    private static int SignAtInfinity(ReadOnlySpan<ExpTerm> h) => h[0].Rate == 0 ? Math.Sign(h[0].C1 != 0 ? h[0].C1 : h[0].C0) : 0;

    /// <summary>Finds b &gt; a with sign F(b) = <paramref name="sign"/> by doubling steps (exists: F tends to its leading term).</summary>
    private static bool FiniteEnd(ReadOnlySpan<ExpTerm> h, double a, int sign, out double b)
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
    private static double Bisect(ReadOnlySpan<ExpTerm> f, double a, double b, double fa)
    {
        if (fa < 0)
        {
            var up = new Terms(f);
            return Solve(ref up, a, fa, b, Evaluate(f, b));
        }
        var down = new NegatedTerms(f);
        return Solve(ref down, a, -fa, b, -Evaluate(f, b));
    }

    /// <summary>
    /// Shrinks a bracket with f(lo) ≤ 0 &lt; f(hi) (f monotone on it) until hi − lo is within about one ulp of hi
    /// (or 1e-18), by the Illinois variant of regula falsi with a bisection step every third iteration (so the width at
    /// least halves every three steps: the bracket is never lost and convergence is guaranteed). Returns hi, a point
    /// with f(hi) &gt; 0.
    /// </summary>
    public static double Solve(Func<double, double> f, double lo, double flo, double hi, double fhi)
    {
        var d = new Delegate(f);
        return Solve(ref d, lo, flo, hi, fhi);
    }

    /// <inheritdoc cref="Solve(Func{double, double}, double, double, double, double)"/>
    public static double Solve<TF>(scoped ref TF f, double lo, double flo, double hi, double fhi) where TF : IFunction, allows ref struct
    {
        int side = 0;
        for (int it = 0; it < 400; it++)
        {
            double width = hi - lo;
            if (width <= Math.Max(1e-18, 2.3e-16 * Math.Abs(hi))) break;
            double m = it % 3 == 2 ? lo + 0.5 * width : lo - flo * (width / (fhi - flo));
            if (!(m > lo && m < hi)) m = lo + 0.5 * width;
            if (m <= lo || m >= hi) break;
            double fm = f.At(m);
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
        if (sign is null) return FirstUpCrossingOfTerms(terms);
        var d = new Delegate(sign);
        return FirstUpCrossing(terms, ref d);
    }

    private static double FirstUpCrossingOfTerms(ReadOnlySpan<ExpTerm> terms)
    {
        Span<ExpTerm> f = stackalloc ExpTerm[terms.Length];
        int m = NormalizeInto(terms, f);
        var eval = new Terms(f[..m]);
        return FirstUpCrossing(f[..m], ref eval);   // already normalized (normalizing again changes nothing)
    }

    /// <summary>
    /// <see cref="FirstUpCrossing(ReadOnlySpan{ExpTerm}, Func{double, double})"/> with the sign evaluation as a struct:
    /// no allocation at all (the precise engine calls it once per prediction).
    /// </summary>
    public static double FirstUpCrossing<TF>(ReadOnlySpan<ExpTerm> terms, scoped ref TF eval) where TF : IFunction, allows ref struct
    {
        Span<ExpTerm> f = stackalloc ExpTerm[terms.Length];
        int m = NormalizeInto(terms, f);
        if (m == 0) return double.PositiveInfinity;
        Span<ExpTerm> h = stackalloc ExpTerm[m];
        Shift(f[..m], h);
        if (eval.At(0) > 0) return 0;
        Span<ExpTerm> d = stackalloc ExpTerm[m];
        Derivative(h, d);
        Span<ExpTerm> dn = stackalloc ExpTerm[m];
        int dm = NormalizeInto(d, dn);
        Span<double> crit = stackalloc double[2 * m + 1];
        int nc = 0;
        ZerosInto(dn[..dm], 0, double.PositiveInfinity, crit, ref nc);
        double a = 0;
        for (int k = 0; k <= nc; k++)
        {
            double b;
            if (k < nc) b = crit[k];
            else
            {
                if (SignAtInfinity(h) <= 0) return double.PositiveInfinity;
                if (!FiniteEndUp(ref eval, h, a, out b)) return double.PositiveInfinity;
            }
            double fb = eval.At(b);
            // Invariant: eval(a) ≤ 0 (checked at 0, and at every earlier piece end); F monotone on [a, b].
            if (fb > 0) return Solve(ref eval, a, eval.At(a), b, fb);
            a = b;
        }
        return double.PositiveInfinity;
    }

    private static bool FiniteEndUp<TF>(scoped ref TF eval, scoped ReadOnlySpan<ExpTerm> h, double a, out double b) where TF : IFunction, allows ref struct
    {
        double step = 1.0;
        for (int k = 1; k < h.Length; k++) if (h[k].Rate > 0) { step = 1.0 / h[k].Rate; break; }
        for (int it = 0; it < 1100; it++)
        {
            b = a + step;
            if (!double.IsFinite(b)) break;
            if (eval.At(b) > 0) return true;
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
