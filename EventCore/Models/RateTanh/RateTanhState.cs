using System.Numerics.Tensors;
using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// The event kernel of <c>rate_tanh</c> (docs/models/rate_tanh.md): vectorised passes over the units, in
/// <see cref="RateTanhModel"/>'s order (u from the delivered sum, the exact trace-coupled input and the drive; the tanh
/// sequence <see cref="FixedTanh"/>; the leak; the rounding onto 2^-G). Threshold does nothing: the unit never spikes.
/// </summary>
internal sealed class RateTanhState : PopulationState
{
    private readonly RateTanhConstants _c;
    private readonly double _scale;
    public readonly double[] H, U;
    private readonly double[] _traceInput, _phi, _scratch;

    public RateTanhState(CompiledPopulation p, double[] traceInput) : base(p)
    {
        _c = (RateTanhConstants)p.Constants;
        _scale = FixedPoint.Scale(p.WeightFractionBits);
        H = State[RateTanhModel.H]; U = State[RateTanhModel.U];
        _traceInput = traceInput;
        _phi = new double[Size];
        _scratch = new double[Size];
    }

    public override void Deliver(double[] accExc, double[] accInh, int start)
        => SumScaleAndClear(accExc.AsSpan(start, Size), accInh.AsSpan(start, Size), _scale, U);

    public override void Integrate(in TickContext ctx)
    {
        var u = U.AsSpan();
        TensorPrimitives.Add(u, _traceInput.AsSpan(Offset, Size), u);
        if (HasDrive) TensorPrimitives.Add(u, Drive, u);
        FixedTanh.Of(u, _phi, Scratch, _scratch);
        var d = _phi.AsSpan();
        TensorPrimitives.Subtract(d, H, d);                 // d ← φ − h
        TensorPrimitives.MultiplyAdd(d, _c.Leak, H, d);     // d ← d·k + h
        TensorPrimitives.Multiply(d, _c.RateScale, H);      // h ← round_half_even(d·2^G)·2^-G
        TensorPrimitives.Round(H, MidpointRounding.ToEven, H);
        TensorPrimitives.Multiply(H, _c.RateUnit, H);
    }

    public override void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount) { }
}
