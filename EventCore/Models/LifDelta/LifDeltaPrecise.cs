using Sim.EventCore.Compilation;
using Sim.EventCore.Precise;

namespace Sim.EventCore.Models;

/// <summary>
/// The exact propagator of LifDelta for the precise engine (docs/models/lif_delta.md, docs/precise-engine.md): between
/// events u(t₀+h) = u_∞ + (u₀ − u_∞)e^{−h/τ_m}, u_∞ = I_ext·τ_m; the next crossing under the constant drive is analytic,
/// t* = t₀ + τ_m·ln((u_∞ − u₀)/(u_∞ − θ)) when u_∞ &gt; θ (with log1p); a jump may put u above θ at once. After a spike u
/// is held at V_r for exactly t_ref, and jumps arriving inside it are discarded (NEST semantics, as on the grid).
/// </summary>
internal sealed class LifDeltaPrecise : PrecisePopulation
{
    private readonly double[] _u, _tauM, _tref, _theta, _reset, _eLeak, _drive;
    private readonly double _scale;

    public LifDeltaPrecise(CompiledPopulation p, PreciseClock clock, double[][] initial, double[] drive) : base(p, clock)
    {
        var c = (LifDeltaConstants)p.Constants;
        Jumps = true;
        _u = (double[])initial[LifDeltaModel.U].Clone();
        _tauM = c.TauMemMs; _tref = c.RefractoryMs; _theta = c.ThetaU; _reset = c.ResetU; _eLeak = c.ELeakMv;
        _drive = drive;
        _scale = Math.ScaleB(1.0, -p.WeightFractionBits);
    }

    public override void Propagate(int i, double t)
    {
        if (t <= Clock.LastUpdate[i]) return;
        _u[i - Offset] = StateAt(i, t);
        Clock.LastUpdate[i] = t;
    }

    private double StateAt(int i, double t)
    {
        int j = i - Offset;
        double t0 = Clock.LastUpdate[i], u = _u[j];
        if (t <= t0) return u;
        double start = Math.Max(t0, Clock.RefractoryEnd[i]);
        if (start > t0) { u = _reset[j]; if (t <= start) return u; }
        double h = t - start, uInf = _drive[j] * _tauM[j];
        return uInf + (u - uInf) * Math.Exp(-h / _tauM[j]);
    }

    public override void Arrive(int i, int q, double t)
    {
        Propagate(i, t);
        if (t >= Clock.RefractoryEnd[i]) _u[i - Offset] += q * _scale;
    }

    public override bool CrossedByJump(int i, double t)
        => t >= Clock.RefractoryEnd[i] && Clock.LastSpike[i] != t && _u[i - Offset] > _theta[i - Offset];

    public override void Reset(int i, double t)
    {
        _u[i - Offset] = _reset[i - Offset];
        Clock.RefractoryEnd[i] = t + _tref[i - Offset];
    }

    /// <summary>The next crossing from the stored state in closed form (at the end of refractoriness if above θ there).</summary>
    public override Prediction Predict(int i)
    {
        int j = i - Offset;
        double t0 = Clock.LastUpdate[i], start = Math.Max(t0, Clock.RefractoryEnd[i]);
        double theta = _theta[j];
        double u0 = start > t0 ? _reset[j] : _u[j];
        if (u0 > theta) return new(Clock.AfterLastSpike(i, start), false);
        double uInf = _drive[j] * _tauM[j];
        if (!(uInf > theta)) return Prediction.Never;
        // t* = τ ln((u∞ − u₀)/(u∞ − θ)) = τ log1p((θ − u₀)/(u∞ − θ)).
        return new(start + _tauM[j] * ExponentialSum.Log1P((theta - u0) / (uInf - theta)), false);
    }

    public override double Read(int i, int variable, double t) => StateAt(i, t) + _eLeak[i - Offset];
}
