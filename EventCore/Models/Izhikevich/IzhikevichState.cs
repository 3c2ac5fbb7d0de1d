using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// The Izhikevich event kernel (docs/models/izhikevich.md): a scalar pass that reads and clears this tick's ring slot,
/// adds it to the synaptic currents, integrates v and u by <see cref="IzhikevichModel.Integrate"/> (the shared
/// sequence) and decays the currents; then Threshold tests v &gt; v_peak in ascending id and resets (v ← c, u ← u + d).
/// Scalar, so the bits cannot depend on the vector width.
/// </summary>
internal sealed class IzhikevichState : PopulationState
{
    private readonly IzhikevichConstants _c;
    private readonly double _scale;
    public readonly double[] V, U, IExc, IInh;
    private double[] _accExc = [], _accInh = [];
    private int _accStart;

    public IzhikevichState(CompiledPopulation p) : base(p)
    {
        _c = (IzhikevichConstants)p.Constants;
        _scale = FixedPoint.Scale(p.WeightFractionBits);
        V = State[IzhikevichModel.V]; U = State[IzhikevichModel.U];
        IExc = State[IzhikevichModel.IExc]; IInh = State[IzhikevichModel.IInh];
    }

    // Delivery is fused into the integration pass: Deliver only remembers where this tick's sums are.
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
            IzhikevichModel.Integrate(_c, i, input, ref V[i], ref U[i]);
            IExc[i] = ie * _c.AlphaExc[i];
            IInh[i] = ii * _c.AlphaInh[i];
        }
    }

    public override void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount)
    {
        double dv = Population.NoiseDeltaV;
        for (int i = 0; i < Size; i++)
        {
            bool fire = dv > 0 ? Escape(V[i] - _c.VPeak[i], dv, ctx.NoiseKey, Offset + i) : V[i] > _c.VPeak[i];
            if (!fire) continue;
            V[i] = _c.C[i];
            U[i] = U[i] + _c.D[i];
            LastSpike[i] = ctx.Tick;
            spikes[spikeCount++] = Offset + i;
        }
    }
}
