using Sim.EventCore.Compilation;
using Sim.EventCore.Description;

namespace Sim.EventCore.Models;

/// <summary>
/// The theta-neuron model unit (docs/models/theta.md; Ermentrout &amp; Kopell 1986; Nicola &amp; Clopath 2017). One tick,
/// per neuron, each line one IEEE operation after another (never fused), k = dt/τ:
/// <code>
/// i_e ← acc_e·2^-F + i_e;  i_i ← acc_i·2^-F + i_i;  I ← i_e + i_i;  [I ← I + drive]          (Deliver)
/// c ← cos θ (ThetaCosine);  p ← (−1)·c;  p ← p + 1;  q ← c + 1;  f ← q·I;  f ← p + f;  a ← f·k + θ   (Integrate: Euler)
/// i_e ← i_e·α_e;  i_i ← i_i·α_i
/// spike iff a &gt; π (or escape noise on a − π);  θ ← spike ? a + (−2π) : a;  θ ← clamp(θ, −π, π)   (Threshold/Reset)
/// </code>
/// The clamp keeps θ on the circle's chart [−π, π] where the cosine polynomial is accurate; it acts only when a single
/// step moves θ by more than 2π forwards or pushes it below −π (the continuous flow never crosses −π: θ' = 2/τ there).
/// No exact propagator exists, so the precise engine refuses the model.
/// </summary>
public sealed class ThetaModel : NeuronModelDefinition<ThetaParameters, ThetaConstants>
{
    /// <summary>The one instance (registered in <see cref="ModelRegistry"/>).</summary>
    public static readonly ThetaModel Instance = new();

    private ThetaModel() { }

    /// <summary>Stored variable indices.</summary>
    public const int Theta = 0, IExc = 1, IInh = 2;

    /// <summary>2π as a double (the reset subtracts it: a + (−2π)).</summary>
    public const double TwoPi = 2 * Math.PI;

    /// <inheritdoc/>
    public override string Name => "theta";
    /// <inheritdoc/>
    public override string Summary => "Ermentrout-Kopell theta neuron with a time constant (Nicola & Clopath 2017), exponential current synapses, forward Euler";

    /// <inheritdoc/>
    public override IReadOnlyList<StateVariable> StateVariables { get; } =
    [
        new("theta_rad", "rad", "phase θ in [−π, π]; a spike when it crosses π"),
        new("i_exc", "1", "excitatory synaptic current (dimensionless)"),
        new("i_inh", "1", "inhibitory synaptic current (dimensionless)"),
    ];

    /// <inheritdoc/>
    public override ConformanceHints Hints => new(WeightScale: 0.05, NoiseDeltaV: 0.2, CurrentAmplitude: 2.0);

    /// <inheritdoc/>
    public override string? CheckStoredValues(ModelConstants constants, int variable, ReadOnlySpan<double> values)
    {
        if (variable != Theta) return null;
        for (int i = 0; i < values.Length; i++)
            if (!(values[i] >= -Math.PI && values[i] <= Math.PI)) return $"[{i}] = {values[i]:R} is outside [−π, π]";
        return null;
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Key, string Message)> Validate(ThetaParameters q)
    {
        // Every value a distribution can draw must lie on the chart [−π, π] (Min/Max bound what Draw returns).
        if (!(q.ThetaRadInit.Min >= -Math.PI && q.ThetaRadInit.Max <= Math.PI))
            yield return ("theta_rad_init", $"must lie in [−π, π], got {q.ThetaRadInit}");
    }

    /// <inheritdoc/>
    protected override ThetaConstants Compile(ThetaParameters q, ModelCompileContext ctx)
    {
        int n = ctx.Size;
        double dt = ctx.DtMs;
        var c = new ThetaConstants(n);
        var tau = ctx.DrawPositive(q.TauMs, "tau_ms");
        var te = ctx.DrawPositive(q.TauExcMs, "tau_exc_ms");
        var ti = ctx.DrawPositive(q.TauInhMs, "tau_inh_ms");
        for (int i = 0; i < n; i++)
        {
            // Euler's step dt/τ·(2 + 2|I|) must stay well below the 2π of one cycle; dt ≥ τ is refused outright.
            if (!(dt / tau[i] < 1))
                throw ctx.Error("tau_ms", $"neuron {i}: τ = {Value.Fmt(tau[i])} ms is not above dt = {Value.Fmt(dt)} ms; the forward Euler phase needs dt/τ < 1");
            c.Step[i] = dt / tau[i];
            c.AlphaExc[i] = Math.Exp(-dt / te[i]);
            c.AlphaInh[i] = Math.Exp(-dt / ti[i]);
            c.Pi[i] = Math.PI;
        }
        ctx.ConstantDrive = ctx.Draw(q.IExt, "i_ext");
        return c;
    }

    /// <inheritdoc/>
    protected override void Initialise(CompiledPopulation p, ThetaParameters q, ThetaConstants c, ulong seed, int instance, double[][] state)
    {
        InitialValues(p, seed, instance, q.ThetaRadInit, "theta_rad_init", state[Theta]);   // in [−π, π]: Validate
        Array.Clear(state[IExc]);
        Array.Clear(state[IInh]);
    }

    internal override PopulationState CreateEventState(CompiledPopulation population, EventStateContext context) => new ThetaState(population);

    /// <inheritdoc/>
    public override T DenseStep<T>(IDenseKernel<T> k)
    {
        k.Set(IExc, k.Add(k.Mul(k.ExcInput, k.WeightScale), k.State(IExc)));
        k.Set(IInh, k.Add(k.Mul(k.InhInput, k.WeightScale), k.State(IInh)));
        T input = k.Add(k.State(IExc), k.State(IInh));
        if (k.HasDrive) input = k.Add(input, k.Drive);
        T theta = k.State(Theta);
        T c = ThetaCosine.Of(k, theta);
        T p = k.Add(k.Mul(c, -1.0), 1.0);
        T q = k.Add(c, 1.0);
        T f = k.Add(p, k.Mul(q, input));
        T a = k.Add(k.Mul(f, k.Constant(ThetaConstants.StepIndex)), theta);
        k.Set(IExc, k.Mul(k.State(IExc), k.Constant(ThetaConstants.AlphaExcIndex)));
        k.Set(IInh, k.Mul(k.State(IInh), k.Constant(ThetaConstants.AlphaInhIndex)));
        T spike = k.Fires(a, k.Constant(ThetaConstants.PiIndex));
        k.Set(Theta, k.ClampRange(k.Where(spike, k.Add(a, -TwoPi), a), -Math.PI, Math.PI));
        return spike;
    }

    /// <summary>The Euler candidate a of one neuron (the Integrate line of the class comment), shared by the event kernel and the reference.</summary>
    internal static double Candidate(ThetaConstants c, int i, double theta, double input)
    {
        double cos = ThetaCosine.Of(theta);
        double p = cos * -1.0;
        p = p + 1.0;
        double q = cos + 1.0;
        double f = q * input;
        f = p + f;
        return f * c.Step[i] + theta;
    }

    /// <summary>The reset and the clamp of a candidate (the Threshold line), shared by the event kernel and the reference.</summary>
    internal static double After(double a, bool spike) => Math.Clamp(spike ? a + -TwoPi : a, -Math.PI, Math.PI);

    /// <inheritdoc/>
    protected override bool ReferenceStep(ThetaConstants c, int i, in ReferenceInput input, Span<double> s, ref long lastSpike)
    {
        s[IExc] = input.Exc * input.WeightScale + s[IExc];
        s[IInh] = input.Inh * input.WeightScale + s[IInh];
        double current = s[IExc] + s[IInh];
        if (input.HasDrive) current = current + input.Drive;
        double a = Candidate(c, i, s[Theta], current);
        s[IExc] = s[IExc] * c.AlphaExc[i];
        s[IInh] = s[IInh] * c.AlphaInh[i];
        bool spike = input.Fires(a - Math.PI);
        if (spike) lastSpike = input.Tick;
        s[Theta] = After(a, spike);
        return spike;
    }

    /// <inheritdoc/>
    protected override ThetaParameters Sample(Random rng, double dtMs, bool mixed) => mixed
        ? new ThetaParameters
        {
            TauMs = Value.Uniform(2 * dtMs + 1, 2 * dtMs + 10), TauExcMs = Value.Uniform(1, 8), TauInhMs = Value.Uniform(2, 12),
            IExt = Value.Uniform(-0.2, 0.8), ThetaRadInit = Value.Uniform(-3, 3),
        }
        : new ThetaParameters
        {
            TauMs = 2 * dtMs + rng.Next(10), TauExcMs = 1 + rng.Next(8), TauInhMs = 2 + rng.Next(10),
            IExt = rng.Next(3) switch { 0 => 0.0, 1 => 0.5, _ => -0.1 }, ThetaRadInit = Value.Uniform(-3, 3),
        };
}

/// <summary>Per-neuron constants of <see cref="ThetaParameters"/>.</summary>
public sealed class ThetaConstants(int n) : ModelConstants(n)
{
    /// <summary>k = dt/τ, the Euler step.</summary>
    public readonly double[] Step = new double[n];
    /// <summary>α_e = e^{−dt/τ_e}, α_i = e^{−dt/τ_i}.</summary>
    public readonly double[] AlphaExc = new double[n], AlphaInh = new double[n];
    /// <summary>π per neuron (the threshold tensor of the dense engine).</summary>
    public readonly double[] Pi = new double[n];

    /// <summary>Indices of <see cref="DenseArrays"/>.</summary>
    public const int StepIndex = 0, AlphaExcIndex = 1, AlphaInhIndex = 2, PiIndex = 3;

    /// <inheritdoc/>
    public override IReadOnlyList<double[]> DenseArrays => [Step, AlphaExc, AlphaInh, Pi];
}
