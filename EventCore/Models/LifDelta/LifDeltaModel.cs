using Sim.EventCore.Compilation;
using Sim.EventCore.Description;

namespace Sim.EventCore.Models;

/// <summary>
/// The LifDelta model unit (docs/models/lif_delta.md): LIF with delta synapses, NEST <c>iaf_psc_delta</c> order, in the
/// frame u = v − E_L. One tick, per neuron:
/// <code>
/// j ← (acc_e + acc_i)·2^-F                                     (Deliver: an exact integer sum, then one scaling)
/// a ← u·α_m;  [a ← drive·τ_m(1−α_m) + a];  a ← a + j            (Integrate)
/// if t − t_last ≥ n_ref: u ← a; if u &gt; θ_u (or escape noise): spike, u ← u_r, t_last ← t
/// (while refractory u is held and the jumps of the tick are discarded)
/// </code>
/// </summary>
public sealed class LifDeltaModel : NeuronModelDefinition<LifDeltaParameters, LifDeltaConstants>
{
    /// <summary>The one instance (registered in <see cref="ModelRegistry"/>).</summary>
    public static readonly LifDeltaModel Instance = new();

    private LifDeltaModel() { }

    /// <summary>Stored variable index of u.</summary>
    public const int U = 0;

    /// <inheritdoc/>
    public override string Name => "lif_delta";
    /// <inheritdoc/>
    public override string Summary => "LIF with delta synapses (NEST iaf_psc_delta)";

    /// <inheritdoc/>
    public override IReadOnlyList<StateVariable> StateVariables { get; } =
        [new("u_mv", "mV", "membrane potential relative to E_L (u = v − E_L)") { ReportedAs = "v_mv" }];

    /// <inheritdoc/>
    public override ReadOnlySpan<double> ReportOffset(ModelConstants constants, int variable)
        => variable == U ? ((LifDeltaConstants)constants).ELeakMv : default;

    /// <inheritdoc/>
    public override bool SupportsPrecise => true;

    internal override Precise.PrecisePopulation CreatePrecise(CompiledPopulation population, Precise.PreciseClock clock, double[][] initial, double[] drive, bool eager)
        => new LifDeltaPrecise(population, clock, initial, drive);

    /// <inheritdoc/>
    public override bool DistinguishesReceptors => false;

    /// <inheritdoc/>
    public override ConformanceHints Hints => new(CurrentAmplitude: 1.0);

    /// <inheritdoc/>
    protected override IEnumerable<(string Key, string Message)> Validate(LifDeltaParameters q)
    {
        if (q.VResetMv.IsConstant && q.VThresholdMv.IsConstant && q.VResetMv.Max >= q.VThresholdMv.Min)
            yield return ("v_reset_mv", $"must be below v_threshold_mv ({q.VThresholdMv})");
    }

    /// <inheritdoc/>
    protected override LifDeltaConstants Compile(LifDeltaParameters q, ModelCompileContext ctx)
    {
        int n = ctx.Size;
        double dt = ctx.DtMs;
        var c = new LifDeltaConstants(n);
        var tm = ctx.DrawPositive(q.TauMemMs, "tau_mem_ms");
        var el = ctx.Draw(q.ELeakMv, "e_leak_mv");
        var vt = ctx.Draw(q.VThresholdMv, "v_threshold_mv");
        var vr = ctx.Draw(q.VResetMv, "v_reset_mv");
        var ie = ctx.Draw(q.IExtMvPerMs, "i_ext_mv_per_ms");
        var rt = ctx.DrawTicks(q.RefractoryMs, "refractory_ms", out var rms);
        for (int i = 0; i < n; i++)
        {
            if (vr[i] >= vt[i]) throw ctx.Error("v_reset_mv", $"neuron {i}: v_reset {Value.Fmt(vr[i])} is not below v_threshold {Value.Fmt(vt[i])}");
            c.AlphaMem[i] = Math.Exp(-dt / tm[i]);
            c.DriveGain[i] = tm[i] * (1.0 - c.AlphaMem[i]);
            c.ThetaU[i] = vt[i] - el[i];
            c.ResetU[i] = vr[i] - el[i];
            c.ELeakMv[i] = el[i];
            c.Refractory[i] = rt[i];
        }
        tm.CopyTo(c.TauMemMs, 0); rms.CopyTo(c.RefractoryMs, 0);
        ctx.ConstantDrive = ie;
        c.Seal();
        return c;
    }

    /// <inheritdoc/>
    protected override void Initialise(CompiledPopulation p, LifDeltaParameters q, LifDeltaConstants c, ulong seed, int instance, double[][] state)
    {
        if (q.VInitMv is null) Array.Clear(state[U]);
        else InitialValues(p, seed, instance, q.VInitMv, "v_init_mv", state[U], c.ELeakMv);
    }

    internal override PopulationState CreateEventState(CompiledPopulation population, EventStateContext context) => new LifDeltaState(population);

    /// <inheritdoc/>
    public override T DenseStep<T>(IDenseKernel<T> k)
    {
        T j = k.Mul(k.Add(k.ExcInput, k.InhInput), k.WeightScale);
        T a = k.Mul(k.State(U), k.Constant(LifDeltaConstants.AlphaMemIndex));
        if (k.HasDrive) a = k.Add(k.Mul(k.Drive, k.Constant(LifDeltaConstants.DriveGainIndex)), a);
        a = k.Add(a, j);
        return k.ThresholdWithRefractoriness(a, U, k.Constant(LifDeltaConstants.ThetaIndex), k.Constant(LifDeltaConstants.ResetIndex));
    }

    /// <inheritdoc/>
    protected override bool ReferenceStep(LifDeltaConstants c, int i, in ReferenceInput input, Span<double> s, ref long lastSpike)
    {
        double jump = (input.Exc + input.Inh) * input.WeightScale;
        double a = s[U] * c.AlphaMem[i];
        if (input.HasDrive) a = input.Drive * c.DriveGain[i] + a;
        a = a + jump;
        if (input.Tick - lastSpike < c.Refractory[i]) return false;
        s[U] = a;
        if (!input.Fires(s[U] - c.ThetaU[i])) return false;
        s[U] = c.ResetU[i];
        lastSpike = input.Tick;
        return true;
    }

    /// <inheritdoc/>
    protected override LifDeltaParameters Sample(Random rng, double dtMs, bool mixed)
    {
        Value Tau(double v) => mixed ? Value.Uniform(v, v + 6) : v;
        return new LifDeltaParameters
        {
            TauMemMs = Tau(5 + rng.Next(20)), ELeakMv = -65, VThresholdMv = mixed ? Value.Uniform(-56, -52) : -55, VResetMv = -70,
            RefractoryMs = mixed ? Value.Uniform(0, 4 * dtMs) : rng.Next(4) * dtMs,
            VInitMv = Value.Uniform(-70, -54), IExtMvPerMs = rng.Next(2) == 0 ? 0.0 : 0.6,
        };
    }
}

/// <summary>Per-neuron constants of <see cref="LifDeltaParameters"/> (u = v − E_L; DriveGain = τ_m(1 − α_m)); τ_m and t_ref (ms) kept for the precise engine.</summary>
public sealed class LifDeltaConstants(int n) : ModelConstants(n)
{
    public readonly double[] AlphaMem = new double[n], DriveGain = new double[n];
    public readonly double[] ThetaU = new double[n], ResetU = new double[n], ELeakMv = new double[n];
    /// <summary>n_ref = round(t_ref/dt) per neuron.</summary>
    public readonly long[] Refractory = new long[n];
    /// <summary>τ_m and t_ref as drawn (ms).</summary>
    public readonly double[] TauMemMs = new double[n], RefractoryMs = new double[n];

    /// <summary>Indices of <see cref="DenseArrays"/>.</summary>
    public const int AlphaMemIndex = 0, DriveGainIndex = 1, ThetaIndex = 2, ResetIndex = 3;

    /// <inheritdoc/>
    public override IReadOnlyList<double[]> DenseArrays => [AlphaMem, DriveGain, ThetaU, ResetU];

    /// <inheritdoc/>
    public override long[] RefractoryTicks => Refractory;

    /// <summary>True when every neuron has the same θ and refractory ticks.</summary>
    public bool UniformThreshold { get; private set; }

    /// <summary>Sets the uniformity flag from the arrays (call once after filling them).</summary>
    public void Seal() => UniformThreshold = Uniformity.Same(ThetaU) && Uniformity.Same(Refractory);
}
