using System.Numerics.Tensors;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// GoalLif state (MODELS.md §1.3; Capone et al. 2022, authors' <c>lif.py</c>). One tick, Q = round to 2^-G (half even):
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
    public readonly double[] V, Z, Ej, In;
    private readonly double[] _globalHz, _globalRec;

    public GoalLifState(CompiledPopulation p, double[] globalHz, double[] globalRecInput) : base(p)
    {
        _c = (GoalLifConstants)p.Constants;
        _scale = FixedPoint.Scale(p.WeightFractionBits);
        V = new double[Size]; Z = new double[Size]; Ej = new double[Size]; In = new double[Size];
        _globalHz = globalHz;
        _globalRec = globalRecInput;
    }

    public Span<double> Hz => _globalHz.AsSpan(Offset, Size);
    private Span<double> Rec => _globalRec.AsSpan(Offset, Size);

    public override void Initialise(ulong seed, int instance)
    {
        var q = (GoalLifParameters)Population.Spec.Parameters;
        DrawInitial(q.VInit, "v_init", seed, instance, V);
        Array.Clear(Z); Array.Clear(Ej); Hz.Clear(); Rec.Clear();
    }

    public override void Deliver(double[] accExc, double[] accInh, int start)
        => SumScaleAndClear(accExc.AsSpan(start, Size), accInh.AsSpan(start, Size), _scale, In);

    public override void UpdateTraces()
    {
        var a = Scratch.AsSpan();
        var hz = Hz;
        TensorPrimitives.Multiply(Z, _c.OneMinusAlphaSyn, a);
        TensorPrimitives.MultiplyAdd(hz, _c.AlphaSyn, a, a);
        Quantize(a, hz);
        TensorPrimitives.Multiply(hz, _c.OneMinusAlphaMem, a);
        TensorPrimitives.MultiplyAdd(Ej, _c.AlphaMem, a, a);
        Quantize(a, Ej);
    }

    private void Quantize(ReadOnlySpan<double> x, Span<double> dest)
    {
        TensorPrimitives.Multiply(x, _c.TraceScale, dest);
        TensorPrimitives.Round(dest, MidpointRounding.ToEven, dest);
        TensorPrimitives.Multiply(dest, _c.TraceUnit, dest);
    }

    public override void Integrate(in TickContext ctx)
    {
        var c = In.AsSpan();
        TensorPrimitives.Add(c, Rec, c);
        TensorPrimitives.Add(c, _c.Bias, c);
        if (Population.HasDrive) TensorPrimitives.Add(c, Drive, c);
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

    public override double Read(int variable, int i) => variable switch
    {
        0 => V[i],
        1 => Z[i],
        2 => _globalHz[Offset + i],
        3 => Ej[i],
        _ => throw new ArgumentOutOfRangeException(nameof(variable)),
    };

    public override IEnumerable<(string Name, Memory<double> Values)> StateArrays() => [("v", V), ("z", Z), ("hz", _globalHz.AsMemory(Offset, Size)), ("ej", Ej)];
}
