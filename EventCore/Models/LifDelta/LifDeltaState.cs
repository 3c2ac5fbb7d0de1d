using System.Numerics.Tensors;
using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// The LifDelta event kernel in the frame u = v − E_L (docs/models/lif_delta.md), NEST <c>iaf_psc_delta</c> order. One tick:
/// <code>
/// Deliver:   j ← acc_e + acc_i (exact integer sum);  j ← j·2^-F
/// Integrate: a ← u·α_m;  [a ← drive·τ_m(1−α_m) + a];  a ← a + j
/// Threshold: if t − t_last &lt; n_ref: u unchanged (jumps discarded); else u ← a, spike if u &gt; θ_u (or escape) → u ← u_r
/// </code>
/// </summary>
internal sealed class LifDeltaState : PopulationState
{
    private readonly LifDeltaConstants _c;
    private readonly double _scale;
    public readonly double[] U;
    private readonly double[] _jump;

    public LifDeltaState(CompiledPopulation p) : base(p)
    {
        _c = (LifDeltaConstants)p.Constants;
        _scale = FixedPoint.Scale(p.WeightFractionBits);
        U = State[LifDeltaModel.U];
        _jump = new double[Size];
    }

    public override void Deliver(double[] accExc, double[] accInh, int start)
        => SumScaleAndClear(accExc.AsSpan(start, Size), accInh.AsSpan(start, Size), _scale, _jump);

    public override void Integrate(in TickContext ctx)
    {
        var a = Scratch.AsSpan();
        TensorPrimitives.Multiply(U, _c.AlphaMem, a);
        if (HasDrive) TensorPrimitives.MultiplyAdd(Drive, _c.DriveGain, a, a);
        TensorPrimitives.Add(a, _jump, a);
    }

    public override void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount)
    {
        if (Population.NoiseDeltaV > 0)
            EscapeThreshold(ctx, U, Scratch, _c.ThetaU, _c.ResetU, _c.Refractory, spikes, ref spikeCount);
        else
            ThresholdKernel.Run(ctx.Tick, U, Scratch, _c.ThetaU, _c.ResetU, LastSpike, _c.Refractory, Offset, spikes, ref spikeCount, _c.UniformThreshold);
    }
}
