using System.Numerics;
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
    private readonly bool _uniformThreshold, _uniform;   // copied from the constants' Seal
    public readonly double[] U, GExc, GInh;
    private double[] _accExc = [], _accInh = [];
    private int _accStart;

    public LifCondExpState(CompiledPopulation p) : base(p)
    {
        _c = (LifCondExpConstants)p.Constants;
        _scale = FixedPoint.Scale(p.WeightFractionBits);
        _uniformThreshold = _c.UniformThreshold;
        _uniform = _c.UniformIntegration;
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
            i = VectorPass(new Broadcast(_c), ae, ai, drive);   // homogeneous population: fewer memory streams
        else if (Vector.IsHardwareAccelerated)
            i = VectorPass(new PerNeuron(_c), ae, ai, drive);
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

    /// <summary>
    /// The vectorised part of the pass for whole vectors (returns where the scalar tail starts); the same operations in
    /// the same order as the scalar tail and the reference step, with the constants broadcast or loaded per neuron
    /// (a struct type argument, so the JIT compiles one specialised loop for each).
    /// </summary>
    private int VectorPass<TConstants>(TConstants k, Span<double> ae, Span<double> ai, bool drive) where TConstants : struct, IVectorConstants
    {
        int n = Size, w = Vector<double>.Count, i = 0;
        var scale = new Vector<double>(_scale);
        for (; i <= n - w; i += w)
        {
            var ge = new Vector<double>(ae[i..]) * scale + new Vector<double>(GExc, i);
            var gi = new Vector<double>(GInh, i) - new Vector<double>(ai[i..]) * scale;
            Vector<double>.Zero.CopyTo(ae[i..]);
            Vector<double>.Zero.CopyTo(ai[i..]);
            var u = new Vector<double>(U, i);
            var f = ge * (k.EExc(i) - u);
            f = gi * (k.EInh(i) - u) + f;
            f = f - u;
            if (drive) f = f + new Vector<double>(Drive, i);
            (f * k.Step(i) + u).CopyTo(Scratch, i);
            (ge * k.AlphaExc(i)).CopyTo(GExc, i);
            (gi * k.AlphaInh(i)).CopyTo(GInh, i);
        }
        return i;
    }

    private interface IVectorConstants
    {
        Vector<double> EExc(int i);
        Vector<double> EInh(int i);
        Vector<double> Step(int i);
        Vector<double> AlphaExc(int i);
        Vector<double> AlphaInh(int i);
    }

    /// <summary>Every neuron has the same constants: neuron 0's, broadcast.</summary>
    private readonly struct Broadcast(LifCondExpConstants c) : IVectorConstants
    {
        private readonly Vector<double> _ee = new(c.EExcU[0]), _ei = new(c.EInhU[0]), _step = new(c.Step[0]), _ae = new(c.AlphaExc[0]), _ai = new(c.AlphaInh[0]);
        public Vector<double> EExc(int i) => _ee;
        public Vector<double> EInh(int i) => _ei;
        public Vector<double> Step(int i) => _step;
        public Vector<double> AlphaExc(int i) => _ae;
        public Vector<double> AlphaInh(int i) => _ai;
    }

    /// <summary>Per-neuron constants, loaded a vector at a time.</summary>
    private readonly struct PerNeuron(LifCondExpConstants c) : IVectorConstants
    {
        public Vector<double> EExc(int i) => new(c.EExcU, i);
        public Vector<double> EInh(int i) => new(c.EInhU, i);
        public Vector<double> Step(int i) => new(c.Step, i);
        public Vector<double> AlphaExc(int i) => new(c.AlphaExc, i);
        public Vector<double> AlphaInh(int i) => new(c.AlphaInh, i);
    }

    public override void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount)
    {
        if (Population.NoiseDeltaV > 0)
            EscapeThreshold(ctx, U, Scratch, _c.ThetaU, _c.ResetU, _c.Refractory, spikes, ref spikeCount);
        else
            ThresholdKernel.Run(ctx.Tick, U, Scratch, _c.ThetaU, _c.ResetU, LastSpike, _c.Refractory, Offset, spikes, ref spikeCount, _uniformThreshold);
    }
}
