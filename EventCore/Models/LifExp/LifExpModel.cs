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
public sealed class LifExpModel : LifModelDefinition<LifExpParameters, LifExpConstants>
{
    /// <summary>The one instance (registered in <see cref="ModelRegistry"/>).</summary>
    public static readonly LifExpModel Instance = new();

    private LifExpModel() { }

    /// <summary>Stored variable indices of the synaptic variables (u is <see cref="LifModelDefinition{TParameters, TConstants}.U"/>).</summary>
    public const int GExc = 1, GInh = 2;

    /// <inheritdoc/>
    public override string Name => "lif_exp";
    /// <inheritdoc/>
    public override string Summary => "current-based LIF with exponential synaptic currents, exact integration (NEST iaf_psc_exp)";

    /// <inheritdoc/>
    public override IReadOnlyList<StateVariable> StateVariables { get; } =
    [
        Membrane,
        new("g_exc_mv", "mV", "excitatory synaptic variable"),
        new("g_inh_mv", "mV", "inhibitory synaptic variable"),
    ];

    /// <inheritdoc/>
    public override bool SupportsPrecise => true;

    internal override Precise.PrecisePopulation CreatePrecise(CompiledPopulation population, Precise.PreciseClock clock, double[][] initial, double[] drive, bool eager)
        => new LifExpPrecise(population, clock, initial, drive, eager);

    /// <inheritdoc/>
    protected override LifExpConstants Compile(LifExpParameters q, ModelCompileContext ctx)
    {
        int n = ctx.Size;
        double dt = ctx.DtMs;
        var c = new LifExpConstants(n);
        var tm = ctx.DrawPositive(q.TauMemMs, "tau_mem_ms");
        var te = ctx.DrawPositive(q.TauExcMs, "tau_exc_ms");
        var ti = ctx.DrawPositive(q.TauInhMs, "tau_inh_ms");
        var ie = ctx.Draw(q.IExtMv, "i_ext_mv");
        CompileThreshold(q, ctx, c);
        for (int i = 0; i < n; i++)
        {
            c.AlphaMem[i] = Math.Exp(-dt / tm[i]);
            c.AlphaExc[i] = Math.Exp(-dt / te[i]);
            c.AlphaInh[i] = Math.Exp(-dt / ti[i]);
            c.PExc[i] = SynapticPropagator(dt, tm[i], te[i], c.AlphaMem[i], c.AlphaExc[i]);
            c.PInh[i] = SynapticPropagator(dt, tm[i], ti[i], c.AlphaMem[i], c.AlphaInh[i]);
            c.DriveGain[i] = 1.0 - c.AlphaMem[i];
        }
        tm.CopyTo(c.TauMemMs, 0); te.CopyTo(c.TauExcMs, 0); ti.CopyTo(c.TauInhMs, 0);
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
        InitialMembrane(p, q, c, seed, instance, state[U]);
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
        return c.ReferenceThreshold(i, input, a, ref s[U], ref lastSpike);
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
public sealed class LifExpConstants(int n) : LifConstants(n)
{
    /// <summary>α_x = e^{−dt/τ_x}; P_x the synaptic propagators; DriveGain = 1 − α_m.</summary>
    public readonly double[] AlphaMem = new double[n], AlphaExc = new double[n], AlphaInh = new double[n];
    /// <summary>See <see cref="AlphaMem"/>.</summary>
    public readonly double[] PExc = new double[n], PInh = new double[n], DriveGain = new double[n];
    /// <summary>τ_m, τ_e and τ_i as drawn (ms), for continuous-time propagation.</summary>
    public readonly double[] TauMemMs = new double[n], TauExcMs = new double[n], TauInhMs = new double[n];

    /// <summary>Indices of <see cref="DenseArrays"/>.</summary>
    public const int AlphaMemIndex = 0, PExcIndex = 1, PInhIndex = 2, DriveGainIndex = 3, AlphaExcIndex = 4, AlphaInhIndex = 5, ThetaIndex = 6, ResetIndex = 7;

    /// <inheritdoc/>
    public override IReadOnlyList<double[]> DenseArrays => [AlphaMem, PExc, PInh, DriveGain, AlphaExc, AlphaInh, ThetaU, ResetU];

    /// <summary>True when every neuron has the same propagators (kernels then broadcast scalars instead of loading arrays).</summary>
    public bool UniformPropagators { get; private set; }

    /// <inheritdoc/>
    public override void Seal()
    {
        base.Seal();
        UniformPropagators = Uniformity.Same(AlphaMem) && Uniformity.Same(AlphaExc) && Uniformity.Same(AlphaInh)
            && Uniformity.Same(PExc) && Uniformity.Same(PInh) && Uniformity.Same(DriveGain);
    }
}

/// <summary>Whether a per-neuron constant is the same for every neuron (bitwise).</summary>
internal static class Uniformity
{
    public static bool Same(double[] a) => a.Length == 0 || Array.TrueForAll(a, x => x.Equals(a[0]));
    public static bool Same(long[] a) => a.Length == 0 || Array.TrueForAll(a, x => x == a[0]);
}
