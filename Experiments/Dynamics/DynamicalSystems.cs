namespace Sim.Experiments.Dynamics;

/// <summary>
/// A teacher system ẋ = f(x) + c(t) (docs/tasks/ebn.md, "Teacher systems"): the dynamical system an efficient balanced
/// network learns or tracks, integrated alongside the network with the same input c(t). Time is in seconds (the rates of
/// Alemi, Machens, Denève &amp; Slotine 2018 are in s⁻¹), the state in the units the decoder represents.
/// </summary>
public interface IDynamicalSystem
{
    /// <summary>The name used in options and messages (<c>linear</c>, <c>van_der_pol</c>, <c>lorenz</c>).</summary>
    string Name { get; }

    /// <summary>The dimension J of x.</summary>
    int Dimension { get; }

    /// <summary>f(x) + c, the time derivative (units of x per second).</summary>
    void Derivative(ReadOnlySpan<double> x, ReadOnlySpan<double> c, Span<double> dxdt);

    /// <summary>The initial state (J values) the task starts from unless told otherwise.</summary>
    double[] DefaultInitialState { get; }
}

/// <summary>
/// A linear system ẋ = A·x + c (Alemi et al. 2018, the damped oscillator of their first example; docs/tasks/ebn.md). Its
/// exact step for c held constant over h is x ← e^{Ah}·x + (∫₀ʰ e^{As} ds)·c (<see cref="Propagator"/>), from the
/// exponential of the augmented matrix [[A, I], [0, 0]]·h.
/// </summary>
public sealed class LinearSystem : IDynamicalSystem
{
    /// <summary>A system with matrix <paramref name="a"/> (J×J, s⁻¹).</summary>
    /// <exception cref="ArgumentException">A not square, empty or with a non-finite entry (named a[i, j]).</exception>
    public LinearSystem(double[,] a, string name = "linear")
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.GetLength(0) != a.GetLength(1) || a.GetLength(0) == 0)
            throw new ArgumentException($"{name}: the matrix a must be square and non-empty, got {a.GetLength(0)}×{a.GetLength(1)}", nameof(a));
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++)
                if (!double.IsFinite(a[i, j])) throw new ArgumentException($"{name}: a[{i}, {j}] = {a[i, j]} is not finite", nameof(a));
        A = (double[,])a.Clone();
        Name = name;
    }

    /// <summary>The damped oscillator of Alemi et al. (2018): A = [[−4.8, −22.4], [40, 0]] s⁻¹ (eigenvalues −2.4 ± 29.8i: 4.7 Hz, decay 0.42 s).</summary>
    public static LinearSystem DampedOscillator() => new(new[,] { { -4.8, -22.4 }, { 40.0, 0.0 } }, "linear");

    /// <summary>A (s⁻¹).</summary>
    public double[,] A { get; }
    /// <inheritdoc/>
    public string Name { get; }
    /// <inheritdoc/>
    public int Dimension => A.GetLength(0);
    /// <inheritdoc/>
    public double[] DefaultInitialState => new double[Dimension];

    /// <inheritdoc/>
    public void Derivative(ReadOnlySpan<double> x, ReadOnlySpan<double> c, Span<double> dxdt)
    {
        int n = Dimension;
        for (int i = 0; i < n; i++)
        {
            double s = c[i];
            for (int j = 0; j < n; j++) s += A[i, j] * x[j];
            dxdt[i] = s;
        }
    }

    /// <summary>(e^{Ah}, ∫₀ʰ e^{As} ds) for the step <paramref name="hS"/> (s).</summary>
    public (double[,] Phi, double[,] Gamma) Propagator(double hS)
    {
        int n = Dimension;
        var aug = new double[2 * n, 2 * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) aug[i, j] = A[i, j] * hS;
            aug[i, n + i] = hS;
        }
        var e = MatrixExponential.Of(aug);
        var phi = new double[n, n];
        var gamma = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) { phi[i, j] = e[i, j]; gamma[i, j] = e[i, n + j]; }
        return (phi, gamma);
    }
}

/// <summary>
/// The Van der Pol oscillator, a nonlinear teacher: with time scale ω (s⁻¹),
/// ẋ₀ = ω·x₁ + c₀,  ẋ₁ = ω·(μ·(1 − x₀²)·x₁ − x₀) + c₁. Its limit cycle has |x₀| ≈ 2; <see cref="StateScale"/> s
/// shrinks it: the system integrated is y = x/s (so the cycle has |y₀| ≈ 2/s), convenient for decoders of norm 0.03.
/// </summary>
/// <param name="Mu">μ ≥ 0 (nonlinearity; 0 is a harmonic oscillator).</param>
/// <param name="TimeScalePerS">ω &gt; 0 (s⁻¹): the period is about 2π/ω for small μ.</param>
/// <param name="StateScale">s &gt; 0.</param>
public sealed record VanDerPol(double Mu = 1.0, double TimeScalePerS = 10.0, double StateScale = 2.0) : IDynamicalSystem
{
    /// <inheritdoc/>
    public string Name => "van_der_pol";
    /// <inheritdoc/>
    public int Dimension => 2;
    /// <inheritdoc/>
    public double[] DefaultInitialState => [1.0 / StateScale, 0.0];

    /// <summary>Checks the parameters; throws naming the field.</summary>
    public VanDerPol Checked()
    {
        if (!(double.IsFinite(Mu) && Mu >= 0)) throw new ArgumentException($"van_der_pol: mu must be finite and ≥ 0, got {Mu}", nameof(Mu));
        if (!(double.IsFinite(TimeScalePerS) && TimeScalePerS > 0)) throw new ArgumentException($"van_der_pol: time_scale_per_s must be finite and > 0, got {TimeScalePerS}", nameof(TimeScalePerS));
        if (!(double.IsFinite(StateScale) && StateScale > 0)) throw new ArgumentException($"van_der_pol: state_scale must be finite and > 0, got {StateScale}", nameof(StateScale));
        return this;
    }

    /// <inheritdoc/>
    public void Derivative(ReadOnlySpan<double> y, ReadOnlySpan<double> c, Span<double> dydt)
    {
        double x0 = y[0] * StateScale, x1 = y[1] * StateScale;
        dydt[0] = TimeScalePerS * x1 / StateScale + c[0];
        dydt[1] = TimeScalePerS * (Mu * (1 - x0 * x0) * x1 - x0) / StateScale + c[1];
    }
}

/// <summary>
/// The Lorenz system (Lorenz 1963), a chaotic teacher: with time scale ω (s⁻¹) and state scale s (y = x/s),
/// ẋ = ω·σ·(x₁ − x₀), ẋ₁ = ω·(x₀·(ρ − x₂) − x₁), ẋ₂ = ω·(x₀·x₁ − β·x₂), each plus c. Classic σ = 10, ρ = 28, β = 8/3;
/// the attractor spans |x| ≲ 50, so s = 50 brings it into the unit ball.
/// </summary>
public sealed record Lorenz(double Sigma = 10.0, double Rho = 28.0, double Beta = 8.0 / 3.0, double TimeScalePerS = 1.0, double StateScale = 50.0) : IDynamicalSystem
{
    /// <inheritdoc/>
    public string Name => "lorenz";
    /// <inheritdoc/>
    public int Dimension => 3;
    /// <inheritdoc/>
    public double[] DefaultInitialState => [1.0 / StateScale, 1.0 / StateScale, 20.0 / StateScale];

    /// <summary>Checks the parameters; throws naming the field.</summary>
    public Lorenz Checked()
    {
        foreach (var (name, v) in new[] { ("sigma", Sigma), ("rho", Rho), ("beta", Beta) })
            if (!double.IsFinite(v)) throw new ArgumentException($"lorenz: {name} must be finite, got {v}", name);
        if (!(double.IsFinite(TimeScalePerS) && TimeScalePerS > 0)) throw new ArgumentException($"lorenz: time_scale_per_s must be finite and > 0, got {TimeScalePerS}", nameof(TimeScalePerS));
        if (!(double.IsFinite(StateScale) && StateScale > 0)) throw new ArgumentException($"lorenz: state_scale must be finite and > 0, got {StateScale}", nameof(StateScale));
        return this;
    }

    /// <inheritdoc/>
    public void Derivative(ReadOnlySpan<double> y, ReadOnlySpan<double> c, Span<double> dydt)
    {
        double s = StateScale, w = TimeScalePerS;
        double x0 = y[0] * s, x1 = y[1] * s, x2 = y[2] * s;
        dydt[0] = w * Sigma * (x1 - x0) / s + c[0];
        dydt[1] = w * (x0 * (Rho - x2) - x1) / s + c[1];
        dydt[2] = w * (x0 * x1 - Beta * x2) / s + c[2];
    }
}

/// <summary>exp(M) of a small dense matrix: scaling and squaring with a Taylor series (terms until they stop mattering).</summary>
public static class MatrixExponential
{
    /// <summary>exp(<paramref name="m"/>).</summary>
    public static double[,] Of(double[,] m)
    {
        int n = m.GetLength(0);
        double norm = 0;
        for (int i = 0; i < n; i++)
        {
            double row = 0;
            for (int j = 0; j < n; j++) row += Math.Abs(m[i, j]);
            norm = Math.Max(norm, row);
        }
        if (!double.IsFinite(norm)) throw new ArgumentException("the matrix has a non-finite entry", nameof(m));
        int squarings = norm > 0.5 ? (int)Math.Ceiling(Math.Log2(norm / 0.5)) : 0;
        double scale = Math.ScaleB(1.0, -squarings);
        var a = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) a[i, j] = m[i, j] * scale;
        var result = Identity(n);
        var term = Identity(n);
        for (int k = 1; k <= 30; k++)
        {
            term = Multiply(term, a);
            double largest = 0;
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) { term[i, j] /= k; result[i, j] += term[i, j]; largest = Math.Max(largest, Math.Abs(term[i, j])); }
            if (largest < 1e-18) break;
        }
        for (int s = 0; s < squarings; s++) result = Multiply(result, result);
        return result;
    }

    internal static double[,] Identity(int n)
    {
        var e = new double[n, n];
        for (int i = 0; i < n; i++) e[i, i] = 1;
        return e;
    }

    internal static double[,] Multiply(double[,] a, double[,] b)
    {
        int n = a.GetLength(0), m = b.GetLength(1), k = a.GetLength(1);
        var c = new double[n, m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int l = 0; l < k; l++) s += a[i, l] * b[l, j];
                c[i, j] = s;
            }
        return c;
    }
}
