using Sim.EventCore.Compilation;
using Sim.EventCore.Description;

namespace Sim.EventCore.Models;

/// <summary>
/// The GoalLif model unit (docs/models/goal_lif.md; Capone, Muratore &amp; Paolucci 2022, authors' <c>lif.py</c>).
/// One tick, per neuron, Q = round half even onto 2^-G:
/// <code>
/// a ← z·(1−α_s); a ← hz·α_s + a; hz ← Q(a);   b ← hz·(1−α_m); b ← ej·α_m + b; ej ← Q(b)      (Traces)
/// rec ← exact W_rec·hz (engine: trace-coupled projections)
/// c ← (acc_e + acc_i)·2^-F; c ← c + rec; c ← c + bias; [c ← c + drive]
/// a ← v·α_m; a ← c·(1−α_m) + a; v ← reset·z + a                                          (Integrate)
/// z ← [v &gt; thr] (or escape noise on v − thr)                                              (Threshold)
/// </code>
/// It exports hz to trace-coupled projections (W_rec acts through the filtered trace, not through delayed spikes) and
/// supplies the GOAL pseudo-derivative σ(v)(1 − σ(v)) (<see cref="SigmoidPseudoDerivative"/>).
/// </summary>
public sealed class GoalLifModel : GoalLifFamily<GoalLifParameters>
{
    /// <summary>The one instance (registered in <see cref="ModelRegistry"/>).</summary>
    public static readonly GoalLifModel Instance = new();

    private GoalLifModel() { }

    /// <summary>Stored variable indices.</summary>
    public const int V = 0, Z = 1, Hz = 2, Ej = 3;

    /// <inheritdoc/>
    public override string Name => "goal_lif";
    /// <inheritdoc/>
    public override string Summary => "the LIF of Capone, Muratore & Paolucci 2022 (trace-coupled recurrence, reset current, no refractoriness)";
    /// <inheritdoc/>
    protected override bool ForwardEuler => false;
}

/// <summary>
/// GoalLif with a forward-Euler membrane (docs/models/goal_lif.md, "Forward-Euler variant"), as the authors' walker code
/// integrates it: α_m = 1 − dt/τ_m and 1 − α_m = dt/τ_m instead of e^{−dt/τ_m} and 1 − e^{−dt/τ_m}, in the membrane
/// update and in the eligibility ej (which is ∂v/∂w, so it follows the membrane's map). The synaptic filter hz keeps
/// α_s = e^{−dt/τ_s}. Everything else, both engines' kernels included, is GoalLif's: the variant differs only in its
/// compiled constants. Needs τ_m &gt; dt (at dt/τ_m ≥ 1 the map no longer decays).
/// </summary>
public sealed class GoalLifEulerModel : GoalLifFamily<GoalLifEulerParameters>
{
    /// <summary>The one instance (registered in <see cref="ModelRegistry"/>).</summary>
    public static readonly GoalLifEulerModel Instance = new();

    private GoalLifEulerModel() { }

    /// <inheritdoc/>
    public override string Name => "goal_lif_euler";
    /// <inheritdoc/>
    public override string Summary => "GoalLif with a forward-Euler membrane, α_m = 1 − dt/τ_m (the authors' walker code)";
    /// <inheritdoc/>
    protected override bool ForwardEuler => true;
}

/// <summary>The GoalLif kernels, shared by <see cref="GoalLifModel"/> and <see cref="GoalLifEulerModel"/> (they differ only in α_m).</summary>
public abstract class GoalLifFamily<TParameters> : NeuronModelDefinition<TParameters, GoalLifConstants> where TParameters : GoalLifParameters, new()
{
    private const int V = GoalLifModel.V, Z = GoalLifModel.Z, Hz = GoalLifModel.Hz, Ej = GoalLifModel.Ej;

    /// <summary>True: α_m = 1 − dt/τ_m (forward Euler); false: α_m = e^{−dt/τ_m}.</summary>
    protected abstract bool ForwardEuler { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<StateVariable> StateVariables { get; } =
    [
        new("v", "a.u.", "membrane potential"),
        new("z", "1", "spike of the tick (0/1)"),
        new("hz", "1", "synaptic trace of the neuron's spikes, on the grid 2^-G"),
        new("ej", "1", "presynaptic eligibility ej ≈ ∂v/∂w, on the grid 2^-G"),
    ];

    /// <summary>
    /// hz and ej must lie on their grid 2^-G in [0, 1]: the engines form W_rec·hz as exact sums that rely on it (the
    /// event engine in float64, the dense engine from trunc(hz·2^G)) and would disagree on an off-grid hz; ej is rounded
    /// onto the same grid every tick, so an off-grid ej can only come from a damaged or foreign file.
    /// </summary>
    public override string? CheckStoredValues(ModelConstants constants, int variable, ReadOnlySpan<double> values)
    {
        var c = (GoalLifConstants)constants;
        if (variable is not (Hz or Ej) || !c.Quantized) return null;
        for (int i = 0; i < values.Length; i++)
        {
            double h = values[i] * c.TraceScale;
            if (!(values[i] >= 0 && values[i] <= 1) || h != Math.Round(h))
                return $"[{i}] = {values[i]:R} is not on the trace grid 2^-{c.TraceBits} in [0, 1]";
        }
        return null;
    }
    /// <inheritdoc/>
    public override int CouplingTraceVariable => Hz;
    /// <inheritdoc/>
    /// <remarks>z is the whole effect of a spike: the reset (reset·z) and hz act in the next tick.</remarks>
    public override int ClampVariable => Z;
    /// <inheritdoc/>
    public override int CouplingTraceBits(NeuronParameters parameters) => ((GoalLifParameters)parameters).TraceFractionBits;
    /// <inheritdoc/>
    public override bool TakesTraceInput => true;
    /// <inheritdoc/>
    public override bool HasPseudoDerivative => true;
    /// <inheritdoc/>
    public override bool DistinguishesReceptors => false;

    /// <inheritdoc/>
    public override ConformanceHints Hints => new(NoiseDeltaV: 1.0);

    /// <inheritdoc/>
    protected override IEnumerable<(string Key, string Message)> Validate(TParameters q)
    {
        if (q.TraceFractionBits is not 0 and (< 8 or > 40)) yield return ("trace_fraction_bits", $"must be in [8, 40] (or 0: unquantized), got {q.TraceFractionBits}");
    }

    /// <inheritdoc/>
    protected override GoalLifConstants Compile(TParameters q, ModelCompileContext ctx)
    {
        int n = ctx.Size;
        double dt = ctx.DtMs;
        var c = new GoalLifConstants(n, q.TraceFractionBits);
        var tm = ctx.DrawPositive(q.TauMemMs, "tau_mem_ms");
        var ts = ctx.DrawPositive(q.TauSynMs, "tau_syn_ms");
        var bias = ctx.Draw(q.Bias, "bias");
        var reset = ctx.Draw(q.ResetJump, "reset_jump");
        var thr = ctx.Draw(q.Threshold, "threshold");
        for (int i = 0; i < n; i++)
        {
            if (ForwardEuler)
            {
                if (!(tm[i] > dt)) throw ctx.Error("tau_mem_ms", $"neuron {i} drew {Value.Fmt(tm[i])} ms; the forward-Euler membrane needs tau_mem_ms > dt = {Value.Fmt(dt)} ms");
                c.OneMinusAlphaMem[i] = dt / tm[i];
                c.AlphaMem[i] = 1.0 - c.OneMinusAlphaMem[i];
            }
            else
            {
                c.AlphaMem[i] = Math.Exp(-dt / tm[i]);
                c.OneMinusAlphaMem[i] = 1.0 - c.AlphaMem[i];
            }
            c.AlphaSyn[i] = Math.Exp(-dt / ts[i]);
            c.OneMinusAlphaSyn[i] = 1.0 - c.AlphaSyn[i];
            c.Bias[i] = bias[i];
            c.ResetJump[i] = reset[i];
            c.Threshold[i] = thr[i];
        }
        return c;
    }

    /// <inheritdoc/>
    protected override void Initialise(CompiledPopulation p, TParameters q, GoalLifConstants c, ulong seed, int instance, double[][] state)
    {
        InitialValues(p, seed, instance, q.VInit, "v_init", state[V]);
        Array.Clear(state[Z]);
        Array.Clear(state[Hz]);
        Array.Clear(state[Ej]);
    }

    internal override PopulationState CreateEventState(CompiledPopulation population, EventStateContext context)
        => new GoalLifState(population, context.TraceInput);

    /// <inheritdoc/>
    public override void DenseTraces<T>(IDenseKernel<T> k)
    {
        var c = (GoalLifConstants)k.Constants;
        if (!c.Quantized) throw new NotSupportedException("unquantized GoalLif traces (trace_fraction_bits: 0) are not bit-exact on the dense engine; use the event engine");
        T a = k.Mul(k.State(Z), k.Constant(GoalLifConstants.OneMinusAlphaSynIndex));
        a = k.Add(k.Mul(k.State(Hz), k.Constant(GoalLifConstants.AlphaSynIndex)), a);
        k.Set(Hz, k.RoundToGrid(a, c.TraceScale, c.TraceUnit));
        T b = k.Mul(k.State(Hz), k.Constant(GoalLifConstants.OneMinusAlphaMemIndex));
        b = k.Add(k.Mul(k.State(Ej), k.Constant(GoalLifConstants.AlphaMemIndex)), b);
        k.Set(Ej, k.RoundToGrid(b, c.TraceScale, c.TraceUnit));
    }

    /// <inheritdoc/>
    public override string? DenseRefusal(CompiledPopulation population)
        => ((GoalLifConstants)population.Constants).Quantized && population.ExactTraceInput ? null
         : "unquantized GoalLif traces (trace_fraction_bits: 0) are a float64 comparison mode, not bit-exact on the dense engine; use the event engine";

    /// <inheritdoc/>
    public override T DenseStep<T>(IDenseKernel<T> k)
    {
        T c = k.Mul(k.Add(k.ExcInput, k.InhInput), k.WeightScale);
        if (k.TraceInput is { } rec) c = k.Add(c, rec);
        c = k.Add(c, k.Constant(GoalLifConstants.BiasIndex));
        if (k.HasDrive) c = k.Add(c, k.Drive);
        T a = k.Mul(k.State(V), k.Constant(GoalLifConstants.AlphaMemIndex));
        a = k.Add(k.Mul(c, k.Constant(GoalLifConstants.OneMinusAlphaMemIndex)), a);
        k.Set(V, k.Add(k.Mul(k.Constant(GoalLifConstants.ResetJumpIndex), k.State(Z)), a));
        T spike = k.Fires(k.State(V), k.Constant(GoalLifConstants.ThresholdIndex));
        k.Set(Z, k.MaskToDouble(spike));
        return spike;
    }

    /// <inheritdoc/>
    protected override void ReferenceTraces(GoalLifConstants c, int i, Span<double> s)
    {
        s[Hz] = Q(s[Hz] * c.AlphaSyn[i] + s[Z] * c.OneMinusAlphaSyn[i], c);
        s[Ej] = Q(s[Ej] * c.AlphaMem[i] + s[Hz] * c.OneMinusAlphaMem[i], c);
    }

    private static double Q(double x, GoalLifConstants c) => c.Quantized ? Math.Round(x * c.TraceScale, MidpointRounding.ToEven) * c.TraceUnit : x;

    /// <inheritdoc/>
    protected override bool ReferenceStep(GoalLifConstants c, int i, in ReferenceInput input, Span<double> s, ref long lastSpike)
    {
        double cur = (input.Exc + input.Inh) * input.WeightScale;
        cur = cur + input.TraceInput;
        cur = cur + c.Bias[i];
        if (input.HasDrive) cur = cur + input.Drive;
        double a = s[V] * c.AlphaMem[i];
        a = cur * c.OneMinusAlphaMem[i] + a;
        a = c.ResetJump[i] * s[Z] + a;
        s[V] = a;
        bool spike = input.Fires(s[V] - c.Threshold[i]);
        s[Z] = spike ? 1 : 0;
        return spike;
    }

    /// <inheritdoc/>
    public override void PseudoDerivative(ModelConstants constants, IReadOnlyList<double[]> state, Span<double> psi)
    {
        var v = state[V];
        for (int i = 0; i < psi.Length; i++) psi[i] = SigmoidPseudoDerivative.Of(v[i]);
    }

    /// <inheritdoc/>
    protected override TParameters Sample(Random rng, double dtMs, bool heterogeneous)
        => new() { TauMemMs = (ForwardEuler ? 4 : 8) * dtMs, TauSynMs = 2 * dtMs, VInit = Value.Uniform(-6, 1), TraceFractionBits = 12 + rng.Next(10) };
}

/// <summary>Per-neuron constants of <see cref="GoalLifParameters"/>.</summary>
public sealed class GoalLifConstants(int n, int traceBits) : ModelConstants(n)
{
    public readonly double[] AlphaMem = new double[n], OneMinusAlphaMem = new double[n];
    public readonly double[] AlphaSyn = new double[n], OneMinusAlphaSyn = new double[n];
    public readonly double[] Bias = new double[n], ResetJump = new double[n], Threshold = new double[n];
    /// <summary>G: hz and ej live on the grid 2^-G.</summary>
    public readonly int TraceBits = traceBits;
    /// <summary>2^G.</summary>
    public readonly double TraceScale = Math.ScaleB(1.0, traceBits);
    /// <summary>2^-G.</summary>
    public readonly double TraceUnit = Math.ScaleB(1.0, -traceBits);
    /// <summary>False in the unquantized comparison mode (G = 0): hz and ej are not rounded.</summary>
    public bool Quantized => TraceBits > 0;

    /// <summary>Indices of <see cref="DenseArrays"/>.</summary>
    public const int AlphaMemIndex = 0, OneMinusAlphaMemIndex = 1, AlphaSynIndex = 2, OneMinusAlphaSynIndex = 3, BiasIndex = 4, ResetJumpIndex = 5, ThresholdIndex = 6;

    /// <inheritdoc/>
    public override IReadOnlyList<double[]> DenseArrays => [AlphaMem, OneMinusAlphaMem, AlphaSyn, OneMinusAlphaSyn, Bias, ResetJump, Threshold];
}
