using Sim.EventCore.Compilation;
using Sim.EventCore.Precise;

namespace Sim.EventCore.Models;

/// <summary>
/// The exact propagator and crossing search of LifExp for the precise engine (docs/models/lif_exp.md,
/// docs/precise-engine.md). In the frame u = v − E_L, between events g_x(t₀+h) = g_x e^{−h/τ_x} and
/// u(t₀+h) = I + (u₀ − I)e^{−h/τ_m} + Σ_x g_x·τ_x/(τ_x − τ_m)·(e^{−h/τ_x} − e^{−h/τ_m}), evaluated in a cancellation-free
/// form (<see cref="SynapticKernel"/>). u − θ is a constant plus three exponentials, whose first upward crossing
/// <see cref="ExponentialSum.FirstUpCrossing{TF}"/> finds with a guaranteed bracket. A prediction is usually a closed-form
/// lower bound of the crossing (<see cref="NoCrossingBefore"/>), refined when it comes due; the exact crossing is always
/// computed from the stored state, as an eager prediction would be (spec: lazy = eager). After a spike u = V_r is held for
/// exactly t_ref while the currents keep decaying and receiving input.
/// </summary>
internal sealed class LifExpPrecise : PrecisePopulation
{
    private readonly double[] _u, _ge, _gi, _tauM, _tauE, _tauI, _tref, _theta, _reset, _eLeak, _drive, _kMaxE, _kMaxI;
    private readonly double _scale;
    private readonly bool _eager;
    private readonly ExpTerm[] _terms = new ExpTerm[7];

    /// <summary>Bounds shorter than this fraction of τ_m are not scheduled: the root search runs instead.</summary>
    private const double MinBoundStep = 1.0 / 64;

    /// <param name="p">The population.</param>
    /// <param name="clock">The shared per-neuron times.</param>
    /// <param name="initial">Initial state (the model's stored variables).</param>
    /// <param name="drive">Constant drive per neuron (I_ext plus constant currents).</param>
    /// <param name="eager">Run the root search at every prediction (the reference the lazy bounds are tested against).</param>
    public LifExpPrecise(CompiledPopulation p, PreciseClock clock, double[][] initial, double[] drive, bool eager) : base(p, clock)
    {
        var c = (LifExpConstants)p.Constants;
        _u = (double[])initial[LifExpModel.U].Clone();
        _ge = (double[])initial[LifExpModel.GExc].Clone();
        _gi = (double[])initial[LifExpModel.GInh].Clone();
        _tauM = c.TauMemMs; _tauE = c.TauExcMs; _tauI = c.TauInhMs; _tref = c.RefractoryMs;
        _theta = c.ThetaU; _reset = c.ResetU; _eLeak = c.ELeakMv;
        _drive = drive;
        _scale = Math.ScaleB(1.0, -p.WeightFractionBits);
        _eager = eager;
        int n = p.Size;
        _kMaxE = new double[n]; _kMaxI = new double[n];
        for (int j = 0; j < n; j++) { _kMaxE[j] = KernelMaximum(_tauM[j], _tauE[j]); _kMaxI[j] = KernelMaximum(_tauM[j], _tauI[j]); }
    }

    public override bool Bounds => !_eager;

    public override void Propagate(int i, double t)
    {
        if (t <= Clock.LastUpdate[i]) return;
        int j = i - Offset;
        StateAt(i, t, out _u[j], out _ge[j], out _gi[j]);
        Clock.LastUpdate[i] = t;
    }

    public override void Arrive(int i, int q, double t)
    {
        Propagate(i, t);
        int j = i - Offset;
        double w = q * _scale;
        if (q >= 0) _ge[j] += w; else _gi[j] += w;
    }

    public override void Reset(int i, double t)
    {
        _u[i - Offset] = _reset[i - Offset];
        Clock.RefractoryEnd[i] = t + _tref[i - Offset];
    }

    public override double Read(int i, int variable, double t)
    {
        StateAt(i, t, out double u, out double ge, out double gi);
        return variable switch { LifExpModel.U => u + _eLeak[i - Offset], LifExpModel.GExc => ge, _ => gi };
    }

    /// <summary>State of neuron i at time t ≥ its last update, without changing it.</summary>
    private void StateAt(int i, double t, out double u, out double ge, out double gi)
    {
        int j = i - Offset;
        double t0 = Clock.LastUpdate[i];
        u = _u[j]; ge = _ge[j]; gi = _gi[j];
        if (t <= t0) return;
        double start = Math.Max(t0, Clock.RefractoryEnd[i]);
        if (start > t0)
        {
            // Refractory part: u held at reset, currents decay.
            double hr = Math.Min(t, start) - t0;
            ge *= Math.Exp(-hr / _tauE[j]);
            gi *= Math.Exp(-hr / _tauI[j]);
            u = _reset[j];
            if (t <= start) return;
        }
        double h = t - start;
        u = ExpMembrane(j, u, ge, gi, h);
        ge *= Math.Exp(-h / _tauE[j]);
        gi *= Math.Exp(-h / _tauI[j]);
    }

    /// <summary>LifExp membrane after h ms from (u, g_e, g_i), not refractory (j population-local).</summary>
    private double ExpMembrane(int j, double u, double ge, double gi, double h)
    {
        double tm = _tauM[j], em = Math.Exp(-h / tm), drive = _drive[j];
        return drive + (u - drive) * em + ge * SynapticKernel(h, tm, _tauE[j], em) + gi * SynapticKernel(h, tm, _tauI[j], em);
    }

    /// <summary>
    /// τ_x/(τ_x − τ_m)·(e^{−h/τ_x} − e^{−h/τ_m}) in a cancellation-free form, κ·e^{−h/τ_m}·expm1(h(τ_x − τ_m)/(τ_x τ_m));
    /// (h/τ_m)e^{−h/τ_m} when τ_x = τ_m. For τ_x &gt; τ_m the expm1 argument grows with h and overflows after a long
    /// silence (h(τ_x − τ_m)/(τ_x τ_m) &gt; 700, e.g. 10.5 s for τ_x = 30, τ_m = 10 ms), where e^{−h/τ_m} has long
    /// underflowed: there the same value is computed as −κ·e^{−h/τ_x}·expm1(−h(τ_x − τ_m)/(τ_x τ_m)), which cannot
    /// overflow (0·∞ would give NaN).
    /// </summary>
    internal static double SynapticKernel(double h, double tauM, double tauX, double em)
    {
        if (tauX == tauM) return h / tauM * em;
        double x = -h * (tauM - tauX) / (tauX * tauM);
        if (x > 700) return -(tauX / (tauX - tauM)) * Math.Exp(-h / tauX) * ExponentialSum.ExpM1(-x);
        return tauX / (tauX - tauM) * em * ExponentialSum.ExpM1(x);
    }

    /// <summary>
    /// The crossing time, +∞ (no crossing), or a lower bound of the crossing (<see cref="NoCrossingBefore"/>) when it lies
    /// at least <see cref="MinBoundStep"/>·τ_m ahead; from the state where the free trajectory starts (after refractoriness).
    /// </summary>
    public override Prediction Predict(int i)
    {
        double start = Math.Max(Clock.LastUpdate[i], Clock.RefractoryEnd[i]);
        StateAt(i, start, out double us, out double ge, out double gi);   // the state where the free trajectory starts
        double h = _eager ? (NeverCrosses(i - Offset, us, ge, gi) ? double.PositiveInfinity : 0) : NoCrossingBefore(i - Offset, us, ge, gi);
        return BoundOrCrossing(i, start, h);
    }

    /// <summary>
    /// A bound that came due at <paramref name="t"/> (no event touched neuron i since it was set): the next bound from
    /// the state at t (closed form from the stored state, which is not changed), or the exact crossing.
    /// </summary>
    public override Prediction Resolve(int i, double t)
    {
        StateAt(i, t, out double u, out double ge, out double gi);
        return BoundOrCrossing(i, t, NoCrossingBefore(i - Offset, u, ge, gi));
    }

    /// <summary>+∞, a bound at from + h, or (h below <see cref="MinBoundStep"/>·τ_m) the exact crossing.</summary>
    private Prediction BoundOrCrossing(int i, double from, double h)
    {
        if (double.IsPositiveInfinity(h)) return Prediction.Never;
        if (h >= MinBoundStep * _tauM[i - Offset])
        {
            // Four ulps of the time below the rounded sum: the state at `from` was evaluated at start + (from − start)
            // rounded, which for long runs can differ from `from` by more than the 10⁻⁹ relative margin of h.
            double tb = from + h * (1 - 1e-9);
            tb -= 4 * (Math.BitIncrement(tb) - tb);
            if (tb > from) return new(tb, true);
        }
        double exact = ExactCrossing(i);
        if (exact < from)
            throw new InvalidOperationException($"PreciseEngine: neuron {i}'s crossing at {exact:R} ms lies before its lower bound {from:R} ms (internal error: please report the network)");
        CrossingSearches++;
        return new(exact, false);
    }

    /// <summary>The constant bound of <see cref="NoCrossingBefore"/> rules out any crossing from (u, g_e, g_i), not refractory.</summary>
    private bool NeverCrosses(int j, double u, double ge, double gi) => NeverCrosses(j, u, ge, gi, out _, out _);

    /// <inheritdoc cref="NeverCrosses(int, double, double, double)"/>
    /// <param name="margin">ε = 10⁻⁹·(|I| + |θ| + |u| + |g_e| + |g_i|).</param>
    /// <param name="gMax">Ĝ = Σ_x max(0, g_x)·k̂_x.</param>
    private bool NeverCrosses(int j, double u, double ge, double gi, out double margin, out double gMax)
    {
        double drive = _drive[j], theta = _theta[j];
        margin = 1e-9 * (Math.Abs(drive) + Math.Abs(theta) + Math.Abs(u) + Math.Abs(ge) + Math.Abs(gi));
        gMax = Math.Max(0, ge) * _kMaxE[j] + Math.Max(0, gi) * _kMaxI[j];
        return (drive - theta) + Math.Max(0, u - drive) + gMax < -margin;
    }

    /// <summary>
    /// A time h ≥ 0 such that the neuron, not refractory, with state (u, g_e, g_i) now and no further input, does not cross
    /// θ before h (+∞: never; 0: possibly at once).
    /// <para>In x = h/τ_m, u(h) − θ = (I − θ) + (u − I)e^{−x} + Σ_x g_x k_x(h) with the synaptic kernel
    /// k_x(h) = κ_x(e^{−h/τ_x} − e^{−h/τ_m}) = (1/τ_m)∫₀^h e^{−s/τ_x}e^{−(h−s)/τ_m} ds, which lies in
    /// [0, min(x, k̂_x)], k̂_x = (τ_x/τ_m)^{τ_m/(τ_m − τ_x)} its maximum (1/e for τ_x = τ_m). Two upper bounds of
    /// u − θ follow, each increasing in h:
    /// B₁(x) = (u − θ) + (max(0, I − u) + g⁺)·x (e^{−x} ≥ 1 − x; g⁺ = Σ max(0, g_x)), and
    /// B₂(x) = (I − θ) + (u − I)e^{−x} + Ĝ, Ĝ = Σ max(0, g_x)·k̂_x (constant when u ≥ I).
    /// No crossing can occur before both are ≥ −ε, ε = 10⁻⁹·(|I| + |θ| + |u| + |g_e| + |g_i|), a margin far above
    /// the rounding of evaluating u: h = τ_m·max(x₁, x₂) with x₁ = (θ − u − ε)/(max(0, I − u) + g⁺) and
    /// x₂ = ln((I − u)/(I − θ + Ĝ + ε)) (0 if negative); never if B₂ stays below −ε. The result is used shrunk by
    /// 1 − 10⁻⁹ (rounding of the logarithm and of adding it to a time).</para>
    /// </summary>
    private double NoCrossingBefore(int j, double u, double ge, double gi)
    {
        if (NeverCrosses(j, u, ge, gi, out double margin, out double gMax)) return double.PositiveInfinity;
        double drive = _drive[j], theta = _theta[j], tm = _tauM[j];
        double gPos = Math.Max(0, ge) + Math.Max(0, gi);
        double gap = theta - u - margin;
        if (!(gap > 0)) return 0;
        double slope = Math.Max(0, drive - u) + gPos;
        if (!(slope > 0)) return double.PositiveInfinity;              // u − θ ≤ u − θ < −ε for all h
        double x = gap / slope;
        if (u < drive)
        {
            double c = (drive - theta) + gMax + margin;                // > 0 here (else the first test returned)
            double x2 = Math.Log((drive - u) / c);
            if (x2 > x) x = x2;
        }
        double h = tm * x;
        return double.IsFinite(h) && h > 0 ? h : 0;
    }

    /// <summary>
    /// An upper bound of max_h k_x(h) = (τ_x/τ_m)^{τ_m/(τ_m − τ_x)} (1/e for τ_x = τ_m): the value raised by a
    /// relative 10⁻⁹ (for τ_x close to τ_m the exponent carries a relative error of about 10⁻¹⁶·τ_m/|τ_m − τ_x|),
    /// never above the elementary bound min(1, τ_x/τ_m).
    /// </summary>
    internal static double KernelMaximum(double tauM, double tauX)
    {
        double r = tauX / tauM;
        if (tauX == tauM) return Math.Exp(-1) * (1 + 1e-9);
        if (Math.Abs(tauX - tauM) < 1e-6 * tauM) return Math.Min(1, r);
        double k = Math.Pow(r, tauM / (tauM - tauX));
        return double.IsFinite(k) ? Math.Min(Math.Min(1, r), k * (1 + 1e-9)) : Math.Min(1, r);
    }

    /// <summary>The time of neuron i's next threshold crossing from its stored state (root search), or +∞.</summary>
    private double ExactCrossing(int i)
    {
        int j = i - Offset;
        double start = Math.Max(Clock.LastUpdate[i], Clock.RefractoryEnd[i]);
        double theta = _theta[j];
        StateAt(i, start, out double us, out double ge, out double gi);   // the state where the free trajectory starts
        double tm = _tauM[j], te = _tauE[j], ti = _tauI[j], drive = _drive[j];
        // u(h) − θ = (I − θ) + (u_s − I)e^{−h/τ_m} + Σ_x g_x κ_x (e^{−h/τ_x} − e^{−h/τ_m}), κ_x = τ_x/(τ_x − τ_m).
        int m = 0;
        _terms[m++] = new ExpTerm(0, drive - theta, 0);
        _terms[m++] = new ExpTerm(1 / tm, us - drive, 0);
        AddSynapticTerms(ref m, ge, tm, te);
        AddSynapticTerms(ref m, gi, tm, ti);
        var membrane = new MembraneAboveThreshold(this, j, us, ge, gi, theta);
        double h = ExponentialSum.FirstUpCrossing(_terms.AsSpan(0, m), ref membrane);
        return Clock.AfterLastSpike(i, start + h);
    }

    /// <summary>u(h) − θ from (u_s, g_e, g_i) in the cancellation-free form of <see cref="ExpMembrane"/>.</summary>
    private readonly struct MembraneAboveThreshold(LifExpPrecise pop, int j, double u, double ge, double gi, double theta) : ExponentialSum.IFunction
    {
        public double At(double h) => pop.ExpMembrane(j, u, ge, gi, h) - theta;
    }

    private void AddSynapticTerms(ref int m, double g, double tm, double tx)
    {
        if (g == 0) return;
        if (tx == tm) { _terms[m++] = new ExpTerm(1 / tm, 0, g / tm); return; }
        double k = g * tx / (tx - tm);
        _terms[m++] = new ExpTerm(1 / tx, k, 0);
        _terms[m++] = new ExpTerm(1 / tm, -k, 0);
    }
}
