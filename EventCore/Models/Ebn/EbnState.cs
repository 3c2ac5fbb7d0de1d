using System.Numerics.Tensors;
using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// The Ebn event kernel (docs/models/ebn.md). One tick, Q = round half even onto 2^-G:
/// <code>
/// Deliver:      in ← (acc_e + acc_i)·2^-F
/// UpdateTraces: r ← Q(r·α_d)
/// (engine)      rec ← exact Ω_s·r (trace-coupled projections)
/// Integrate:    a ← V·α_V; [a ← drive·β_V + a]; [a ← rec·β_V + a]; V ← a + in
/// Threshold:    the greedy resolution of Ω_f (FastCoupling.Resolve): z, r_j += 1, V += Ω_f[j]
/// </code>
/// </summary>
internal sealed class EbnState : PopulationState
{
    private readonly EbnConstants _c;
    private readonly double _scale;
    private readonly bool _hasTraceInput;
    private readonly double[] _traceInput;
    public readonly double[] V, R, Z, In;

    public EbnState(CompiledPopulation p, double[] traceInput, bool hasTraceInput) : base(p)
    {
        _c = (EbnConstants)p.Constants;
        _scale = FixedPoint.Scale(p.WeightFractionBits);
        V = State[EbnModel.V]; R = State[EbnModel.R]; Z = State[EbnModel.Z];
        In = new double[Size];
        _traceInput = traceInput;
        _hasTraceInput = hasTraceInput;
    }

    public override void Deliver(double[] accExc, double[] accInh, int start)
        => SumScaleAndClear(accExc.AsSpan(start, Size), accInh.AsSpan(start, Size), _scale, In);

    public override void UpdateTraces()
    {
        var a = Scratch.AsSpan();
        TensorPrimitives.Multiply(R, _c.AlphaD, a);
        TensorPrimitives.Multiply(a, _c.TraceScale, a);
        TensorPrimitives.Round(a, MidpointRounding.ToEven, a);
        TensorPrimitives.Multiply(a, _c.TraceUnit, R);
    }

    public override void Integrate(in TickContext ctx)
    {
        var a = Scratch.AsSpan();
        TensorPrimitives.Multiply(V, _c.AlphaV, a);
        if (HasDrive) TensorPrimitives.MultiplyAdd(Drive, _c.BetaV, a, a);
        if (_hasTraceInput) TensorPrimitives.MultiplyAdd(_traceInput.AsSpan(Offset, Size), _c.BetaV, a, a);
        TensorPrimitives.Add(a, In, V);
    }

    public override void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount)
        => _c.Fast.Resolve(V, Z, R, Offset, spikes, ref spikeCount);
}
