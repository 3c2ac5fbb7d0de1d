using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// The Ebn model unit (docs/models/ebn.md): the neuron of an efficient balanced network (Boerlin, Machens &amp; Denève
/// 2013; Alemi, Machens, Denève &amp; Slotine 2018). One tick, per neuron, each line one IEEE operation after another,
/// Q = round half even onto 2^-G, dt in seconds inside the propagators:
/// <code>
/// r ← Q(r·α_d)                                                   (Traces: decay of the slow trace; α_d = e^{−λ_d·dt})
/// rec ← exact Ω_s·r (engine: trace-coupled projections)
/// a ← V·α_V;  [a ← drive·β_V + a];  [a ← rec·β_V + a];  V ← a + in   (Integrate: α_V = e^{−λ_V·dt}, β_V = (1 − α_V)/λ_V s;
///                                                                    in = (acc_e + acc_i)·2^-F, spike inputs as jumps of V)
/// greedy resolution of Ω_f (FastCoupling): z ← 0; while some unfired V_i − T_i &gt; 0: the largest (lowest i on ties)
///     fires: z_j ← 1, r_j ← r_j + 1, V ← V + Ω_f[j]                (Threshold)
/// </code>
/// The exponential-Euler step is exact for a drive held constant over the tick. The slow trace is exported to
/// trace-coupled projections (Ω_s·r); a neuron fires at most once per tick, which bounds r by
/// (1 + 2^-(G+1))/(1 − α_d) (<see cref="CouplingTraceBound"/>).
/// </summary>
public sealed class EbnModel : NeuronModelDefinition<EbnParameters, EbnConstants>
{
    /// <summary>The one instance (registered in <see cref="ModelRegistry"/>).</summary>
    public static readonly EbnModel Instance = new();

    private EbnModel() { }

    /// <summary>Stored variable indices.</summary>
    public const int V = 0, R = 1, Z = 2;

    /// <inheritdoc/>
    public override string Name => "ebn";
    /// <inheritdoc/>
    public override string Summary => "efficient balanced network neuron (Boerlin et al. 2013, Alemi et al. 2018): decoder, slow trace, instantaneous fast coupling resolved one spike at a time";

    /// <inheritdoc/>
    public override IReadOnlyList<StateVariable> StateVariables { get; } =
    [
        new("v", "a.u.", "voltage V = Dᵀ(x − x̂) − μλ_d·r in the ideal network"),
        new("r", "1", "slow trace of the neuron's spikes (dr/dt = −λ_d·r + s), on the grid 2^-G"),
        new("z", "1", "spike of the tick (0/1)"),
    ];

    /// <inheritdoc/>
    public override int CouplingTraceVariable => R;
    /// <inheritdoc/>
    public override int CouplingTraceBits(NeuronParameters parameters) => ((EbnParameters)parameters).TraceFractionBits;
    /// <inheritdoc/>
    public override bool TakesTraceInput => true;
    /// <inheritdoc/>
    public override bool DistinguishesReceptors => false;
    /// <inheritdoc/>
    public override bool SupportsEscapeNoise => false;

    /// <inheritdoc/>
    /// <remarks>r_{t+1} = Q(α_d·r_t) + s_t with s_t ≤ 1 (one spike per tick at most): r ≤ (1 + 2^-(G+1))/(1 − α_d) for the slowest λ_d.</remarks>
    public override double CouplingTraceBound(NeuronParameters parameters, double dtMs)
    {
        var q = (EbnParameters)parameters;
        double lambda = q.LambdaDecoderPerS.Min;
        if (!(lambda > 0) || !(dtMs > 0)) return 1.0;
        double oneMinusAlpha = -double.ExpM1(-lambda * dtMs / 1000.0);
        return Math.Ceiling((1 + Math.ScaleB(1.0, -(q.TraceFractionBits + 1))) / oneMinusAlpha);
    }

    /// <inheritdoc/>
    public override FastCoupling? FastCouplingOf(ModelConstants constants) => ((EbnConstants)constants).Fast;

    /// <inheritdoc/>
    public override ConformanceHints Hints => new(WeightScale: 0.005, CurrentAmplitude: 40.0);

    /// <inheritdoc/>
    /// <remarks>r must lie on its grid 2^-G and be ≥ 0 (the exact Ω_s·r relies on it); z must be 0 or 1.</remarks>
    public override string? CheckStoredValues(ModelConstants constants, int variable, ReadOnlySpan<double> values)
    {
        var c = (EbnConstants)constants;
        for (int i = 0; i < values.Length; i++)
        {
            double x = values[i];
            if (variable == R && (!(x >= 0 && x <= c.TraceBound) || x * c.TraceScale != Math.Round(x * c.TraceScale)))
                return $"[{i}] = {x:R} is not on the trace grid 2^-{c.TraceBits} in [0, {c.TraceBound:R}]";
            if (variable == Z && x is not (0.0 or 1.0)) return $"[{i}] = {x:R} is not a spike (0 or 1)";
        }
        return null;
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Key, string Message)> Validate(EbnParameters q)
    {
        if (q.Dimensions is < 1 or > EbnParameters.MaxDimensions)
            yield return ("dimensions", $"must be 1, 2 or 3 (the decoder rows decoder0 … decoder2), got {q.Dimensions}");
        else
            for (int k = q.Dimensions; k < EbnParameters.MaxDimensions; k++)
                if (!(q.DecoderRow(k) is Value.Constant { V: 0 }))
                    yield return ($"decoder{k}", $"is set, but dimensions is {q.Dimensions}: only decoder0 … decoder{q.Dimensions - 1} are used; set dimensions to {k + 1} or remove it");
        if (q.TraceFractionBits is < 8 or > 40) yield return ("trace_fraction_bits", $"must be in [8, 40], got {q.TraceFractionBits}");
        bool aliveOk = q.Alive switch
        {
            Value.Constant c => c.V is 0.0 or 1.0,
            Value.ArrayValue a => a.Values.All(x => x is 0.0 or 1.0),
            _ => false,
        };
        if (!aliveOk) yield return ("alive", $"must be 0 (silenced) or 1, as a constant or one value per neuron, got {q.Alive}");
    }

    /// <inheritdoc/>
    protected override EbnConstants Compile(EbnParameters q, ModelCompileContext ctx)
    {
        int n = ctx.Size, dims = q.Dimensions;
        double dtS = ctx.DtMs / 1000.0;
        var lambdaD = ctx.DrawPositive(q.LambdaDecoderPerS, "lambda_decoder_per_s");
        var lambdaV = ctx.DrawPositive(q.LambdaVPerS, "lambda_v_per_s");
        var mu = ctx.Draw(q.Mu, "mu");
        var nu = ctx.Draw(q.Nu, "nu");
        var alive = ctx.Draw(q.Alive, "alive");
        var decoder = new double[dims][];
        for (int k = 0; k < dims; k++) decoder[k] = ctx.Draw(q.DecoderRow(k), $"decoder{k}");
        for (int i = 0; i < n; i++)
        {
            double norm2 = 0;
            for (int k = 0; k < dims; k++)
            {
                if (!double.IsFinite(decoder[k][i])) throw ctx.Error($"decoder{k}", $"neuron {i} drew {Value.Fmt(decoder[k][i])}; the decoder must be finite");
                norm2 += decoder[k][i] * decoder[k][i];
            }
            if (norm2 == 0)
                throw ctx.Error("decoder0", $"neuron {i} has a zero decoder column (D[:, {i}] = 0): it would represent nothing and its threshold ‖D_i‖²/2 would vanish; give every neuron a nonzero column");
            if (!(mu[i] >= 0)) throw ctx.Error("mu", $"neuron {i} drew {Value.Fmt(mu[i])}; must be ≥ 0");
            if (!(nu[i] >= 0)) throw ctx.Error("nu", $"neuron {i} drew {Value.Fmt(nu[i])}; must be ≥ 0");
            if (alive[i] is not (0.0 or 1.0)) throw ctx.Error("alive", $"neuron {i} drew {Value.Fmt(alive[i])}; must be 0 or 1");
        }

        // Ω_f[j][i] = −(D_iᵀD_j + δ_ij·μ_j·λ_d,j²), on the finest grid 2^-F that keeps |q| ≤ 2^40 (each fast update is one
        // add of one weight, never a sum of many, so the headroom of the delivery grids is not needed; q·2^-F is exact).
        var omega = new double[n * n];
        double maxAbs = 0;
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++)
            {
                double dot = 0;
                for (int k = 0; k < dims; k++) dot += decoder[k][i] * decoder[k][j];
                if (i == j) dot += mu[j] * lambdaD[j] * lambdaD[j];
                omega[j * n + i] = -dot;
                maxAbs = Math.Max(maxAbs, Math.Abs(dot));
            }
        int bits = FastFractionBits(maxAbs);
        var qf = new long[n * n];
        for (int k = 0; k < qf.Length; k++) qf[k] = (long)FixedPoint.Quantize(omega[k], bits);

        var c = new EbnConstants(n, dims, q.TraceFractionBits) { TraceBound = CouplingTraceBound(q, ctx.DtMs) };
        var threshold = new double[n];
        double unit = FixedPoint.Scale(bits);
        for (int i = 0; i < n; i++)
        {
            c.AlphaV[i] = Math.Exp(-lambdaV[i] * dtS);
            c.BetaV[i] = -double.ExpM1(-lambdaV[i] * dtS) / lambdaV[i];
            c.AlphaD[i] = Math.Exp(-lambdaD[i] * dtS);
            c.LambdaDecoderPerS[i] = lambdaD[i];
            c.LambdaVPerS[i] = lambdaV[i];
            c.Mu[i] = mu[i];
            // T_i = (ν·λ_d + μ·λ_d² + ‖D_i‖²)/2 = (ν·λ_d − Ω_f,ii)/2 with the grid value of Ω_f,ii: a spike at V = T resets to −T.
            threshold[i] = alive[i] == 0 ? double.PositiveInfinity : (nu[i] * lambdaD[i] - qf[i * n + i] * unit) / 2;
            for (int k = 0; k < dims; k++) c.Decoder[k][i] = decoder[k][i];
        }
        c.Fast = new FastCoupling(n, V, Z, R, 1.0, threshold, qf, bits);
        return c;
    }

    /// <summary>The largest F ≤ 80 with max|Ω_f|·2^F ≤ 2^40.</summary>
    internal static int FastFractionBits(double maxAbs)
    {
        int f = 80;
        while (f > -30 && Math.ScaleB(maxAbs, f) > Math.ScaleB(1.0, 40)) f--;
        return f;
    }

    /// <inheritdoc/>
    protected override void Initialise(CompiledPopulation p, EbnParameters q, EbnConstants c, ulong seed, int instance, double[][] state)
    {
        InitialValues(p, seed, instance, q.VInit, "v_init", state[V]);
        Array.Clear(state[R]);
        Array.Clear(state[Z]);
    }

    internal override PopulationState CreateEventState(CompiledPopulation population, EventStateContext context)
        => new EbnState(population, context.TraceInput, context.HasTraceInput);

    /// <inheritdoc/>
    public override void DenseTraces<T>(IDenseKernel<T> k)
    {
        var c = (EbnConstants)k.Constants;
        k.Set(R, k.RoundToGrid(k.Mul(k.State(R), k.Constant(EbnConstants.AlphaDIndex)), c.TraceScale, c.TraceUnit));
    }

    /// <inheritdoc/>
    public override T DenseStep<T>(IDenseKernel<T> k)
    {
        T beta = k.Constant(EbnConstants.BetaVIndex);
        T a = k.Mul(k.State(V), k.Constant(EbnConstants.AlphaVIndex));
        if (k.HasDrive) a = k.Add(k.Mul(k.Drive, beta), a);
        if (k.TraceInput is { } rec) a = k.Add(k.Mul(rec, beta), a);
        T jump = k.Mul(k.Add(k.ExcInput, k.InhInput), k.WeightScale);
        k.Set(V, k.Add(a, jump));
        return k.ResolveFastCoupling();
    }

    /// <inheritdoc/>
    protected override void ReferenceTraces(EbnConstants c, int i, Span<double> s)
        => s[R] = Math.Round(s[R] * c.AlphaD[i] * c.TraceScale, MidpointRounding.ToEven) * c.TraceUnit;

    /// <inheritdoc/>
    /// <remarks>Integration only: the threshold is the greedy resolution, which the reference loop applies to the whole population afterwards.</remarks>
    protected override bool ReferenceStep(EbnConstants c, int i, in ReferenceInput input, Span<double> s, ref long lastSpike)
    {
        double a = s[V] * c.AlphaV[i];
        if (input.HasDrive) a = input.Drive * c.BetaV[i] + a;
        if (input.HasTraceInput) a = input.TraceInput * c.BetaV[i] + a;
        s[V] = a + (input.Exc + input.Inh) * input.WeightScale;
        return false;
    }

    /// <inheritdoc/>
    protected override EbnParameters Sample(Random rng, double dtMs, bool heterogeneous)
    {
        int dims = 1 + rng.Next(EbnParameters.MaxDimensions);
        double scale = 0.05 + 0.5 * rng.NextDouble();
        // Decoder entries of both signs: DᵀD then has positive off-diagonal terms, so one spike can push others over
        // threshold inside the tick and the order of the greedy resolution matters.
        Value Row(int k) => k < dims ? Value.Uniform(-scale, scale) : 0.0;
        return new EbnParameters
        {
            Dimensions = dims, Decoder0 = Row(0), Decoder1 = Row(1), Decoder2 = Row(2),
            LambdaDecoderPerS = heterogeneous ? Value.Uniform(5, 50) : 5 + 45 * rng.NextDouble(),
            LambdaVPerS = heterogeneous ? Value.Uniform(5, 50) : 5 + 45 * rng.NextDouble(),
            Mu = heterogeneous ? Value.Uniform(0, 1e-4) : 1e-6,
            Nu = heterogeneous ? Value.Uniform(0, 1e-3) : 0.0,
            VInit = Value.Uniform(-0.1, 0.3),
            TraceFractionBits = 12 + rng.Next(14),
        };
    }
}

/// <summary>Per-neuron constants of <see cref="EbnParameters"/> (computed once in C#; the dense engine reads the same doubles).</summary>
public sealed class EbnConstants : ModelConstants
{
    /// <param name="n">Neurons.</param>
    /// <param name="dimensions">J.</param>
    /// <param name="traceBits">G of the trace grid.</param>
    public EbnConstants(int n, int dimensions, int traceBits) : base(n)
    {
        AlphaV = new double[n]; BetaV = new double[n]; AlphaD = new double[n];
        LambdaDecoderPerS = new double[n]; LambdaVPerS = new double[n]; Mu = new double[n];
        Decoder = [.. Enumerable.Range(0, dimensions).Select(_ => new double[n])];
        TraceBits = traceBits;
        TraceScale = Math.ScaleB(1.0, traceBits);
        TraceUnit = Math.ScaleB(1.0, -traceBits);
    }

    /// <summary>α_V = e^{−λ_V·dt}, β_V = (1 − α_V)/λ_V (s), α_d = e^{−λ_d·dt}.</summary>
    public readonly double[] AlphaV, BetaV, AlphaD;
    /// <summary>The drawn rates (s⁻¹) and μ, kept for the task's readout and the precise engine.</summary>
    public readonly double[] LambdaDecoderPerS, LambdaVPerS, Mu;
    /// <summary>D as J rows of n values (D[k][i]).</summary>
    public readonly double[][] Decoder;
    /// <summary>G: r lives on the grid 2^-G.</summary>
    public readonly int TraceBits;
    /// <summary>2^G and 2^-G.</summary>
    public readonly double TraceScale, TraceUnit;
    /// <summary>The bound on r (<see cref="EbnModel.CouplingTraceBound"/>).</summary>
    public double TraceBound { get; init; }
    /// <summary>The fast coupling Ω_f on its grid, with the thresholds T_i (+∞ for silenced neurons).</summary>
    public FastCoupling Fast { get; internal set; } = null!;
    /// <summary>J.</summary>
    public int Dimensions => Decoder.Length;

    /// <summary>Indices of <see cref="DenseArrays"/>.</summary>
    public const int AlphaVIndex = 0, BetaVIndex = 1, AlphaDIndex = 2;

    /// <inheritdoc/>
    public override IReadOnlyList<double[]> DenseArrays => [AlphaV, BetaV, AlphaD];
}
