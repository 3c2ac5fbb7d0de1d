using Sim.EventCore.Compilation;
using Sim.EventCore.Description;

namespace Sim.EventCore.Models;

/// <summary>
/// The parameters every LIF model of the registry has in mV and ms (docs/models/README.md): leak reversal E_L,
/// threshold V_t, reset V_r, refractory period t_ref, and an optional initial potential.
/// </summary>
public interface ILifParameters
{
    /// <summary>Leak reversal E_L (mV): the origin of the frame u = v − E_L.</summary>
    Value ELeakMv { get; }
    /// <summary>Threshold V_t (mV); a spike needs v &gt; V_t.</summary>
    Value VThresholdMv { get; }
    /// <summary>Reset V_r (mV), below V_t.</summary>
    Value VResetMv { get; }
    /// <summary>Refractory period t_ref (ms), rounded to whole ticks.</summary>
    Value RefractoryMs { get; }
    /// <summary>Initial membrane potential (mV); null means E_L.</summary>
    Value? VInitMv { get; }
}

/// <summary>
/// The per-neuron constants every LIF model shares, in the frame u = v − E_L: θ_u = V_t − E_L, u_r = V_r − E_L, E_L
/// itself (to report v = u + E_L), n_ref = round(t_ref/dt) and t_ref as drawn (ms, for continuous-time propagation).
/// </summary>
public abstract class LifConstants(int n) : ModelConstants(n)
{
    /// <summary>θ_u = V_t − E_L, u_r = V_r − E_L and E_L (mV).</summary>
    public readonly double[] ThetaU = new double[n], ResetU = new double[n], ELeakMv = new double[n];
    /// <summary>n_ref = round(t_ref/dt) per neuron.</summary>
    public readonly long[] Refractory = new long[n];
    /// <summary>t_ref as drawn (ms).</summary>
    public readonly double[] RefractoryMs = new double[n];

    /// <inheritdoc/>
    public override long[] RefractoryTicks => Refractory;

    /// <summary>True when every neuron has the same θ and refractory ticks (the threshold kernel then broadcasts them).</summary>
    public bool UniformThreshold { get; private set; }

    /// <summary>Sets the uniformity flags from the filled arrays; a model with more flags extends it.</summary>
    public virtual void Seal() => UniformThreshold = Uniformity.Same(ThetaU) && Uniformity.Same(Refractory);

    /// <summary>
    /// The reference form of the threshold step shared by the LIF models (what <see cref="ThresholdKernel"/> computes):
    /// while refractory (t − t_last &lt; n_ref) u is held; otherwise u ← a, and u &gt; θ_u (or the escape-noise draw)
    /// fires: u ← u_r, t_last ← t. Returns whether neuron <paramref name="i"/> spiked.
    /// </summary>
    public bool ReferenceThreshold(int i, in ReferenceInput input, double a, ref double u, ref long lastSpike)
    {
        if (input.Tick - lastSpike < Refractory[i]) return false;
        u = a;
        if (!input.Fires(u - ThetaU[i])) return false;
        u = ResetU[i];
        lastSpike = input.Tick;
        return true;
    }
}

/// <summary>
/// A LIF model: a <see cref="NeuronModelDefinition{TParameters, TConstants}"/> whose first stored variable is the
/// membrane potential in the frame u = v − E_L (reported as <c>v_mv</c>), with the validation, the threshold constants
/// and the initial potential every LIF model computes the same way. A model adds its own parameters, constants,
/// kernels and reference step.
/// </summary>
public abstract class LifModelDefinition<TParameters, TConstants> : NeuronModelDefinition<TParameters, TConstants>
    where TParameters : NeuronParameters, ILifParameters, new()
    where TConstants : LifConstants
{
    /// <summary>Stored variable index of u = v − E_L.</summary>
    public const int U = 0;

    /// <summary>The membrane variable u_mv, reported as v_mv (= u + E_L).</summary>
    protected static StateVariable Membrane => new("u_mv", "mV", "membrane potential relative to E_L (u = v − E_L)") { ReportedAs = "v_mv" };

    /// <inheritdoc/>
    public sealed override ReadOnlySpan<double> ReportOffset(ModelConstants constants, int variable)
        => variable == U ? ((TConstants)constants).ELeakMv : default;

    /// <inheritdoc/>
    protected sealed override IEnumerable<(string Key, string Message)> Validate(TParameters q)
    {
        if (q.VResetMv.IsConstant && q.VThresholdMv.IsConstant && q.VResetMv.Max >= q.VThresholdMv.Min)
            yield return ("v_reset_mv", $"must be below v_threshold_mv ({q.VThresholdMv})");
        foreach (var e in ValidateModel(q)) yield return e;
    }

    /// <summary>Checks beyond the reset-below-threshold one (file keys and messages).</summary>
    protected virtual IEnumerable<(string Key, string Message)> ValidateModel(TParameters q) => [];

    /// <summary>
    /// Draws E_L, V_t, V_r and t_ref per neuron and fills the shared constants of <paramref name="c"/>, refusing a
    /// neuron whose reset is not below its threshold; returns E_L (mV) for the model's own frame shifts.
    /// </summary>
    protected static double[] CompileThreshold(TParameters q, ModelCompileContext ctx, TConstants c)
    {
        var el = ctx.Draw(q.ELeakMv, "e_leak_mv");
        var vt = ctx.Draw(q.VThresholdMv, "v_threshold_mv");
        var vr = ctx.Draw(q.VResetMv, "v_reset_mv");
        var rt = ctx.DrawTicks(q.RefractoryMs, "refractory_ms", out var rms);
        for (int i = 0; i < el.Length; i++)
        {
            if (vr[i] >= vt[i]) throw ctx.Error("v_reset_mv", $"neuron {i}: v_reset {Value.Fmt(vr[i])} is not below v_threshold {Value.Fmt(vt[i])}");
            c.ThetaU[i] = vt[i] - el[i];
            c.ResetU[i] = vr[i] - el[i];
            c.ELeakMv[i] = el[i];
            c.Refractory[i] = rt[i];
        }
        rms.CopyTo(c.RefractoryMs, 0);
        return el;
    }

    /// <summary>The initial u of one instance: v_init − E_L per neuron, or 0 (v = E_L) when v_init is not given.</summary>
    protected static void InitialMembrane(CompiledPopulation p, TParameters q, TConstants c, ulong seed, int instance, double[] u)
    {
        if (q.VInitMv is null) Array.Clear(u);
        else InitialValues(p, seed, instance, q.VInitMv, "v_init_mv", u, c.ELeakMv);
    }
}
