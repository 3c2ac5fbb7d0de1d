using Sim.EventCore.Compilation;
using Sim.EventCore.Description;

namespace Sim.EventCore.Models;

/// <summary>
/// The adaptive LIF of e-prop, <c>alif</c> (Bellec et al. 2020, Nat. Commun. 11:3625; docs/models/alif.md).
/// One tick, per neuron, each line one IEEE operation after another (never fused), z the spike of the previous tick:
/// <code>
/// I ← (acc_e + acc_i)·2^-F;  [I ← I + drive]                                     (Deliver)
/// a ← a·ρ;  a ← a + z;  A ← a·β;  A ← A + v_th                                    (adaptation)
/// p ← v·α;  q ← I·ζ;  p ← q + p;  r ← z·v_th;  v ← p − r                          (Integrate: reset by subtraction)
/// act ← t − t_last ≥ n_ref;  z ← act ∧ v &gt; A (or escape noise on v − A);  t_last ← t where z   (Threshold)
/// d ← v − A;  d ← |d|;  d ← d / v_th;  d ← d·(−1);  d ← d + 1;  d ← max(d, 0);  d ← d·(γ_pd/v_th);  ψ ← d·[act]
/// </code>
/// ψ is stored, so that e-prop reads ψ[t] of the tick just run (<see cref="NeuronModelDefinition.PseudoDerivative"/>).
/// </summary>
public sealed class AlifModel : EpropLifFamily<AlifParameters>
{
    /// <summary>The one instance (registered in <see cref="ModelRegistry"/>).</summary>
    public static readonly AlifModel Instance = new();

    private AlifModel() { }

    /// <inheritdoc/>
    public override string Name => "alif";
    /// <inheritdoc/>
    public override string Summary => "adaptive LIF of e-prop (Bellec et al. 2020): reset by subtraction, adaptive threshold, refractoriness, pseudo-derivative";
    /// <inheritdoc/>
    protected override bool Adaptive => true;
}

/// <summary>
/// The discrete-time LIF of e-prop, <c>lif_eprop</c> (Bellec et al. 2020, Nat. Commun. 11:3625; docs/models/lif_eprop.md):
/// <see cref="AlifModel"/>'s kernels without the adaptation variable (A = v_th). One tick:
/// <code>
/// I ← (acc_e + acc_i)·2^-F;  [I ← I + drive];  p ← v·α;  q ← I·ζ;  p ← q + p;  r ← z·v_th;  v ← p − r
/// act ← t − t_last ≥ n_ref;  z ← act ∧ v &gt; v_th;  ψ as alif's with A = v_th
/// </code>
/// </summary>
public sealed class LifEpropModel : EpropLifFamily<LifEpropParameters>
{
    /// <summary>The one instance (registered in <see cref="ModelRegistry"/>).</summary>
    public static readonly LifEpropModel Instance = new();

    private LifEpropModel() { }

    /// <inheritdoc/>
    public override string Name => "lif_eprop";
    /// <inheritdoc/>
    public override string Summary => "discrete-time LIF of e-prop (Bellec et al. 2020): reset by subtraction, refractoriness, pseudo-derivative";
    /// <inheritdoc/>
    protected override bool Adaptive => false;
}

/// <summary>
/// The kernels shared by <see cref="AlifModel"/> and <see cref="LifEpropModel"/> (e-prop's LIF is its ALIF without
/// adaptation). Stored variables: v (mV), z (the spike of the last tick, 0/1), ψ (1/mV) and, for ALIF only, a.
/// </summary>
public abstract class EpropLifFamily<TParameters> : NeuronModelDefinition<TParameters, AlifConstants> where TParameters : LifEpropParameters, new()
{
    /// <summary>Stored variable indices (<see cref="A"/> only in <c>alif</c>).</summary>
    public const int V = 0, Z = 1, Psi = 2, A = 3;

    /// <summary>True for ALIF (the variable a and the threshold A = v_th + β·a), false for e-prop's LIF (A = v_th).</summary>
    protected abstract bool Adaptive { get; }

    private IReadOnlyList<StateVariable>? _vars;

    /// <inheritdoc/>
    public override IReadOnlyList<StateVariable> StateVariables => _vars ??= Adaptive
        ? [.. Common, new StateVariable("a", "1", "threshold adaptation a (spikes filtered with ρ); A = v_th + β·a")]
        : Common;

    private static readonly StateVariable[] Common =
    [
        new("v_mv", "mV", "membrane potential relative to rest"),
        new("z", "1", "spike of the tick (0/1); the next tick subtracts z·v_th"),
        new("psi", "1/mV", "pseudo-derivative ψ of the tick, 0 while refractory"),
    ];

    /// <inheritdoc/>
    public override bool HasPseudoDerivative => true;
    /// <inheritdoc/>
    public override bool DistinguishesReceptors => false;
    /// <inheritdoc/>
    public override ConformanceHints Hints => new(WeightScale: 0.05, NoiseDeltaV: 0.05, CurrentAmplitude: 0.1);

    /// <inheritdoc/>
    public override string? CheckStoredValues(ModelConstants constants, int variable, ReadOnlySpan<double> values)
    {
        if (variable != Z) return null;
        for (int i = 0; i < values.Length; i++)
            if (values[i] is not (0.0 or 1.0)) return $"[{i}] = {values[i]:R} is not a spike (0 or 1)";
        return null;
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Key, string Message)> Validate(TParameters q)
    {
        if (q.InputFilter is not (0 or 1)) yield return ("input_filter", $"must be 0 (ζ = 1) or 1 (ζ = 1 − α), got {q.InputFilter}");
    }

    /// <inheritdoc/>
    protected override AlifConstants Compile(TParameters q, ModelCompileContext ctx)
    {
        int n = ctx.Size;
        double dt = ctx.DtMs;
        var c = new AlifConstants(n);
        var tm = ctx.DrawPositive(q.TauMemMs, "tau_mem_ms");
        var vth = ctx.DrawPositive(q.VThresholdMv, "v_threshold_mv");
        var gamma = ctx.Draw(q.PseudoDerivativeGain, "pseudo_derivative_gain");
        var nref = ctx.DrawTicks(q.RefractoryMs, "refractory_ms", out _);
        double[]? ta = null, beta = null;
        if (q is AlifParameters ap)
        {
            ta = ctx.DrawPositive(ap.TauAdaptMs, "tau_adapt_ms");
            beta = ctx.Draw(ap.BetaMv, "beta_mv");
        }
        for (int i = 0; i < n; i++)
        {
            if (!(gamma[i] >= 0)) throw ctx.Error("pseudo_derivative_gain", $"neuron {i} drew {Value.Fmt(gamma[i])}; must be ≥ 0");
            c.Alpha[i] = Math.Exp(-dt / tm[i]);
            c.Zeta[i] = q.InputFilter == 1 ? 1.0 - c.Alpha[i] : 1.0;
            c.VThreshold[i] = vth[i];
            c.PsiScale[i] = gamma[i] / vth[i];
            c.Refractory[i] = nref[i];
            if (ta is not null)
            {
                if (!(beta![i] >= 0)) throw ctx.Error("beta_mv", $"neuron {i} drew {Value.Fmt(beta[i])}; must be ≥ 0");
                c.Rho[i] = Math.Exp(-dt / ta[i]);
                c.Beta[i] = beta[i];
            }
        }
        ctx.ConstantDrive = ctx.Draw(q.IExtMv, "i_ext_mv");
        return c;
    }

    /// <inheritdoc/>
    protected override void Initialise(CompiledPopulation p, TParameters q, AlifConstants c, ulong seed, int instance, double[][] state)
    {
        InitialValues(p, seed, instance, q.VInitMv, "v_init_mv", state[V]);
        Array.Clear(state[Z]);
        Array.Clear(state[Psi]);
        if (Adaptive) Array.Clear(state[A]);
    }

    internal override PopulationState CreateEventState(CompiledPopulation population, EventStateContext context) => new AlifState(population, Adaptive);

    /// <inheritdoc/>
    public override T DenseStep<T>(IDenseKernel<T> k)
    {
        T input = k.Mul(k.Add(k.ExcInput, k.InhInput), k.WeightScale);
        if (k.HasDrive) input = k.Add(input, k.Drive);
        T z = k.State(Z);
        T vth = k.Constant(AlifConstants.VThresholdIndex);
        T thr = vth;
        if (Adaptive)
        {
            k.Set(A, k.Add(k.Mul(k.State(A), k.Constant(AlifConstants.RhoIndex)), z));
            thr = k.Add(k.Mul(k.State(A), k.Constant(AlifConstants.BetaIndex)), vth);
        }
        T p = k.Mul(k.State(V), k.Constant(AlifConstants.AlphaIndex));
        p = k.Add(k.Mul(input, k.Constant(AlifConstants.ZetaIndex)), p);
        k.Set(V, k.Sub(p, k.Mul(z, vth)));
        T v = k.State(V);
        T active = k.Active();
        T spike = k.FiresWhere(v, thr, active);
        k.Set(Z, k.MaskToDouble(spike));
        T d = k.Div(k.Abs(k.Sub(v, thr)), vth);
        d = k.ClampRange(k.Add(k.Mul(d, -1.0), 1.0), 0.0, double.PositiveInfinity);
        d = k.Mul(d, k.Constant(AlifConstants.PsiScaleIndex));
        k.Set(Psi, k.Mul(d, k.MaskToDouble(active)));
        return spike;
    }

    /// <summary>
    /// ψ of one neuron from v, the threshold A, v_th and γ_pd/v_th (the last line of the class comment), shared by the
    /// event kernel and the reference: (γ_pd/v_th)·max(0, 1 − |v − A|/v_th), times 1 when active and 0 when refractory.
    /// </summary>
    public static double PseudoDerivativeOf(double v, double threshold, double vThreshold, double psiScale, bool active)
    {
        double d = v - threshold;
        d = Math.Abs(d);
        d = d / vThreshold;
        d = d * -1.0;
        d = d + 1.0;
        d = Math.Clamp(d, 0.0, double.PositiveInfinity);
        d = d * psiScale;
        return d * (active ? 1.0 : 0.0);
    }

    /// <inheritdoc/>
    protected override bool ReferenceStep(AlifConstants c, int i, in ReferenceInput input, Span<double> s, ref long lastSpike)
    {
        double cur = (input.Exc + input.Inh) * input.WeightScale;
        if (input.HasDrive) cur = cur + input.Drive;
        double z = s[Z];
        double thr = c.VThreshold[i];
        if (Adaptive)
        {
            double a = s[A] * c.Rho[i];
            a = a + z;
            s[A] = a;
            thr = a * c.Beta[i];
            thr = thr + c.VThreshold[i];
        }
        double p = s[V] * c.Alpha[i];
        double q = cur * c.Zeta[i];
        p = q + p;
        double r = z * c.VThreshold[i];
        s[V] = p - r;
        bool active = input.Tick - lastSpike >= c.Refractory[i];
        bool spike = active && input.Fires(s[V] - thr);
        if (spike) lastSpike = input.Tick;
        s[Z] = spike ? 1.0 : 0.0;
        s[Psi] = PseudoDerivativeOf(s[V], thr, c.VThreshold[i], c.PsiScale[i], active);
        return spike;
    }

    /// <inheritdoc/>
    public override void PseudoDerivative(ModelConstants constants, IReadOnlyList<double[]> state, Span<double> psi) => state[Psi].AsSpan(0, psi.Length).CopyTo(psi);

    /// <inheritdoc/>
    protected override TParameters Sample(Random rng, double dtMs, bool mixed)
    {
        Value Pick(double lo, double hi) => mixed ? Value.Uniform(lo, hi) : Math.Round(lo + (hi - lo) * rng.NextDouble(), 3);
        var p = new TParameters
        {
            TauMemMs = Pick(5, 30), VThresholdMv = Pick(0.3, 1.0),
            RefractoryMs = mixed ? Value.Uniform(0, 5 * dtMs) : rng.Next(5) * dtMs,
            PseudoDerivativeGain = 0.3, VInitMv = Value.Uniform(-0.5, 0.9),
            IExtMv = rng.Next(3) switch { 0 => 0.0, 1 => 0.03, _ => Pick(0.0, 0.05) },
            InputFilter = rng.Next(4) == 0 ? 1 : 0,
        };
        return p is AlifParameters ap
            ? (TParameters)(LifEpropParameters)(ap with { TauAdaptMs = Pick(20, 400), BetaMv = rng.Next(4) == 0 ? 0.0 : Pick(0.02, 0.3) })
            : p;
    }
}

/// <summary>Per-neuron constants of <see cref="AlifParameters"/> and <see cref="LifEpropParameters"/> (ρ and β stay 0 for lif_eprop).</summary>
public sealed class AlifConstants(int n) : ModelConstants(n)
{
    /// <summary>α = e^{−dt/τ_m}; ζ = 1 or 1 − α; v_th (mV); ρ = e^{−dt/τ_a}; β (mV); γ_pd/v_th (1/mV).</summary>
    public readonly double[] Alpha = new double[n], Zeta = new double[n], VThreshold = new double[n], Rho = new double[n], Beta = new double[n], PsiScale = new double[n];
    /// <summary>n_ref = round(t_ref/dt) per neuron.</summary>
    public readonly long[] Refractory = new long[n];

    /// <inheritdoc/>
    public override long[] RefractoryTicks => Refractory;

    /// <summary>Indices of <see cref="DenseArrays"/>.</summary>
    public const int AlphaIndex = 0, ZetaIndex = 1, VThresholdIndex = 2, RhoIndex = 3, BetaIndex = 4, PsiScaleIndex = 5;

    /// <inheritdoc/>
    public override IReadOnlyList<double[]> DenseArrays => [Alpha, Zeta, VThreshold, Rho, Beta, PsiScale];
}
