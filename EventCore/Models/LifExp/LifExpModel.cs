using Sim.EventCore.Compilation;
using Sim.EventCore.Description;

namespace Sim.EventCore.Models;

/// <summary>
/// The LifExp model unit (docs/models/lif_exp.md): current-based LIF with exponential synaptic currents, integrated
/// exactly (NEST <c>iaf_psc_exp</c>, Brian2 <c>method='exact'</c>), in the frame u = v − E_L. One tick, per neuron:
/// <code>
/// g_e ← acc_e·2^-F + g_e;  g_i ← acc_i·2^-F + g_i                          (Deliver)
/// a ← u·α_m;  a ← g_e·P_e + a;  a ← g_i·P_i + a;  [a ← drive·(1−α_m) + a]     (Integrate)
/// g_e ← g_e·α_e;  g_i ← g_i·α_i
/// if t − t_last ≥ n_ref: u ← a; if u &gt; θ_u (or escape noise): spike, u ← u_r, t_last ← t   (Threshold/Reset)
/// </code>
/// </summary>
public sealed class LifExpModel : NeuronModelDefinition<LifExpParameters, LifExpConstants>
{
    /// <summary>The one instance (registered in <see cref="ModelRegistry"/>).</summary>
    public static readonly LifExpModel Instance = new();

    private LifExpModel() { }

    /// <summary>Stored variable indices.</summary>
    public const int U = 0, GExc = 1, GInh = 2;

    /// <inheritdoc/>
    public override string Name => "lif_exp";
    /// <inheritdoc/>
    public override string Summary => "current-based LIF with exponential synaptic currents, exact integration (NEST iaf_psc_exp)";

    /// <inheritdoc/>
    public override IReadOnlyList<StateVariable> StateVariables { get; } =
    [
        new("u_mv", "mV", "membrane potential relative to E_L (u = v − E_L)") { ReportedAs = "v_mv" },
        new("g_exc_mv", "mV", "excitatory synaptic variable"),
        new("g_inh_mv", "mV", "inhibitory synaptic variable"),
    ];

    /// <inheritdoc/>
    public override ReadOnlySpan<double> ReportOffset(ModelConstants constants, int variable)
        => variable == U ? ((LifExpConstants)constants).ELeakMv : default;

    /// <inheritdoc/>
    public override bool SupportsPrecise => true;

    internal override Precise.PrecisePopulation CreatePrecise(CompiledPopulation population, Precise.PreciseClock clock, double[][] initial, double[] drive, bool eager)
        => new LifExpPrecise(population, clock, initial, drive, eager);

    /// <inheritdoc/>
    protected override IEnumerable<(string Key, string Message)> Validate(LifExpParameters q)
    {
        if (q.VResetMv.IsConstant && q.VThresholdMv.IsConstant && q.VResetMv.Max >= q.VThresholdMv.Min)
            yield return ("v_reset_mv", $"must be below v_threshold_mv ({q.VThresholdMv})");
    }

    /// <inheritdoc/>
    protected override LifExpConstants Compile(LifExpParameters q, ModelCompileContext ctx)
    {
        int n = ctx.Size;
        double dt = ctx.DtMs;
        var c = new LifExpConstants(n);
        var tm = ctx.DrawPositive(q.TauMemMs, "tau_mem_ms");
        var te = ctx.DrawPositive(q.TauExcMs, "tau_exc_ms");
        var ti = ctx.DrawPositive(q.TauInhMs, "tau_inh_ms");
        var el = ctx.Draw(q.ELeakMv, "e_leak_mv");
        var vt = ctx.Draw(q.VThresholdMv, "v_threshold_mv");
        var vr = ctx.Draw(q.VResetMv, "v_reset_mv");
        var ie = ctx.Draw(q.IExtMv, "i_ext_mv");
        var rt = ctx.DrawTicks(q.RefractoryMs, "refractory_ms", out var rms);
        for (int i = 0; i < n; i++)
        {
            if (vr[i] >= vt[i]) throw ctx.Error("v_reset_mv", $"neuron {i}: v_reset {Value.Fmt(vr[i])} is not below v_threshold {Value.Fmt(vt[i])}");
            c.AlphaMem[i] = Math.Exp(-dt / tm[i]);
            c.AlphaExc[i] = Math.Exp(-dt / te[i]);
            c.AlphaInh[i] = Math.Exp(-dt / ti[i]);
            c.PExc[i] = SynapticPropagator(dt, tm[i], te[i], c.AlphaMem[i], c.AlphaExc[i]);
            c.PInh[i] = SynapticPropagator(dt, tm[i], ti[i], c.AlphaMem[i], c.AlphaInh[i]);
            c.DriveGain[i] = 1.0 - c.AlphaMem[i];
            c.ThetaU[i] = vt[i] - el[i];
            c.ResetU[i] = vr[i] - el[i];
            c.ELeakMv[i] = el[i];
            c.Refractory[i] = rt[i];
        }
        tm.CopyTo(c.TauMemMs, 0); te.CopyTo(c.TauExcMs, 0); ti.CopyTo(c.TauInhMs, 0); rms.CopyTo(c.RefractoryMs, 0);
        ctx.ConstantDrive = ie;
        c.Seal();
        return c;
    }

    /// <summary>P_x = τ_x/(τ_x − τ_m)·(α_x − α_m), or its limit h/τ_m·α_m when τ_x = τ_m.</summary>
    public static double SynapticPropagator(double dt, double tauMem, double tauSyn, double alphaMem, double alphaSyn)
        => tauSyn == tauMem ? dt / tauMem * alphaMem : tauSyn / (tauSyn - tauMem) * (alphaSyn - alphaMem);

    /// <inheritdoc/>
    protected override void Initialise(CompiledPopulation p, LifExpParameters q, LifExpConstants c, ulong seed, int instance, double[][] state)
    {
        if (q.VInitMv is null) Array.Clear(state[U]);
        else InitialValues(p, seed, instance, q.VInitMv, "v_init_mv", state[U], c.ELeakMv);
        InitialValues(p, seed, instance, q.GExcInitMv, "g_exc_init_mv", state[GExc]);
        InitialValues(p, seed, instance, q.GInhInitMv, "g_inh_init_mv", state[GInh]);
    }

    internal override PopulationState CreateEventState(CompiledPopulation population, EventStateContext context) => new LifExpState(population);

    /// <inheritdoc/>
    public override T DenseStep<T>(IDenseKernel<T> k)
    {
        k.Set(GExc, k.Add(k.Mul(k.ExcInput, k.WeightScale), k.State(GExc)));
        k.Set(GInh, k.Add(k.Mul(k.InhInput, k.WeightScale), k.State(GInh)));
        T a = k.Mul(k.State(U), k.Constant(LifExpConstants.AlphaMemIndex));
        a = k.Add(k.Mul(k.State(GExc), k.Constant(LifExpConstants.PExcIndex)), a);
        a = k.Add(k.Mul(k.State(GInh), k.Constant(LifExpConstants.PInhIndex)), a);
        if (k.HasDrive) a = k.Add(k.Mul(k.Drive, k.Constant(LifExpConstants.DriveGainIndex)), a);
        k.Set(GExc, k.Mul(k.State(GExc), k.Constant(LifExpConstants.AlphaExcIndex)));
        k.Set(GInh, k.Mul(k.State(GInh), k.Constant(LifExpConstants.AlphaInhIndex)));
        return k.ThresholdWithRefractoriness(a, U, k.Constant(LifExpConstants.ThetaIndex), k.Constant(LifExpConstants.ResetIndex));
    }

    /// <inheritdoc/>
    protected override bool ReferenceStep(LifExpConstants c, int i, in ReferenceInput input, Span<double> s, ref long lastSpike)
    {
        s[GExc] = input.Exc * input.WeightScale + s[GExc];
        s[GInh] = input.Inh * input.WeightScale + s[GInh];
        double a = s[U] * c.AlphaMem[i];
        a = s[GExc] * c.PExc[i] + a;
        a = s[GInh] * c.PInh[i] + a;
        if (input.HasDrive) a = input.Drive * c.DriveGain[i] + a;
        s[GExc] = s[GExc] * c.AlphaExc[i];
        s[GInh] = s[GInh] * c.AlphaInh[i];
        if (input.Tick - lastSpike < c.Refractory[i]) return false;
        s[U] = a;
        if (!input.Fires(s[U] - c.ThetaU[i])) return false;
        s[U] = c.ResetU[i];
        lastSpike = input.Tick;
        return true;
    }

    /// <inheritdoc/>
    protected override LifExpParameters Sample(Random rng, double dtMs, bool mixed)
    {
        Value Tau(double v) => mixed ? Value.Uniform(v, v + 6) : v;
        return new LifExpParameters
        {
            TauMemMs = Tau(5 + rng.Next(20)), TauExcMs = rng.Next(3) == 0 ? 10.0 : Tau(1 + rng.Next(8)), TauInhMs = Tau(2 + rng.Next(10)),
            ELeakMv = -65, VThresholdMv = mixed ? Value.Uniform(-56, -52) : -55 + rng.Next(3), VResetMv = -70,
            RefractoryMs = mixed ? Value.Uniform(0, 4 * dtMs) : rng.Next(4) * dtMs,
            VInitMv = Value.Uniform(-70, -54), IExtMv = rng.Next(2) == 0 ? 0.0 : 12.0,
        };
    }
}

/// <summary>
/// Per-neuron constants of <see cref="LifExpParameters"/>, in the shifted frame u = v − E_L (so the resting state
/// u = g = 0 is an exact fixed point). The continuous parameters (τ in ms, t_ref in ms) are kept for the precise engine.
/// </summary>
public sealed class LifExpConstants(int n) : ModelConstants(n)
{
    public readonly double[] AlphaMem = new double[n], AlphaExc = new double[n], AlphaInh = new double[n];
    public readonly double[] PExc = new double[n], PInh = new double[n], DriveGain = new double[n];
    public readonly double[] ThetaU = new double[n], ResetU = new double[n], ELeakMv = new double[n];
    /// <summary>n_ref = round(t_ref/dt) per neuron.</summary>
    public readonly long[] Refractory = new long[n];
    /// <summary>τ_m, τ_e, τ_i and t_ref as drawn (ms), for continuous-time propagation.</summary>
    public readonly double[] TauMemMs = new double[n], TauExcMs = new double[n], TauInhMs = new double[n], RefractoryMs = new double[n];

    /// <summary>Indices of <see cref="DenseArrays"/>.</summary>
    public const int AlphaMemIndex = 0, PExcIndex = 1, PInhIndex = 2, DriveGainIndex = 3, AlphaExcIndex = 4, AlphaInhIndex = 5, ThetaIndex = 6, ResetIndex = 7;

    /// <inheritdoc/>
    public override IReadOnlyList<double[]> DenseArrays => [AlphaMem, PExc, PInh, DriveGain, AlphaExc, AlphaInh, ThetaU, ResetU];

    /// <inheritdoc/>
    public override long[] RefractoryTicks => Refractory;

    /// <summary>True when every neuron has the same propagators (kernels then broadcast scalars instead of loading arrays).</summary>
    public bool UniformPropagators { get; private set; }

    /// <summary>True when every neuron has the same θ and refractory ticks.</summary>
    public bool UniformThreshold { get; private set; }

    /// <summary>Sets the uniformity flags from the arrays (call once after filling them).</summary>
    public void Seal()
    {
        UniformPropagators = Uniformity.Same(AlphaMem) && Uniformity.Same(AlphaExc) && Uniformity.Same(AlphaInh)
            && Uniformity.Same(PExc) && Uniformity.Same(PInh) && Uniformity.Same(DriveGain);
        UniformThreshold = Uniformity.Same(ThetaU) && Uniformity.Same(Refractory);
    }
}

/// <summary>Whether a per-neuron constant is the same for every neuron (bitwise).</summary>
internal static class Uniformity
{
    public static bool Same(double[] a) => a.Length == 0 || Array.TrueForAll(a, x => x.Equals(a[0]));
    public static bool Same(long[] a) => a.Length == 0 || Array.TrueForAll(a, x => x == a[0]);
}
