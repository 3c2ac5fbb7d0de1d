using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// The theta-neuron event kernel (docs/models/theta.md): a scalar pass that reads and clears this tick's ring slot,
/// updates the synaptic currents, writes the Euler candidate a (<see cref="ThetaModel.Candidate"/>) into scratch and
/// decays the currents; then Threshold tests a &gt; π in ascending id, resets by −2π and clamps into [−π, π].
/// </summary>
internal sealed class ThetaState : PopulationState
{
    private readonly ThetaConstants _c;
    private readonly double _scale;
    public readonly double[] Theta, IExc, IInh;
    private double[] _accExc = [], _accInh = [];
    private int _accStart;

    public ThetaState(CompiledPopulation p) : base(p)
    {
        _c = (ThetaConstants)p.Constants;
        _scale = FixedPoint.Scale(p.WeightFractionBits);
        Theta = State[ThetaModel.Theta]; IExc = State[ThetaModel.IExc]; IInh = State[ThetaModel.IInh];
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
        for (int i = 0; i < Size; i++)
        {
            double ie = ae[i] * _scale + IExc[i];
            double ii = ai[i] * _scale + IInh[i];
            ae[i] = 0;
            ai[i] = 0;
            double input = ie + ii;
            if (drive) input = input + Drive[i];
            Scratch[i] = ThetaModel.Candidate(_c, i, Theta[i], input);
            IExc[i] = ie * _c.AlphaExc[i];
            IInh[i] = ii * _c.AlphaInh[i];
        }
    }

    public override void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount)
    {
        double dv = Population.NoiseDeltaV;
        for (int i = 0; i < Size; i++)
        {
            double a = Scratch[i];
            bool fire = dv > 0 ? Escape(a - Math.PI, dv, ctx.NoiseKey, Offset + i) : a > Math.PI;
            Theta[i] = ThetaModel.After(a, fire);
            if (!fire) continue;
            LastSpike[i] = ctx.Tick;
            spikes[spikeCount++] = Offset + i;
        }
    }
}
