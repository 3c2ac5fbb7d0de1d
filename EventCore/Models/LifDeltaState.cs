using System.Numerics.Tensors;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// LifDelta state in the frame u = v − E_L (MODELS.md §1.2), NEST <c>iaf_psc_delta</c> order. One tick:
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
        U = new double[Size];
        _jump = new double[Size];
    }

    public override void Initialise(ulong seed, int instance)
    {
        var q = (LifDeltaParameters)Population.Spec.Parameters;
        if (q.VInitMv is null) Array.Clear(U);
        else DrawInitial(q.VInitMv, "v_init_mv", seed, instance, U, _c.ELeakMv);
        Array.Fill(LastSpike, NeverSpiked);
    }

    public override void Deliver(double[] accExc, double[] accInh, int start)
        => SumScaleAndClear(accExc.AsSpan(start, Size), accInh.AsSpan(start, Size), _scale, _jump);

    public override void Integrate(in TickContext ctx)
    {
        var a = Scratch.AsSpan();
        TensorPrimitives.Multiply(U, _c.AlphaMem, a);
        if (Population.HasDrive) TensorPrimitives.MultiplyAdd(Drive, _c.DriveGain, a, a);
        TensorPrimitives.Add(a, _jump, a);
    }

    public override void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount)
    {
        if (Population.NoiseDeltaV > 0)
            EscapeThreshold(ctx, U, Scratch, _c.ThetaU, _c.ResetU, _c.RefractoryTicks, spikes, ref spikeCount);
        else
            ThresholdKernel.Run(ctx.Tick, U, Scratch, _c.ThetaU, _c.ResetU, LastSpike, _c.RefractoryTicks, Offset, spikes, ref spikeCount, _c.UniformThreshold);
    }

    public override double Read(int variable, int i) => variable == 0 ? U[i] + _c.ELeakMv[i] : throw new ArgumentOutOfRangeException(nameof(variable));

    public override IEnumerable<(string Name, Memory<double> Values)> StateArrays() => [("u_mv", U)];
}
