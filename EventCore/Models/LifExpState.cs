using System.Numerics.Tensors;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// LifExp state in the frame u = v − E_L (MODELS.md §1.1). One tick:
/// <code>
/// Deliver:   g_e ← acc_e·2^-F + g_e;  g_i ← acc_i·2^-F + g_i
/// Integrate: a ← u·α_m;  a ← g_e·P_e + a;  a ← g_i·P_i + a;  [a ← drive·(1−α_m) + a];  g_e ← g_e·α_e;  g_i ← g_i·α_i
/// Threshold: if t − t_last &lt; n_ref: u unchanged (held at reset); else u ← a, and if u &gt; θ_u (or escape): spike, u ← u_r, t_last ← t
/// </code>
/// </summary>
internal sealed class LifExpState : PopulationState
{
    private readonly LifExpConstants _c;
    private readonly double _scale;
    public readonly double[] U, GExc, GInh;

    public LifExpState(CompiledPopulation p) : base(p)
    {
        _c = (LifExpConstants)p.Constants;
        _scale = FixedPoint.Scale(p.WeightFractionBits);
        U = new double[Size]; GExc = new double[Size]; GInh = new double[Size];
    }

    public override void Initialise(ulong seed, int instance)
    {
        var q = (LifExpParameters)Population.Spec.Parameters;
        if (q.VInitMv is null) Array.Clear(U);
        else DrawInitial(q.VInitMv, "v_init_mv", seed, instance, U, _c.ELeakMv);
        DrawInitial(q.GExcInitMv, "g_exc_init_mv", seed, instance, GExc);
        DrawInitial(q.GInhInitMv, "g_inh_init_mv", seed, instance, GInh);
        Array.Fill(LastSpike, NeverSpiked);
    }

    public override void Deliver(ReadOnlySpan<double> accExc, ReadOnlySpan<double> accInh)
    {
        TensorPrimitives.MultiplyAdd(accExc, _scale, GExc, GExc);
        TensorPrimitives.MultiplyAdd(accInh, _scale, GInh, GInh);
    }

    public override void Integrate(in TickContext ctx)
    {
        var a = Scratch.AsSpan();
        TensorPrimitives.Multiply(U, _c.AlphaMem, a);
        TensorPrimitives.MultiplyAdd(GExc, _c.PExc, a, a);
        TensorPrimitives.MultiplyAdd(GInh, _c.PInh, a, a);
        if (Population.HasDrive) TensorPrimitives.MultiplyAdd(Drive, _c.DriveGain, a, a);
        TensorPrimitives.Multiply(GExc, _c.AlphaExc, GExc);
        TensorPrimitives.Multiply(GInh, _c.AlphaInh, GInh);
    }

    public override void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount)
    {
        long t = ctx.Tick;
        double[] u = U, a = Scratch, theta = _c.ThetaU, reset = _c.ResetU;
        long[] last = LastSpike;
        int[] nref = _c.RefractoryTicks;
        double dv = Population.NoiseDeltaV;
        for (int i = 0; i < u.Length; i++)
        {
            if (t - last[i] < nref[i]) continue;
            double ui = a[i];
            bool spike = dv > 0 ? Escape(ui - theta[i], dv, ctx.NoiseKey, Offset + i) : ui > theta[i];
            if (spike) { ui = reset[i]; last[i] = t; spikes[spikeCount++] = Offset + i; }
            u[i] = ui;
        }
    }

    public override double Read(int variable, int i) => variable switch
    {
        0 => U[i] + _c.ELeakMv[i],
        1 => GExc[i],
        2 => GInh[i],
        _ => throw new ArgumentOutOfRangeException(nameof(variable)),
    };

    public override IEnumerable<(string Name, double[] Values)> StateArrays() => [("u_mv", U), ("g_exc_mv", GExc), ("g_inh_mv", GInh)];
}
