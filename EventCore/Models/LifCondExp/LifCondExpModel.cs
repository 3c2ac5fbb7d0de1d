using Sim.EventCore.Compilation;
using Sim.EventCore.Description;

namespace Sim.EventCore.Models;

/// <summary>
/// The LifCondExp model unit (docs/models/lif_cond_exp.md): conductance-based LIF with exponential synaptic
/// conductances (COBA), in the frame u = v − E_L with E_e' = E_e − E_L and E_i' = E_i − E_L. One tick, per neuron, each
/// line one IEEE operation after another (never fused):
/// <code>
/// g_e ← acc_e·2^-F + g_e;   x ← acc_i·2^-F;  g_i ← g_i − x                  (Deliver; acc_i ≤ 0, so g_i grows)
/// f ← E_e' − u;  f ← g_e·f;   y ← E_i' − u;  f ← g_i·y + f;  f ← f − u;  [f ← f + drive]
/// a ← f·(dt/τ_m) + u                                                        (Integrate: forward Euler)
/// g_e ← g_e·α_e;  g_i ← g_i·α_i                                             (exact decay)
/// if t − t_last ≥ n_ref: u ← a; if u &gt; θ_u (or escape noise): spike, u ← u_r, t_last ← t   (Threshold/Reset)
/// </code>
/// No closed form exists for the membrane with time-varying conductances, so the precise engine refuses the model.
/// </summary>
public sealed class LifCondExpModel : LifModelDefinition<LifCondExpParameters, LifCondExpConstants>
{
    /// <summary>The one instance (registered in <see cref="ModelRegistry"/>).</summary>
    public static readonly LifCondExpModel Instance = new();

    private LifCondExpModel() { }

    /// <summary>Stored variable indices of the conductances (u is <see cref="LifModelDefinition{TParameters, TConstants}.U"/>).</summary>
    public const int GExc = 1, GInh = 2;

    /// <inheritdoc/>
    public override string Name => "lif_cond_exp";
    /// <inheritdoc/>
    public override string Summary => "conductance-based LIF with exponential synaptic conductances, COBA (NEST iaf_cond_exp, conductances in units of g_L)";

    /// <inheritdoc/>
    public override IReadOnlyList<StateVariable> StateVariables { get; } =
    [
        Membrane,
        new("g_exc", "1", "excitatory conductance in units of the leak conductance"),
        new("g_inh", "1", "inhibitory conductance in units of the leak conductance"),
    ];

    /// <inheritdoc/>
    public override ConformanceHints Hints => new(WeightScale: 0.02);

    /// <inheritdoc/>
    protected override IEnumerable<(string Key, string Message)> ValidateModel(LifCondExpParameters q)
    {
        if (q.EInhMv.IsConstant && q.EExcMv.IsConstant && q.EInhMv.Max >= q.EExcMv.Min)
            yield return ("e_inh_mv", $"must be below e_exc_mv ({q.EExcMv})");
    }

    /// <inheritdoc/>
    protected override LifCondExpConstants Compile(LifCondExpParameters q, ModelCompileContext ctx)
    {
        int n = ctx.Size;
        double dt = ctx.DtMs;
        var c = new LifCondExpConstants(n);
        var tm = ctx.DrawPositive(q.TauMemMs, "tau_mem_ms");
        var te = ctx.DrawPositive(q.TauExcMs, "tau_exc_ms");
        var ti = ctx.DrawPositive(q.TauInhMs, "tau_inh_ms");
        var ee = ctx.Draw(q.EExcMv, "e_exc_mv");
        var ei = ctx.Draw(q.EInhMv, "e_inh_mv");
        var ie = ctx.Draw(q.IExtMv, "i_ext_mv");
        var el = CompileThreshold(q, ctx, c);
        for (int i = 0; i < n; i++)
        {
            // Forward Euler of the leak alone overshoots the fixed point once dt/τ_m ≥ 1 (and diverges at 2): refused.
            if (!(dt / tm[i] < 1))
                throw ctx.Error("tau_mem_ms", $"neuron {i}: τ_m = {Value.Fmt(tm[i])} ms is not above dt = {Value.Fmt(dt)} ms; the forward Euler membrane needs dt/τ_m < 1 (stable while dt·(1 + g_e + g_i)/τ_m < 2)");
            if (!(ei[i] < ee[i]))
                throw ctx.Error("e_inh_mv", $"neuron {i}: e_inh {Value.Fmt(ei[i])} mV is not below e_exc {Value.Fmt(ee[i])} mV");
            c.Step[i] = dt / tm[i];
            c.AlphaExc[i] = Math.Exp(-dt / te[i]);
            c.AlphaInh[i] = Math.Exp(-dt / ti[i]);
            c.EExcU[i] = ee[i] - el[i];
            c.EInhU[i] = ei[i] - el[i];
        }
        ctx.ConstantDrive = ie;
        c.Seal();
        return c;
    }

    /// <inheritdoc/>
    protected override void Initialise(CompiledPopulation p, LifCondExpParameters q, LifCondExpConstants c, ulong seed, int instance, double[][] state)
    {
        InitialMembrane(p, q, c, seed, instance, state[U]);
        InitialValues(p, seed, instance, q.GExcInit, "g_exc_init", state[GExc]);
        InitialValues(p, seed, instance, q.GInhInit, "g_inh_init", state[GInh]);
    }

    internal override PopulationState CreateEventState(CompiledPopulation population, EventStateContext context) => new LifCondExpState(population);

    /// <inheritdoc/>
    public override T DenseStep<T>(IDenseKernel<T> k)
    {
        k.Set(GExc, k.Add(k.Mul(k.ExcInput, k.WeightScale), k.State(GExc)));
        k.Set(GInh, k.Sub(k.State(GInh), k.Mul(k.InhInput, k.WeightScale)));
        T u = k.State(U);
        T f = k.Mul(k.State(GExc), k.Sub(k.Constant(LifCondExpConstants.EExcIndex), u));
        f = k.Add(k.Mul(k.State(GInh), k.Sub(k.Constant(LifCondExpConstants.EInhIndex), u)), f);
        f = k.Sub(f, u);
        if (k.HasDrive) f = k.Add(f, k.Drive);
        T a = k.Add(k.Mul(f, k.Constant(LifCondExpConstants.StepIndex)), u);
        k.Set(GExc, k.Mul(k.State(GExc), k.Constant(LifCondExpConstants.AlphaExcIndex)));
        k.Set(GInh, k.Mul(k.State(GInh), k.Constant(LifCondExpConstants.AlphaInhIndex)));
        return k.ThresholdWithRefractoriness(a, U, k.Constant(LifCondExpConstants.ThetaIndex), k.Constant(LifCondExpConstants.ResetIndex));
    }

    /// <inheritdoc/>
    protected override bool ReferenceStep(LifCondExpConstants c, int i, in ReferenceInput input, Span<double> s, ref long lastSpike)
    {
        s[GExc] = input.Exc * input.WeightScale + s[GExc];
        double x = input.Inh * input.WeightScale;
        s[GInh] = s[GInh] - x;
        double u = s[U];
        double f = s[GExc] * (c.EExcU[i] - u);
        f = s[GInh] * (c.EInhU[i] - u) + f;
        f = f - u;
        if (input.HasDrive) f = f + input.Drive;
        double a = f * c.Step[i] + u;
        s[GExc] = s[GExc] * c.AlphaExc[i];
        s[GInh] = s[GInh] * c.AlphaInh[i];
        return c.ReferenceThreshold(i, input, a, ref s[U], ref lastSpike);
    }

    /// <inheritdoc/>
    protected override LifCondExpParameters Sample(Random rng, double dtMs, bool mixed)
    {
        Value Tau(double v) => mixed ? Value.Uniform(v, v + 6) : v;
        return new LifCondExpParameters
        {
            TauMemMs = Tau(8 + rng.Next(20)), TauExcMs = Tau(1 + rng.Next(8)), TauInhMs = Tau(2 + rng.Next(10)),
            ELeakMv = -60, EExcMv = 0, EInhMv = mixed ? Value.Uniform(-85, -70) : -80,
            VThresholdMv = mixed ? Value.Uniform(-56, -50) : -55 + rng.Next(3), VResetMv = -62,
            RefractoryMs = mixed ? Value.Uniform(0, 4 * dtMs) : rng.Next(4) * dtMs,
            VInitMv = Value.Uniform(-66, -52), IExtMv = rng.Next(2) == 0 ? 0.0 : 12.0,
            GExcInit = Value.Uniform(0, 0.5), GInhInit = Value.Uniform(0, 1),
        };
    }
}

/// <summary>Per-neuron constants of <see cref="LifCondExpParameters"/> in the frame u = v − E_L.</summary>
public sealed class LifCondExpConstants(int n) : LifConstants(n)
{
    /// <summary>dt/τ_m, the Euler step.</summary>
    public readonly double[] Step = new double[n];
    /// <summary>α_e = e^{−dt/τ_e}, α_i = e^{−dt/τ_i}.</summary>
    public readonly double[] AlphaExc = new double[n], AlphaInh = new double[n];
    /// <summary>E_e − E_L and E_i − E_L (mV).</summary>
    public readonly double[] EExcU = new double[n], EInhU = new double[n];

    /// <summary>Indices of <see cref="DenseArrays"/>.</summary>
    public const int StepIndex = 0, AlphaExcIndex = 1, AlphaInhIndex = 2, EExcIndex = 3, EInhIndex = 4, ThetaIndex = 5, ResetIndex = 6;

    /// <inheritdoc/>
    public override IReadOnlyList<double[]> DenseArrays => [Step, AlphaExc, AlphaInh, EExcU, EInhU, ThetaU, ResetU];

    /// <summary>True when every neuron has the same integration constants (the event kernel then broadcasts them).</summary>
    public bool UniformIntegration { get; private set; }

    /// <inheritdoc/>
    public override void Seal()
    {
        base.Seal();
        UniformIntegration = Uniformity.Same(EExcU) && Uniformity.Same(EInhU) && Uniformity.Same(Step) && Uniformity.Same(AlphaExc) && Uniformity.Same(AlphaInh);
    }
}
