using Sim.EventCore.Models;

namespace Sim.Experiments;

/// <summary>
/// The EBN of the task in continuous time (docs/tasks/ebn.md, "Continuous time"): the grid engines' network without a
/// grid, simulated event by event, so that the grid's convergence as dt → 0 can be measured. Between events the drive
/// I_i = D_iᵀc is constant (c changes only at the input's hold points) and the slow input decays with λ_d, so
/// <code>
/// V_i(t₀ + h) = a_i + b_i·e^{−λ_V h} + c_i·e^{−λ_d h},   a_i = I_i/λ_V,  c_i = (Ω_s r(t₀))_i/(λ_V − λ_d),  b_i = V_i(t₀) − a_i − c_i
/// </code>
/// has at most one extremum, so the first threshold crossing of each neuron lies in a bracket found in closed form
/// (before or after the extremum) and is refined by bisection to a relative 1e-15. The earliest crossing fires: r_j ← r_j
/// + 1, the slow input gains column j of Ω_s, every V gets row j of Ω_f at that instant; then every neuron that the fast
/// weights put above threshold fires at the same instant, largest overshoot first (the grid's canonical rule, each at
/// most once per instant). Fast weights and thresholds are the model's compiled ones; the slow weights are the task's
/// (unquantized) Ω_s. No noise and no error feedback: this is the deterministic network, λ_V ≠ λ_d required.
/// This is a reference simulator for the task, not an engine: the precise engine itself refuses the Ebn model.
/// </summary>
public sealed class EbnContinuousTime
{
    private readonly int _n, _dims;
    private readonly double[][] _d;
    private readonly double[,] _slow;
    private readonly FastCoupling _fast;
    private readonly double _lambdaD, _lambdaV;
    private readonly double[] _v, _r, _s, _drive;
    private readonly bool[] _firedNow;

    /// <param name="decoder">D, J rows × N.</param>
    /// <param name="constants">The compiled constants of the task's population (fast weights, thresholds, rates).</param>
    /// <param name="slowWeights">Ω_s[i, j] (V-units per second per unit of r).</param>
    public EbnContinuousTime(double[][] decoder, EbnConstants constants, double[,] slowWeights)
    {
        _d = decoder;
        _dims = decoder.Length;
        _n = decoder[0].Length;
        _fast = constants.Fast;
        _slow = slowWeights;
        _lambdaD = constants.LambdaDecoderPerS[0];
        _lambdaV = constants.LambdaVPerS[0];
        for (int i = 0; i < _n; i++)
            if (constants.LambdaDecoderPerS[i] != _lambdaD || constants.LambdaVPerS[i] != _lambdaV)
                throw new ArgumentException("the continuous-time EBN needs one λ_d and one λ_V for the whole population");
        if (_lambdaD == _lambdaV) throw new ArgumentException("the continuous-time EBN needs λ_V ≠ λ_d (the closed form divides by λ_V − λ_d)");
        _v = new double[_n]; _r = new double[_n]; _s = new double[_n]; _drive = new double[_n];
        _firedNow = new bool[_n];
    }

    /// <summary>Simulated time (s).</summary>
    public double TimeS { get; private set; }
    /// <summary>Spikes so far: (time in s, neuron).</summary>
    public List<(double TimeS, int Neuron)> Spikes { get; } = [];

    /// <summary>x̂ = D·r now.</summary>
    public double[] Readout()
    {
        var x = new double[_dims];
        for (int i = 0; i < _n; i++)
            for (int k = 0; k < _dims; k++) x[k] += _d[k][i] * _r[i];
        return x;
    }

    /// <summary>Advances to <paramref name="untilS"/> with the input c held constant (J values, units of x per second).</summary>
    public void Run(double untilS, ReadOnlySpan<double> c)
    {
        for (int i = 0; i < _n; i++)
        {
            double s = 0;
            for (int k = 0; k < _dims; k++) s += _d[k][i] * c[k];
            _drive[i] = s;
        }
        while (true)
        {
            double horizon = untilS - TimeS;
            if (!(horizon > 0)) return;
            int first = -1;
            double best = horizon;
            for (int i = 0; i < _n; i++)
            {
                double h = FirstCrossing(i, best);
                if (h < best || (h == best && first < 0)) { best = h; first = i; }
            }
            Advance(best);
            if (first < 0) { TimeS = untilS; return; }
            Fire(first);
        }
    }

    // V_i after h, and the crossing search on (0, limit]: f(h) = a + b e^{−λ_V h} + c e^{−λ_d h} − T.
    private (double A, double B, double C) Coefficients(int i)
    {
        double a = _drive[i] / _lambdaV, c = _s[i] / (_lambdaV - _lambdaD);
        return (a, _v[i] - a - c, c);
    }

    private double ValueAt(int i, double h)
    {
        var (a, b, c) = Coefficients(i);
        return a + b * Math.Exp(-_lambdaV * h) + c * Math.Exp(-_lambdaD * h);
    }

    private double FirstCrossing(int i, double limit)
    {
        double theta = _fast.Threshold[i];
        if (double.IsPositiveInfinity(theta)) return double.PositiveInfinity;
        var (a, b, c) = Coefficients(i);
        double F(double h) => a + b * Math.Exp(-_lambdaV * h) + c * Math.Exp(-_lambdaD * h) - theta;
        // The one extremum of f, where λ_V·b·e^{−λ_V h} = −λ_d·c·e^{−λ_d h}.
        double lo = 0, hi = limit;
        double ratio = -_lambdaD * c / (_lambdaV * b);
        if (ratio > 0)
        {
            double he = Math.Log(ratio) / (_lambdaD - _lambdaV);
            if (he > 0 && he < limit)
            {
                if (F(he) > 0) hi = he;     // rises to the extremum above threshold: the crossing is before it
                else lo = he;               // the part after the extremum is monotone
            }
        }
        if (!(F(hi) > 0)) return double.PositiveInfinity;
        if (F(lo) > 0) return lo;
        for (int k = 0; k < 200 && hi - lo > 1e-15 * Math.Max(1e-3, hi); k++)
        {
            double mid = 0.5 * (lo + hi);
            if (F(mid) > 0) hi = mid; else lo = mid;
        }
        return hi;
    }

    private void Advance(double h)
    {
        if (h <= 0) return;
        double ev = Math.Exp(-_lambdaV * h), ed = Math.Exp(-_lambdaD * h);
        for (int i = 0; i < _n; i++)
        {
            var (a, b, c) = Coefficients(i);
            _v[i] = a + b * ev + c * ed;
            _r[i] *= ed;
            _s[i] *= ed;
        }
        TimeS += h;
    }

    private void Fire(int first)
    {
        Array.Clear(_firedNow);
        int j = first, count = 0;
        while (j >= 0)
        {
            if (++count > _n) throw new InvalidOperationException($"more than {_n} spikes at t = {TimeS:R} s: the fast weights do not settle");
            _firedNow[j] = true;
            Spikes.Add((TimeS, j));
            _r[j] += 1;
            for (int i = 0; i < _n; i++)
            {
                _s[i] += _slow[i, j];
                _v[i] += _fast.Weight[j * _n + i];
            }
            // The fast weights may have put others above threshold at this instant: the largest overshoot next.
            j = -1;
            double top = 0;
            for (int i = 0; i < _n; i++)
            {
                if (_firedNow[i]) continue;
                double o = _v[i] - _fast.Threshold[i];
                if (o > top) { top = o; j = i; }
            }
        }
    }
}
