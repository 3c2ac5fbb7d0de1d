using System.Numerics.Tensors;
using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// The GoalLif event kernel (docs/models/goal_lif.md; Capone et al. 2022, authors' <c>lif.py</c>). One tick, Q = round
/// to 2^-G (half even):
/// <code>
/// Deliver:      in ← (acc_e + acc_i)·2^-F                       (W_in·x, exact)
/// UpdateTraces: a ← z·(1−α_s); a ← hz·α_s + a; hz ← Q(a)
///               b ← hz·(1−α_m); b ← ej·α_m + b; ej ← Q(b)
/// (engine)      rec_i ← (Σ_k Q_ik·hz_k·2^G)·2^-(F_r+G)             (W_rec·hz, exact integer sum)
/// Integrate:    c ← in + rec; c ← c + bias; [c ← c + drive]
///               a ← v·α_m; a ← c·(1−α_m) + a; a ← reset·z + a;  v ← a
/// Threshold:    z ← v &gt; thr (or escape noise on v − thr)
/// </code>
/// </summary>
internal sealed class GoalLifState : PopulationState
{
    private readonly GoalLifConstants _c;
    private readonly double _scale;
    public readonly double[] V, Z, Hz, Ej, In;
    private readonly double[] _traceInput;

    public GoalLifState(CompiledPopulation p, double[] traceInput) : base(p)
    {
        _c = (GoalLifConstants)p.Constants;
        _scale = FixedPoint.Scale(p.WeightFractionBits);
        V = State[GoalLifModel.V]; Z = State[GoalLifModel.Z]; Hz = State[GoalLifModel.Hz]; Ej = State[GoalLifModel.Ej];
        In = new double[Size];
        _traceInput = traceInput;
    }

    private Span<double> Rec => _traceInput.AsSpan(Offset, Size);

    public override void Deliver(double[] accExc, double[] accInh, int start)
        => SumScaleAndClear(accExc.AsSpan(start, Size), accInh.AsSpan(start, Size), _scale, In);

    public override void UpdateTraces()
    {
        var a = Scratch.AsSpan();
        TensorPrimitives.Multiply(Z, _c.OneMinusAlphaSyn, a);
        TensorPrimitives.MultiplyAdd(Hz, _c.AlphaSyn, a, a);
        Quantize(a, Hz);
        TensorPrimitives.Multiply(Hz, _c.OneMinusAlphaMem, a);
        TensorPrimitives.MultiplyAdd(Ej, _c.AlphaMem, a, a);
        Quantize(a, Ej);
    }

    private void Quantize(ReadOnlySpan<double> x, Span<double> dest)
    {
        if (!_c.Quantized) { x.CopyTo(dest); return; }
        TensorPrimitives.Multiply(x, _c.TraceScale, dest);
        TensorPrimitives.Round(dest, MidpointRounding.ToEven, dest);
        TensorPrimitives.Multiply(dest, _c.TraceUnit, dest);
    }

    public override void Integrate(in TickContext ctx)
    {
        var c = In.AsSpan();
        TensorPrimitives.Add(c, Rec, c);
        TensorPrimitives.Add(c, _c.Bias, c);
        if (HasDrive) TensorPrimitives.Add(c, Drive, c);
        var a = Scratch.AsSpan();
        TensorPrimitives.Multiply(V, _c.AlphaMem, a);
        TensorPrimitives.MultiplyAdd(c, _c.OneMinusAlphaMem, a, a);
        TensorPrimitives.MultiplyAdd(_c.ResetJump, Z, a, V);
    }

    public override void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount)
    {
        double[] v = V, z = Z, thr = _c.Threshold;
        double dv = Population.NoiseDeltaV;
        for (int i = 0; i < v.Length; i++)
        {
            bool spike = dv > 0 ? Escape(v[i] - thr[i], dv, ctx.NoiseKey, Offset + i) : v[i] > thr[i];
            z[i] = spike ? 1.0 : 0.0;
            if (spike) spikes[spikeCount++] = Offset + i;
        }
    }
}
