namespace Sim.Experiments.Dynamics;

/// <summary>
/// A teacher system integrated alongside a network (docs/tasks/ebn.md, "Teacher systems"): its state x, advanced one
/// network tick at a time with the input c held constant over the tick (the same c(t) the network receives as Dᵀc).
/// Linear systems step exactly (matrix exponential, computed once per step size); others take classical fourth-order
/// Runge–Kutta sub-steps. A state that stops being finite is refused with the component and the time, never passed on.
/// </summary>
public sealed class Teacher
{
    private readonly double[] _k1, _k2, _k3, _k4, _tmp;
    private readonly double _hS;
    private readonly int _substeps;
    private readonly double[,]? _phi, _gamma;

    /// <param name="system">The system.</param>
    /// <param name="stepS">The step h (s), one network tick.</param>
    /// <param name="initialState">x(0) (J values), or null for the system's default.</param>
    /// <param name="substeps">Runge–Kutta sub-steps per step for nonlinear systems (≥ 1).</param>
    /// <exception cref="ArgumentException">A non-finite or wrongly sized initial state (named initial_state[k]), a bad step.</exception>
    public Teacher(IDynamicalSystem system, double stepS, double[]? initialState = null, int substeps = 1)
    {
        ArgumentNullException.ThrowIfNull(system);
        System = system switch { VanDerPol v => v.Checked(), Lorenz l => l.Checked(), _ => system };
        if (!(double.IsFinite(stepS) && stepS > 0)) throw new ArgumentException($"{system.Name}: the step must be finite and > 0 s, got {stepS}", nameof(stepS));
        if (substeps < 1) throw new ArgumentException($"{system.Name}: substeps must be ≥ 1, got {substeps}", nameof(substeps));
        var x = initialState ?? system.DefaultInitialState;
        if (x.Length != system.Dimension)
            throw new ArgumentException($"{system.Name}: initial_state has {x.Length} values; the system has dimension {system.Dimension}", nameof(initialState));
        for (int k = 0; k < x.Length; k++)
            if (!double.IsFinite(x[k])) throw new ArgumentException($"{system.Name}: initial_state[{k}] = {x[k]} is not finite", nameof(initialState));
        State = (double[])x.Clone();
        _hS = stepS;
        _substeps = substeps;
        int n = system.Dimension;
        _k1 = new double[n]; _k2 = new double[n]; _k3 = new double[n]; _k4 = new double[n]; _tmp = new double[n];
        if (system is LinearSystem lin) (_phi, _gamma) = lin.Propagator(stepS);
    }

    /// <summary>The system.</summary>
    public IDynamicalSystem System { get; }
    /// <summary>The current state x.</summary>
    public double[] State { get; }
    /// <summary>Steps taken.</summary>
    public long Steps { get; private set; }
    /// <summary>Time (s).</summary>
    public double TimeS => Steps * _hS;

    /// <summary>Advances x by one step with c held constant (J values).</summary>
    /// <exception cref="InvalidOperationException">The state left the finite numbers (names the component and the time).</exception>
    public void Step(ReadOnlySpan<double> c)
    {
        int n = State.Length;
        if (_phi is not null)
        {
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int j = 0; j < n; j++) s += _phi[i, j] * State[j] + _gamma![i, j] * c[j];
                _tmp[i] = s;
            }
            _tmp.CopyTo(State, 0);
        }
        else
        {
            double h = _hS / _substeps;
            for (int s = 0; s < _substeps; s++) RungeKutta4(h, c);
        }
        Steps++;
        for (int k = 0; k < n; k++)
            if (!double.IsFinite(State[k]))
                throw new InvalidOperationException($"{System.Name}: state[{k}] became {State[k]} at t = {TimeS:G6} s; the teacher diverged (reduce the input or the step)");
    }

    private void RungeKutta4(double h, ReadOnlySpan<double> c)
    {
        var x = State;
        int n = x.Length;
        System.Derivative(x, c, _k1);
        for (int i = 0; i < n; i++) _tmp[i] = x[i] + 0.5 * h * _k1[i];
        System.Derivative(_tmp, c, _k2);
        for (int i = 0; i < n; i++) _tmp[i] = x[i] + 0.5 * h * _k2[i];
        System.Derivative(_tmp, c, _k3);
        for (int i = 0; i < n; i++) _tmp[i] = x[i] + h * _k3[i];
        System.Derivative(_tmp, c, _k4);
        for (int i = 0; i < n; i++) x[i] += h / 6 * (_k1[i] + 2 * _k2[i] + 2 * _k3[i] + _k4[i]);
    }

    /// <summary>The named systems of <c>sim task ebn --system</c>: linear (the damped oscillator), van_der_pol, lorenz.</summary>
    public static IDynamicalSystem Named(string name) => name switch
    {
        "linear" => LinearSystem.DampedOscillator(),
        "van_der_pol" => new VanDerPol(),
        "lorenz" => new Lorenz(),
        _ => throw new ArgumentException($"unknown system '{name}'; one of linear, van_der_pol, lorenz", nameof(name)),
    };
}
