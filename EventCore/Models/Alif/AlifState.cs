using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// The event kernel of <c>alif</c> and <c>lif_eprop</c> (docs/models/alif.md, docs/models/lif_eprop.md): vectorised passes
/// over the struct-of-arrays state for the adaptation, the threshold A, the membrane and ψ, and one pass in ascending id
/// for the spike decision (refractoriness, strict v &gt; A: vectorised with comparisons and selections only, as
/// <see cref="ThresholdKernel"/>; with escape noise on v − A: scalar). The operations and
/// their order are <see cref="AlifModel"/>'s (TensorPrimitives' MultiplyAdd is unfused: x·y, then + addend).
/// </summary>
internal sealed class AlifState : PopulationState
{
    private readonly AlifConstants _c;
    private readonly double _scale;
    private readonly bool _adaptive;
    public readonly double[] V, Z, Psi, A;
    private readonly double[] _input, _threshold, _active;

    public AlifState(CompiledPopulation p, bool adaptive) : base(p)
    {
        _c = (AlifConstants)p.Constants;
        _scale = FixedPoint.Scale(p.WeightFractionBits);
        _adaptive = adaptive;
        V = State[AlifModel.V]; Z = State[AlifModel.Z]; Psi = State[AlifModel.Psi];
        A = adaptive ? State[AlifModel.A] : [];
        _input = new double[Size];
        _threshold = adaptive ? new double[Size] : _c.VThreshold;
        _active = new double[Size];
    }

    public override void Deliver(double[] accExc, double[] accInh, int start)
        => SumScaleAndClear(accExc.AsSpan(start, Size), accInh.AsSpan(start, Size), _scale, _input);

    public override void Integrate(in TickContext ctx)
    {
        var input = _input.AsSpan();
        if (HasDrive) TensorPrimitives.Add(input, Drive, input);
        if (_adaptive)
        {
            TensorPrimitives.MultiplyAdd(A, _c.Rho, Z, A);                      // a ← a·ρ + z
            TensorPrimitives.MultiplyAdd(A, _c.Beta, _c.VThreshold, _threshold); // A ← a·β + v_th
        }
        var p = Scratch.AsSpan();
        TensorPrimitives.Multiply(V, _c.Alpha, p);                 // p ← v·α
        TensorPrimitives.MultiplyAdd(input, _c.Zeta, p, p);        // p ← I·ζ + p
        TensorPrimitives.Multiply(Z, _c.VThreshold, input);        // r ← z·v_th (the input is no longer needed)
        TensorPrimitives.Subtract(p, input, V);                    // v ← p − r
    }

    public override void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount)
    {
        long t = ctx.Tick;
        double[] v = V, z = Z, thr = _threshold, act = _active;
        long[] last = LastSpike, nref = _c.Refractory;
        double dv = Population.NoiseDeltaV;
        int n = v.Length, i = 0;
        if (dv <= 0 && Vector.IsHardwareAccelerated && Vector<double>.Count == Vector<long>.Count)
        {
            // Deterministic threshold, vectorised: comparisons and selections only, so the same bits at any width.
            int w = Vector<double>.Count;
            var vt = new Vector<long>(t);
            var one = Vector<double>.One;
            ref double rv = ref MemoryMarshal.GetArrayDataReference(v);
            ref double rth = ref MemoryMarshal.GetArrayDataReference(thr);
            ref double rz = ref MemoryMarshal.GetArrayDataReference(z);
            ref double ra = ref MemoryMarshal.GetArrayDataReference(act);
            ref long rl = ref MemoryMarshal.GetArrayDataReference(last);
            ref long rn = ref MemoryMarshal.GetArrayDataReference(nref);
            for (; i <= n - w; i += w)
            {
                var active = Vector.GreaterThanOrEqual(vt - Vector.LoadUnsafe(ref rl, (nuint)i), Vector.LoadUnsafe(ref rn, (nuint)i));
                var fire = Vector.GreaterThan(Vector.LoadUnsafe(ref rv, (nuint)i), Vector.LoadUnsafe(ref rth, (nuint)i)) & active;
                (Vector.AsVectorDouble(active) & one).StoreUnsafe(ref ra, (nuint)i);
                (Vector.AsVectorDouble(fire) & one).StoreUnsafe(ref rz, (nuint)i);
                if (fire == Vector<long>.Zero) continue;
                for (int k = 0; k < w; k++)
                {
                    if (fire[k] == 0) continue;
                    last[i + k] = t;
                    spikes[spikeCount++] = Offset + i + k;
                }
            }
        }
        for (; i < n; i++)
        {
            bool active = t - last[i] >= nref[i];
            act[i] = active ? 1.0 : 0.0;
            bool spike = active && (dv > 0 ? Escape(v[i] - thr[i], dv, ctx.NoiseKey, Offset + i) : v[i] > thr[i]);
            z[i] = spike ? 1.0 : 0.0;
            if (!spike) continue;
            last[i] = t;
            spikes[spikeCount++] = Offset + i;
        }
        // ψ ← (γ_pd/v_th)·max(0, 1 − |v − A|/v_th)·[active], one operation per pass (AlifModel.PseudoDerivativeOf).
        var d = Scratch.AsSpan();
        TensorPrimitives.Subtract(v, thr, d);
        TensorPrimitives.Abs(d, d);
        TensorPrimitives.Divide(d, _c.VThreshold, d);
        TensorPrimitives.Multiply(d, -1.0, d);
        TensorPrimitives.Add(d, 1.0, d);
        TensorPrimitives.Max(d, 0.0, d);
        TensorPrimitives.Multiply(d, _c.PsiScale, d);
        TensorPrimitives.Multiply(d, act, Psi);
    }
}
