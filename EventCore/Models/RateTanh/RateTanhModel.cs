using Sim.EventCore.Compilation;
using Sim.EventCore.Description;

namespace Sim.EventCore.Models;

/// <summary>
/// The leaky tanh rate unit <c>rate_tanh</c> of RFLO (Murray 2019, eLife 8:e43299; docs/models/rate_tanh.md).
/// One tick, per unit, each line one IEEE operation after another, k = dt/τ, Q = round half even onto 2^-G:
/// <code>
/// u ← (acc_e + acc_i)·2^-F;  u ← u + rec;  [u ← u + drive]          (Deliver; rec = exact W_rec·h of the last tick)
/// φ ← tanh u (<see cref="FixedTanh"/>);  d ← φ − h;  d ← d·k;  d ← d + h;  h ← Q(d)        (Integrate)
/// </code>
/// h is exported to trace-coupled projections (a rate population is read through weights, it emits no spikes:
/// <see cref="NeuronModelDefinition.EmitsSpikes"/> is false) and lies in [−1, 1] on its grid. The pseudo-derivative is
/// φ'(u) = 1 − tanh² u, from the stored u with the same tanh.
/// </summary>
public sealed class RateTanhModel : NeuronModelDefinition<RateTanhParameters, RateTanhConstants>
{
    /// <summary>The one instance (registered in <see cref="ModelRegistry"/>).</summary>
    public static readonly RateTanhModel Instance = new();

    private RateTanhModel() { }

    /// <summary>Stored variable indices.</summary>
    public const int H = 0, U = 1;

    /// <inheritdoc/>
    public override string Name => "rate_tanh";
    /// <inheritdoc/>
    public override string Summary => "leaky tanh rate unit of RFLO (Murray 2019): graded output h read through weights, no spikes";

    /// <inheritdoc/>
    public override IReadOnlyList<StateVariable> StateVariables { get; } =
    [
        new("h", "1", "rate (graded output) in [−1, 1], on the grid 2^-G; what other units read"),
        new("u", "1", "input of the tick, u = W_rec·h + W_in·x + I_ext"),
    ];

    /// <inheritdoc/>
    public override bool EmitsSpikes => false;
    /// <inheritdoc/>
    public override int CouplingTraceVariable => H;
    /// <inheritdoc/>
    public override int CouplingTraceBits(NeuronParameters parameters) => ((RateTanhParameters)parameters).RateFractionBits;
    /// <inheritdoc/>
    public override bool TakesTraceInput => true;
    /// <inheritdoc/>
    public override bool HasPseudoDerivative => true;
    /// <inheritdoc/>
    public override bool DistinguishesReceptors => false;
    /// <inheritdoc/>
    public override ConformanceHints Hints => new(WeightScale: 0.05, CurrentAmplitude: 1.0);

    /// <summary>h must lie on its grid in [−1, 1]: the exact coupling W·h relies on it (as GoalLif's hz).</summary>
    public override string? CheckStoredValues(ModelConstants constants, int variable, ReadOnlySpan<double> values)
    {
        if (variable != H) return null;
        var c = (RateTanhConstants)constants;
        for (int i = 0; i < values.Length; i++)
        {
            double g = values[i] * c.RateScale;
            if (!(values[i] >= -1 && values[i] <= 1) || g != Math.Round(g))
                return $"[{i}] = {values[i]:R} is not on the rate grid 2^-{c.RateBits} in [−1, 1]";
        }
        return null;
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Key, string Message)> Validate(RateTanhParameters q)
    {
        if (q.RateFractionBits is < 8 or > 40) yield return ("rate_fraction_bits", $"must be in [8, 40], got {q.RateFractionBits}");
        if (!(q.HInit.Min >= -1 && q.HInit.Max <= 1)) yield return ("h_init", $"must lie in [−1, 1], got {q.HInit}");
    }

    /// <inheritdoc/>
    protected override RateTanhConstants Compile(RateTanhParameters q, ModelCompileContext ctx)
    {
        int n = ctx.Size;
        double dt = ctx.DtMs;
        var c = new RateTanhConstants(n, q.RateFractionBits);
        var tau = ctx.DrawPositive(q.TauMs, "tau_ms");
        for (int i = 0; i < n; i++)
        {
            if (!(tau[i] >= dt))
                throw ctx.Error("tau_ms", $"neuron {i} drew {Value.Fmt(tau[i])} ms; the leak dt/τ must not exceed 1, so tau_ms ≥ dt = {Value.Fmt(dt)} ms");
            c.Leak[i] = dt / tau[i];
        }
        ctx.ConstantDrive = ctx.Draw(q.IExt, "i_ext");
        return c;
    }

    /// <inheritdoc/>
    protected override void Initialise(CompiledPopulation p, RateTanhParameters q, RateTanhConstants c, ulong seed, int instance, double[][] state)
    {
        InitialValues(p, seed, instance, q.HInit, "h_init", state[H]);
        var h = state[H];
        for (int i = 0; i < h.Length; i++) h[i] = c.Quantize(h[i]);
        Array.Clear(state[U]);
    }

    internal override PopulationState CreateEventState(CompiledPopulation population, EventStateContext context)
        => new RateTanhState(population, context.TraceInput);

    /// <inheritdoc/>
    public override T DenseStep<T>(IDenseKernel<T> k)
    {
        var c = (RateTanhConstants)k.Constants;
        T u = k.Mul(k.Add(k.ExcInput, k.InhInput), k.WeightScale);
        if (k.TraceInput is { } rec) u = k.Add(u, rec);
        if (k.HasDrive) u = k.Add(u, k.Drive);
        k.Set(U, u);
        T h = k.State(H);
        T d = k.Sub(FixedTanh.Of(k, k.State(U)), h);
        d = k.Add(k.Mul(d, k.Constant(RateTanhConstants.LeakIndex)), h);
        k.Set(H, k.RoundToGrid(d, c.RateScale, c.RateUnit));
        return k.NoSpikes();
    }

    /// <inheritdoc/>
    protected override bool ReferenceStep(RateTanhConstants c, int i, in ReferenceInput input, Span<double> s, ref long lastSpike)
    {
        double u = (input.Exc + input.Inh) * input.WeightScale;
        u = u + input.TraceInput;
        if (input.HasDrive) u = u + input.Drive;
        s[U] = u;
        double phi = FixedTanh.Of(u);
        double d = phi - s[H];
        d = d * c.Leak[i];
        d = d + s[H];
        s[H] = c.Quantize(d);
        return false;
    }

    /// <summary>ψ_i = φ'(u_i) = 1 − tanh² u_i: p ← tanh u (<see cref="FixedTanh"/>); p ← p·p; ψ ← 1 − p.</summary>
    public override void PseudoDerivative(ModelConstants constants, IReadOnlyList<double[]> state, Span<double> psi)
    {
        var u = state[U];
        for (int i = 0; i < psi.Length; i++)
        {
            double p = FixedTanh.Of(u[i]);
            p = p * p;
            psi[i] = 1.0 - p;
        }
    }

    /// <inheritdoc/>
    protected override RateTanhParameters Sample(Random rng, double dtMs, bool mixed) => mixed
        ? new RateTanhParameters { TauMs = Value.Uniform(dtMs, 20 * dtMs), IExt = Value.Uniform(-1, 1), HInit = Value.Uniform(-0.9, 0.9), RateFractionBits = 8 + rng.Next(33) }
        : new RateTanhParameters
        {
            TauMs = (1 + rng.Next(20)) * dtMs, IExt = rng.Next(3) switch { 0 => 0.0, 1 => 0.5, _ => -0.3 },
            HInit = rng.Next(2) == 0 ? 0.0 : Value.Uniform(-0.9, 0.9), RateFractionBits = 8 + rng.Next(33),
        };
}

/// <summary>Per-unit constants of <see cref="RateTanhParameters"/>.</summary>
public sealed class RateTanhConstants(int n, int rateBits) : ModelConstants(n)
{
    /// <summary>k = dt/τ, the leak per tick (in (0, 1]).</summary>
    public readonly double[] Leak = new double[n];
    /// <summary>G: h lives on the grid 2^-G.</summary>
    public readonly int RateBits = rateBits;
    /// <summary>2^G.</summary>
    public readonly double RateScale = Math.ScaleB(1.0, rateBits);
    /// <summary>2^-G.</summary>
    public readonly double RateUnit = Math.ScaleB(1.0, -rateBits);

    /// <summary>Q(x) = round_half_even(x·2^G)·2^-G (the engines' <c>RoundToGrid</c>).</summary>
    public double Quantize(double x) => Math.Round(x * RateScale, MidpointRounding.ToEven) * RateUnit;

    /// <summary>Indices of <see cref="DenseArrays"/>.</summary>
    public const int LeakIndex = 0;

    /// <inheritdoc/>
    public override IReadOnlyList<double[]> DenseArrays => [Leak];
}
