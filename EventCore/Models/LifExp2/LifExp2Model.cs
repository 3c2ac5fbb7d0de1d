using Sim.EventCore.Compilation;
using Sim.EventCore.Description;

namespace Sim.EventCore.Models;

/// <summary>
/// The LifExp2 model unit (docs/models/lif_exp2.md): current-based LIF with double-exponential synaptic currents
/// I_x = d_x − r_x, integrated exactly in the frame u = v − E_L (the linear system's propagators, LifExp's P for each
/// exponential). One tick, per neuron, each line one IEEE operation after another (never fused):
/// <code>
/// x ← acc_e·2^-F; x ← x·N_e; d_e ← x + d_e; r_e ← x + r_e;   y ← acc_i·2^-F; y ← y·N_i; d_i ← y + d_i; r_i ← y + r_i   (Deliver)
/// a ← u·α_m; a ← d_e·P_de + a; a ← r_e·(−P_re) + a; a ← d_i·P_di + a; a ← r_i·(−P_ri) + a; [a ← drive·(1−α_m) + a]   (Integrate)
/// d_e ← d_e·α_de; r_e ← r_e·α_re; d_i ← d_i·α_di; r_i ← r_i·α_ri
/// if t − t_last ≥ n_ref: u ← a; if u &gt; θ_u (or escape noise): spike, u ← u_r, t_last ← t                      (Threshold/Reset)
/// </code>
/// P_x = τ_x/(τ_x − τ_m)·(α_x − α_m) (h/τ_m·α_m when τ_x = τ_m). The precise engine refuses the model: its crossing
/// search would need a bracket for a sum of four exponentials, which is not written (the grid integration is exact).
/// </summary>
public sealed class LifExp2Model : LifModelDefinition<LifExp2Parameters, LifExp2Constants>
{
    /// <summary>The one instance (registered in <see cref="ModelRegistry"/>).</summary>
    public static readonly LifExp2Model Instance = new();

    private LifExp2Model() { }

    /// <summary>Stored variable indices of the synaptic variables (u is <see cref="LifModelDefinition{TParameters, TConstants}.U"/>).</summary>
    public const int DExc = 1, RExc = 2, DInh = 3, RInh = 4;

    /// <inheritdoc/>
    public override string Name => "lif_exp2";
    /// <inheritdoc/>
    public override string Summary => "current-based LIF with double-exponential synaptic currents (rise and decay per receptor, peak = w), exact integration";

    /// <inheritdoc/>
    public override IReadOnlyList<StateVariable> StateVariables { get; } =
    [
        Membrane,
        new("d_exc_mv", "mV", "excitatory decay component (I_e = d_e − r_e)"),
        new("r_exc_mv", "mV", "excitatory rise component"),
        new("d_inh_mv", "mV", "inhibitory decay component (I_i = d_i − r_i)"),
        new("r_inh_mv", "mV", "inhibitory rise component"),
    ];

    /// <inheritdoc/>
    protected override IEnumerable<(string Key, string Message)> ValidateModel(LifExp2Parameters q)
    {
        if (q.TauRiseExcMs.IsConstant && q.TauDecayExcMs.IsConstant && q.TauRiseExcMs.Max >= q.TauDecayExcMs.Min)
            yield return ("tau_rise_exc_ms", $"must be below tau_decay_exc_ms ({q.TauDecayExcMs})");
        if (q.TauRiseInhMs.IsConstant && q.TauDecayInhMs.IsConstant && q.TauRiseInhMs.Max >= q.TauDecayInhMs.Min)
            yield return ("tau_rise_inh_ms", $"must be below tau_decay_inh_ms ({q.TauDecayInhMs})");
    }

    /// <inheritdoc/>
    protected override LifExp2Constants Compile(LifExp2Parameters q, ModelCompileContext ctx)
    {
        int n = ctx.Size;
        double dt = ctx.DtMs;
        var c = new LifExp2Constants(n);
        var tm = ctx.DrawPositive(q.TauMemMs, "tau_mem_ms");
        var tre = ctx.DrawPositive(q.TauRiseExcMs, "tau_rise_exc_ms");
        var tde = ctx.DrawPositive(q.TauDecayExcMs, "tau_decay_exc_ms");
        var tri = ctx.DrawPositive(q.TauRiseInhMs, "tau_rise_inh_ms");
        var tdi = ctx.DrawPositive(q.TauDecayInhMs, "tau_decay_inh_ms");
        var ie = ctx.Draw(q.IExtMv, "i_ext_mv");
        CompileThreshold(q, ctx, c);
        for (int i = 0; i < n; i++)
        {
            if (!(tre[i] < tde[i])) throw ctx.Error("tau_rise_exc_ms", $"neuron {i}: rise {Value.Fmt(tre[i])} ms is not below decay {Value.Fmt(tde[i])} ms");
            if (!(tri[i] < tdi[i])) throw ctx.Error("tau_rise_inh_ms", $"neuron {i}: rise {Value.Fmt(tri[i])} ms is not below decay {Value.Fmt(tdi[i])} ms");
            double am = Math.Exp(-dt / tm[i]);
            c.AlphaMem[i] = am;
            c.DriveGain[i] = 1.0 - am;
            c.NormExc[i] = PeakNormalisation(tre[i], tde[i]);
            c.NormInh[i] = PeakNormalisation(tri[i], tdi[i]);
            c.AlphaDExc[i] = Math.Exp(-dt / tde[i]);
            c.AlphaRExc[i] = Math.Exp(-dt / tre[i]);
            c.AlphaDInh[i] = Math.Exp(-dt / tdi[i]);
            c.AlphaRInh[i] = Math.Exp(-dt / tri[i]);
            c.PDExc[i] = LifExpModel.SynapticPropagator(dt, tm[i], tde[i], am, c.AlphaDExc[i]);
            c.NegPRExc[i] = -LifExpModel.SynapticPropagator(dt, tm[i], tre[i], am, c.AlphaRExc[i]);
            c.PDInh[i] = LifExpModel.SynapticPropagator(dt, tm[i], tdi[i], am, c.AlphaDInh[i]);
            c.NegPRInh[i] = -LifExpModel.SynapticPropagator(dt, tm[i], tri[i], am, c.AlphaRInh[i]);
        }
        ctx.ConstantDrive = ie;
        c.Seal();
        return c;
    }

    /// <summary>N = 1/(e^{−t_p/τ_d} − e^{−t_p/τ_r}) with the peak time t_p = τ_d·τ_r/(τ_d − τ_r)·ln(τ_d/τ_r): the PSC peaks at w.</summary>
    public static double PeakNormalisation(double tauRise, double tauDecay)
    {
        double tp = tauDecay * tauRise / (tauDecay - tauRise) * Math.Log(tauDecay / tauRise);
        return 1.0 / (Math.Exp(-tp / tauDecay) - Math.Exp(-tp / tauRise));
    }

    /// <inheritdoc/>
    protected override void Initialise(CompiledPopulation p, LifExp2Parameters q, LifExp2Constants c, ulong seed, int instance, double[][] state)
    {
        InitialMembrane(p, q, c, seed, instance, state[U]);
        for (int k = DExc; k <= RInh; k++) Array.Clear(state[k]);
    }

    internal override PopulationState CreateEventState(CompiledPopulation population, EventStateContext context) => new LifExp2State(population);

    /// <inheritdoc/>
    public override T DenseStep<T>(IDenseKernel<T> k)
    {
        T x = k.Mul(k.Mul(k.ExcInput, k.WeightScale), k.Constant(LifExp2Constants.NormExcIndex));
        k.Set(DExc, k.Add(x, k.State(DExc)));
        k.Set(RExc, k.Add(x, k.State(RExc)));
        T y = k.Mul(k.Mul(k.InhInput, k.WeightScale), k.Constant(LifExp2Constants.NormInhIndex));
        k.Set(DInh, k.Add(y, k.State(DInh)));
        k.Set(RInh, k.Add(y, k.State(RInh)));
        T a = k.Mul(k.State(U), k.Constant(LifExp2Constants.AlphaMemIndex));
        a = k.Add(k.Mul(k.State(DExc), k.Constant(LifExp2Constants.PDExcIndex)), a);
        a = k.Add(k.Mul(k.State(RExc), k.Constant(LifExp2Constants.NegPRExcIndex)), a);
        a = k.Add(k.Mul(k.State(DInh), k.Constant(LifExp2Constants.PDInhIndex)), a);
        a = k.Add(k.Mul(k.State(RInh), k.Constant(LifExp2Constants.NegPRInhIndex)), a);
        if (k.HasDrive) a = k.Add(k.Mul(k.Drive, k.Constant(LifExp2Constants.DriveGainIndex)), a);
        k.Set(DExc, k.Mul(k.State(DExc), k.Constant(LifExp2Constants.AlphaDExcIndex)));
        k.Set(RExc, k.Mul(k.State(RExc), k.Constant(LifExp2Constants.AlphaRExcIndex)));
        k.Set(DInh, k.Mul(k.State(DInh), k.Constant(LifExp2Constants.AlphaDInhIndex)));
        k.Set(RInh, k.Mul(k.State(RInh), k.Constant(LifExp2Constants.AlphaRInhIndex)));
        return k.ThresholdWithRefractoriness(a, U, k.Constant(LifExp2Constants.ThetaIndex), k.Constant(LifExp2Constants.ResetIndex));
    }

    /// <summary>Deliver and Integrate of one neuron (the class comment's first three lines); returns the candidate a. Shared by the event kernel and the reference.</summary>
    internal static double Step(LifExp2Constants c, int i, double exc, double inh, double scale, bool hasDrive, double drive, double u, Span<double> s)
    {
        double x = exc * scale;
        x = x * c.NormExc[i];
        s[0] = x + s[0];
        s[1] = x + s[1];
        double y = inh * scale;
        y = y * c.NormInh[i];
        s[2] = y + s[2];
        s[3] = y + s[3];
        double a = u * c.AlphaMem[i];
        a = s[0] * c.PDExc[i] + a;
        a = s[1] * c.NegPRExc[i] + a;
        a = s[2] * c.PDInh[i] + a;
        a = s[3] * c.NegPRInh[i] + a;
        if (hasDrive) a = drive * c.DriveGain[i] + a;
        s[0] = s[0] * c.AlphaDExc[i];
        s[1] = s[1] * c.AlphaRExc[i];
        s[2] = s[2] * c.AlphaDInh[i];
        s[3] = s[3] * c.AlphaRInh[i];
        return a;
    }

    /// <inheritdoc/>
    protected override bool ReferenceStep(LifExp2Constants c, int i, in ReferenceInput input, Span<double> s, ref long lastSpike)
    {
        double a = Step(c, i, input.Exc, input.Inh, input.WeightScale, input.HasDrive, input.Drive, s[U], s[DExc..(RInh + 1)]);
        return c.ReferenceThreshold(i, input, a, ref s[U], ref lastSpike);
    }

    /// <inheritdoc/>
    protected override LifExp2Parameters Sample(Random rng, double dtMs, bool mixed)
    {
        Value Tau(double v) => mixed ? Value.Uniform(v, v + 6) : v;
        double re = 0.5 + rng.Next(3), ri = 0.5 + rng.Next(3);
        return new LifExp2Parameters
        {
            TauMemMs = Tau(5 + rng.Next(20)), TauRiseExcMs = mixed ? Value.Uniform(0.3, re) : re, TauDecayExcMs = rng.Next(3) == 0 ? 10.0 : Tau(re + 1 + rng.Next(8)),
            TauRiseInhMs = mixed ? Value.Uniform(0.3, ri) : ri, TauDecayInhMs = Tau(ri + 2 + rng.Next(10)),
            ELeakMv = -65, VThresholdMv = mixed ? Value.Uniform(-56, -52) : -55 + rng.Next(3), VResetMv = -70,
            RefractoryMs = mixed ? Value.Uniform(0, 4 * dtMs) : rng.Next(4) * dtMs,
            VInitMv = Value.Uniform(-70, -54), IExtMv = rng.Next(2) == 0 ? 0.0 : 12.0,
        };
    }
}

/// <summary>Per-neuron constants of <see cref="LifExp2Parameters"/> in the frame u = v − E_L.</summary>
public sealed class LifExp2Constants(int n) : LifConstants(n)
{
    /// <summary>α_m = e^{−dt/τ_m} and the drive gain 1 − α_m.</summary>
    public readonly double[] AlphaMem = new double[n], DriveGain = new double[n];
    /// <summary>The peak normalisations N_e, N_i.</summary>
    public readonly double[] NormExc = new double[n], NormInh = new double[n];
    /// <summary>Decay factors of d_e, r_e, d_i, r_i.</summary>
    public readonly double[] AlphaDExc = new double[n], AlphaRExc = new double[n], AlphaDInh = new double[n], AlphaRInh = new double[n];
    /// <summary>Membrane propagators P_de, −P_re, P_di, −P_ri.</summary>
    public readonly double[] PDExc = new double[n], NegPRExc = new double[n], PDInh = new double[n], NegPRInh = new double[n];

    /// <summary>Indices of <see cref="DenseArrays"/>.</summary>
    public const int AlphaMemIndex = 0, DriveGainIndex = 1, NormExcIndex = 2, NormInhIndex = 3, AlphaDExcIndex = 4, AlphaRExcIndex = 5,
        AlphaDInhIndex = 6, AlphaRInhIndex = 7, PDExcIndex = 8, NegPRExcIndex = 9, PDInhIndex = 10, NegPRInhIndex = 11, ThetaIndex = 12, ResetIndex = 13;

    /// <inheritdoc/>
    public override IReadOnlyList<double[]> DenseArrays =>
        [AlphaMem, DriveGain, NormExc, NormInh, AlphaDExc, AlphaRExc, AlphaDInh, AlphaRInh, PDExc, NegPRExc, PDInh, NegPRInh, ThetaU, ResetU];
}
