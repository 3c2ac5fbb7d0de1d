using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// The LifExp2 event kernel (docs/models/lif_exp2.md): a scalar pass that reads and clears this tick's ring slot and
/// runs <see cref="LifExp2Model.Step"/> (the shared sequence) per neuron, writing the candidate membrane into scratch;
/// then the shared LIF threshold kernel applies refractoriness, threshold and reset.
/// </summary>
internal sealed class LifExp2State : PopulationState
{
    private readonly LifExp2Constants _c;
    private readonly double _scale;
    public readonly double[] U;
    private readonly double[][] _syn;
    private readonly double[] _s = new double[4];
    private double[] _accExc = [], _accInh = [];
    private int _accStart;

    public LifExp2State(CompiledPopulation p) : base(p)
    {
        _c = (LifExp2Constants)p.Constants;
        _scale = FixedPoint.Scale(p.WeightFractionBits);
        U = State[LifExp2Model.U];
        _syn = [State[LifExp2Model.DExc], State[LifExp2Model.RExc], State[LifExp2Model.DInh], State[LifExp2Model.RInh]];
    }

    public override void Deliver(double[] accExc, double[] accInh, int start)
    {
        _accExc = accExc;
        _accInh = accInh;
        _accStart = start;
    }

    public override void Integrate(in TickContext ctx)
    {
        var ae = _accExc.AsSpan(_accStart, Size);
        var ai = _accInh.AsSpan(_accStart, Size);
        bool drive = HasDrive;
        var s = _s.AsSpan();
        for (int i = 0; i < Size; i++)
        {
            for (int k = 0; k < 4; k++) s[k] = _syn[k][i];
            Scratch[i] = LifExp2Model.Step(_c, i, ae[i], ai[i], _scale, drive, drive ? Drive[i] : 0.0, U[i], s);
            for (int k = 0; k < 4; k++) _syn[k][i] = s[k];
            ae[i] = 0;
            ai[i] = 0;
        }
    }

    public override void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount)
    {
        if (Population.NoiseDeltaV > 0)
            EscapeThreshold(ctx, U, Scratch, _c.ThetaU, _c.ResetU, _c.Refractory, spikes, ref spikeCount);
        else
            ThresholdKernel.Run(ctx.Tick, U, Scratch, _c.ThetaU, _c.ResetU, LastSpike, _c.Refractory, Offset, spikes, ref spikeCount, _c.UniformThreshold);
    }
}
