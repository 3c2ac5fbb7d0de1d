using Sim.Experiments.Dynamics;
using Xunit;

namespace Sim.Specs.Experiments;

/// <summary>
/// The teacher systems (docs/tasks/ebn.md, "Teacher systems"): the matrix exponential against closed forms; the exact
/// linear step against the analytic solution of a forced scalar system and of the damped oscillator; Runge–Kutta on the
/// oscillator converging to the matrix-exponential solution with fourth order; Van der Pol and Lorenz converging to a
/// fine-step reference with fourth order; bad parameters and non-finite states refused naming the field.
/// </summary>
public class TeacherSystemTests
{
    [Fact]
    public void TheMatrixExponentialOfARotationGeneratorIsARotation()
    {
        const double W = 7.3;
        var e = MatrixExponential.Of(new[,] { { 0, -W }, { W, 0 } });
        Assert.Equal(Math.Cos(W), e[0, 0], 13);
        Assert.Equal(-Math.Sin(W), e[0, 1], 13);
        Assert.Equal(Math.Sin(W), e[1, 0], 13);
        var d = MatrixExponential.Of(new[,] { { -3.0, 0 }, { 0, 2.0 } });
        Assert.Equal(Math.Exp(-3), d[0, 0], 14);
        Assert.Equal(Math.Exp(2), d[1, 1], 12);
        Assert.Equal(0, d[0, 1]);
    }

    [Fact]
    public void TheExactLinearStepMatchesTheAnalyticSolution()
    {
        // ẋ = −a·x + c: x(t) = c/a + (x0 − c/a)·e^{−a t}, whatever the step.
        const double A = 3.0, C = 1.7, X0 = -0.4;
        var t = new Teacher(new LinearSystem(new[,] { { -A } }), 0.013, [X0]);
        for (int k = 0; k < 200; k++) t.Step([C]);
        double expected = C / A + (X0 - C / A) * Math.Exp(-A * t.TimeS);
        Assert.Equal(expected, t.State[0], 13);

        // The damped oscillator from x0 without input: x(t) = e^{At}·x0; 1000 steps of 0.1 ms against one exponential of 0.1 s.
        var osc = LinearSystem.DampedOscillator();
        var teacher = new Teacher(osc, 1e-4, [0.5, -0.2]);
        for (int k = 0; k < 1000; k++) teacher.Step([0.0, 0.0]);
        var (phi, _) = osc.Propagator(0.1);
        Assert.Equal(phi[0, 0] * 0.5 + phi[0, 1] * -0.2, teacher.State[0], 11);
        Assert.Equal(phi[1, 0] * 0.5 + phi[1, 1] * -0.2, teacher.State[1], 11);
    }

    /// <summary>Hides the linear system's type, so that the teacher integrates it with Runge–Kutta.</summary>
    private sealed class Opaque(IDynamicalSystem inner) : IDynamicalSystem
    {
        public string Name => inner.Name;
        public int Dimension => inner.Dimension;
        public double[] DefaultInitialState => inner.DefaultInitialState;
        public void Derivative(ReadOnlySpan<double> x, ReadOnlySpan<double> c, Span<double> dxdt) => inner.Derivative(x, c, dxdt);
    }

    private static double[] Integrate(IDynamicalSystem system, double stepS, double durationS, Func<double, double[]> input, double[]? x0 = null, int substeps = 1)
    {
        var t = new Teacher(system, stepS, x0, substeps);
        long steps = (long)Math.Round(durationS / stepS);
        for (long k = 0; k < steps; k++) t.Step(input(k * stepS));
        return t.State;
    }

    private static double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum());

    /// <summary>The observed order of convergence from errors at h, h/2, h/4 against a reference.</summary>
    private static (double[] Errors, double Order) Convergence(IDynamicalSystem system, double h, double durationS, double[] reference, Func<double, double[]> input)
    {
        var errors = new[] { h, h / 2, h / 4 }.Select(s => Distance(Integrate(system, s, durationS, input), reference)).ToArray();
        return (errors, Math.Log2(errors[1] / errors[2]));
    }

    [Fact]
    public void RungeKuttaOnTheOscillatorConvergesToTheMatrixExponentialWithFourthOrder()
    {
        // A piecewise-constant input (held over 1 ms, so every step size holds it over whole steps) and the exact step at 1 ms.
        static double[] Input(double t) => [3 * Math.Sin(2 * Math.Floor(t * 1000 + 1e-9) / 1000 * 9), 0.0];
        var osc = LinearSystem.DampedOscillator();
        var exact = Integrate(osc, 1e-3, 0.5, Input, [0.3, 0.1]);
        var errors = new[] { 1e-3, 5e-4, 2.5e-4 }.Select(h => Distance(Integrate(new Opaque(osc), h, 0.5, Input, [0.3, 0.1]), exact)).ToArray();
        double order = Math.Log2(errors[1] / errors[2]);
        Assert.True(errors[0] < 1e-5 && order > 3.7 && order < 4.3, $"errors {string.Join(", ", errors.Select(e => e.ToString("E2")))}, order {order:F2}");
    }

    [Theory]
    [InlineData("van_der_pol")]
    [InlineData("lorenz")]
    public void NonlinearTeachersConvergeToAFineStepReferenceWithFourthOrder(string name)
    {
        var system = Teacher.Named(name);
        static double[] Input(double t) => [0.5 * Math.Sin(3 * t), 0.0, 0.0];
        double h = name == "lorenz" ? 4e-3 : 2e-3, duration = name == "lorenz" ? 2.0 : 1.0;
        var reference = Integrate(system, h / 64, duration, t => Input(Math.Floor(t / h + 1e-9) * h));
        var (errors, order) = Convergence(system, h, duration, reference, t => Input(Math.Floor(t / h + 1e-9) * h));
        Assert.True(errors[2] < errors[1] && errors[1] < errors[0] && order > 3.5 && order < 4.5,
            $"{name}: errors {string.Join(", ", errors.Select(e => e.ToString("E2")))}, order {order:F2}");
    }

    [Fact]
    public void BadTeachersAreRefusedNamingTheField()
    {
        var nan = Assert.Throws<ArgumentException>(() => new Teacher(new Lorenz(), 1e-3, [0.1, double.NaN, 0.2]));
        Assert.Contains("lorenz: initial_state[1] = NaN is not finite", nan.Message, StringComparison.Ordinal);
        Assert.Contains("sigma", Assert.Throws<ArgumentException>(() => new Teacher(new Lorenz(Sigma: double.PositiveInfinity), 1e-3)).Message, StringComparison.Ordinal);
        Assert.Contains("initial_state has 2 values", Assert.Throws<ArgumentException>(() => new Teacher(new Lorenz(), 1e-3, [0.1, 0.2])).Message, StringComparison.Ordinal);
        Assert.Contains("a[1, 0]", Assert.Throws<ArgumentException>(() => new LinearSystem(new[,] { { 1.0, 0 }, { double.NaN, 1 } })).Message, StringComparison.Ordinal);
        Assert.Contains("mu", Assert.Throws<ArgumentException>(() => new Teacher(new VanDerPol(Mu: -1), 1e-3)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Teacher.Named("duffing"));

        // A Lorenz system pushed out of the finite numbers stops with the component and the time.
        var t = new Teacher(new Lorenz(TimeScalePerS: 1e3, StateScale: 1), 0.1, [1e100, 1e100, 1e100]);
        var diverged = Assert.Throws<InvalidOperationException>(() => { for (int k = 0; k < 10; k++) t.Step([0.0, 0.0, 0.0]); });
        Assert.Matches(@"lorenz: state\[\d\] became .* at t = ", diverged.Message);
    }
}
