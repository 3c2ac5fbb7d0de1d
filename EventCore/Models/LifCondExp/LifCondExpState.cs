using System.Numerics;
using System.Runtime.InteropServices;
using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// The LifCondExp event kernel (docs/models/lif_cond_exp.md), the operation sequence of <see cref="LifCondExpModel"/>:
/// one vectorised pass reads and clears this tick's ring slot, updates g, writes the Euler candidate a into scratch and
/// decays g; then the shared threshold kernel applies refractoriness, threshold and reset.
/// </summary>
internal sealed class LifCondExpState : PopulationState
{
    private readonly LifCondExpConstants _c;
    private readonly double _scale;
    private readonly bool _uniformThreshold, _uniform;
    public readonly double[] U, GExc, GInh;
    private double[] _accExc = [], _accInh = [];
    private int _accStart;

    public LifCondExpState(CompiledPopulation p) : base(p)
    {
        _c = (LifCondExpConstants)p.Constants;
        _scale = FixedPoint.Scale(p.WeightFractionBits);
        _uniformThreshold = _c.UniformThreshold;
        _uniform = Uniformity.Same(_c.EExcU) && Uniformity.Same(_c.EInhU) && Uniformity.Same(_c.Step) && Uniformity.Same(_c.AlphaExc) && Uniformity.Same(_c.AlphaInh);
        U = State[LifCondExpModel.U]; GExc = State[LifCondExpModel.GExc]; GInh = State[LifCondExpModel.GInh];
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
        int n = Size, i = 0;
        bool drive = HasDrive;
        var ae = _accExc.AsSpan(_accStart, n);
        var ai = _accInh.AsSpan(_accStart, n);
        if (Vector.IsHardwareAccelerated && _uniform && n > 0)
        {
            // Homogeneous population: the same operations with broadcast constants (fewer memory streams).
            int w = Vector<double>.Count;
            var scale = new Vector<double>(_scale);
            Vector<double> ee = new(_c.EExcU[0]), ei = new(_c.EInhU[0]), step = new(_c.Step[0]), de = new(_c.AlphaExc[0]), di = new(_c.AlphaInh[0]);
            for (; i <= n - w; i += w)
            {
                var ge = new Vector<double>(ae[i..]) * scale + new Vector<double>(GExc, i);
                var gi = new Vector<double>(GInh, i) - new Vector<double>(ai[i..]) * scale;
                Vector<double>.Zero.CopyTo(ae[i..]);
                Vector<double>.Zero.CopyTo(ai[i..]);
                var u = new Vector<double>(U, i);
                var f = ge * (ee - u);
                f = gi * (ei - u) + f;
                f = f - u;
                if (drive) f = f + new Vector<double>(Drive, i);
                (f * step + u).CopyTo(Scratch, i);
                (ge * de).CopyTo(GExc, i);
                (gi * di).CopyTo(GInh, i);
            }
        }
        else if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<double>.Count;
            var scale = new Vector<double>(_scale);
            for (; i <= n - w; i += w)
            {
                var ge = new Vector<double>(ae[i..]) * scale + new Vector<double>(GExc, i);
                var gi = new Vector<double>(GInh, i) - new Vector<double>(ai[i..]) * scale;
                Vector<double>.Zero.CopyTo(ae[i..]);
                Vector<double>.Zero.CopyTo(ai[i..]);
                var u = new Vector<double>(U, i);
                var f = ge * (new Vector<double>(_c.EExcU, i) - u);
                f = gi * (new Vector<double>(_c.EInhU, i) - u) + f;
                f = f - u;
                if (drive) f = f + new Vector<double>(Drive, i);
                (f * new Vector<double>(_c.Step, i) + u).CopyTo(Scratch, i);
                (ge * new Vector<double>(_c.AlphaExc, i)).CopyTo(GExc, i);
                (gi * new Vector<double>(_c.AlphaInh, i)).CopyTo(GInh, i);
            }
        }
        for (; i < n; i++)
        {
            double ge = ae[i] * _scale + GExc[i];
            double x = ai[i] * _scale;
            double gi = GInh[i] - x;
            ae[i] = 0;
            ai[i] = 0;
            double u = U[i];
            double f = ge * (_c.EExcU[i] - u);
            f = gi * (_c.EInhU[i] - u) + f;
            f = f - u;
            if (drive) f = f + Drive[i];
            Scratch[i] = f * _c.Step[i] + u;
            GExc[i] = ge * _c.AlphaExc[i];
            GInh[i] = gi * _c.AlphaInh[i];
        }
    }

    public override void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount)
    {
        if (Population.NoiseDeltaV > 0)
            EscapeThreshold(ctx, U, Scratch, _c.ThetaU, _c.ResetU, _c.Refractory, spikes, ref spikeCount);
        else
            ThresholdKernel.Run(ctx.Tick, U, Scratch, _c.ThetaU, _c.ResetU, LastSpike, _c.Refractory, Offset, spikes, ref spikeCount, _uniformThreshold);
    }
}
