using Sim.EventCore.Compilation;
using Sim.EventCore.Description;

namespace Sim.EventCore.Models;

/// <summary>
/// The Izhikevich model unit (docs/models/izhikevich.md; Izhikevich 2003, IEEE Trans. Neural Netw. 14:1569): v (mV),
/// u (mV/ms), exponential current synapses. One tick, per neuron, each line one IEEE operation after another (never
/// fused), in the order of Izhikevich's published MATLAB code (<c>v=v+0.5*(0.04*v.^2+5*v+140-u+I)</c> twice, then
/// <c>u=u+a.*(b.*v-u)</c>), with h = dt/2:
/// <code>
/// i_e ← acc_e·2^-F + i_e;  i_i ← acc_i·2^-F + i_i;  I ← i_e + i_i;  [I ← I + drive]                 (Deliver)
/// twice: s ← v·v; f ← s·0.04; t ← v·5; f ← f + t; f ← f + 140; f ← f − u; f ← f + I; v ← f·h + v    (Integrate)
/// y ← v·b;  y ← y − u;  u ← (a·dt)·y + u
/// i_e ← i_e·α_e;  i_i ← i_i·α_i
/// if v &gt; v_peak (or escape noise on v − v_peak): spike, v ← c, u ← u + d                         (Threshold/Reset)
/// </code>
/// The quadratic term has no exact propagator, so the precise engine refuses the model.
/// </summary>
public sealed class IzhikevichModel : NeuronModelDefinition<IzhikevichParameters, IzhikevichConstants>
{
    /// <summary>The one instance (registered in <see cref="ModelRegistry"/>).</summary>
    public static readonly IzhikevichModel Instance = new();

    private IzhikevichModel() { }

    /// <summary>Stored variable indices.</summary>
    public const int V = 0, U = 1, IExc = 2, IInh = 3;

    /// <summary>The fixed coefficients of Izhikevich's fit: 0.04 (1/(mV·ms)), 5 (1/ms), 140 (mV/ms).</summary>
    public const double Quadratic = 0.04, Linear = 5.0, Offset = 140.0;

    /// <inheritdoc/>
    public override string Name => "izhikevich";
    /// <inheritdoc/>
    public override string Summary => "Izhikevich (2003) simple model, exponential current synapses, Izhikevich's two-half-step Euler scheme";

    /// <inheritdoc/>
    public override IReadOnlyList<StateVariable> StateVariables { get; } =
    [
        new("v_mv", "mV", "membrane potential"),
        new("u_mv_per_ms", "mV/ms", "recovery variable"),
        new("i_exc_mv_per_ms", "mV/ms", "excitatory synaptic current"),
        new("i_inh_mv_per_ms", "mV/ms", "inhibitory synaptic current"),
    ];

    /// <inheritdoc/>
    public override ConformanceHints Hints => new(WeightScale: 0.5, NoiseDeltaV: 2.0, CurrentAmplitude: 15.0);

    /// <inheritdoc/>
    protected override IEnumerable<(string Key, string Message)> Validate(IzhikevichParameters q)
    {
        if (q.CMv.IsConstant && q.VPeakMv.IsConstant && q.CMv.Max >= q.VPeakMv.Min)
            yield return ("c_mv", $"must be below v_peak_mv ({q.VPeakMv})");
    }

    /// <inheritdoc/>
    protected override IzhikevichConstants Compile(IzhikevichParameters q, ModelCompileContext ctx)
    {
        int n = ctx.Size;
        double dt = ctx.DtMs;
        var c = new IzhikevichConstants(n, dt);
        var a = ctx.DrawPositive(q.APerMs, "a_per_ms");
        var b = ctx.Draw(q.BPerMs, "b_per_ms");
        var reset = ctx.Draw(q.CMv, "c_mv");
        var d = ctx.Draw(q.DMvPerMs, "d_mv_per_ms");
        var peak = ctx.Draw(q.VPeakMv, "v_peak_mv");
        var te = ctx.DrawPositive(q.TauExcMs, "tau_exc_ms");
        var ti = ctx.DrawPositive(q.TauInhMs, "tau_inh_ms");
        for (int i = 0; i < n; i++)
        {
            if (!(reset[i] < peak[i])) throw ctx.Error("c_mv", $"neuron {i}: c = {Value.Fmt(reset[i])} mV is not below v_peak = {Value.Fmt(peak[i])} mV");
            c.ADt[i] = a[i] * dt;
            c.B[i] = b[i];
            c.C[i] = reset[i];
            c.D[i] = d[i];
            c.VPeak[i] = peak[i];
            c.AlphaExc[i] = Math.Exp(-dt / te[i]);
            c.AlphaInh[i] = Math.Exp(-dt / ti[i]);
        }
        ctx.ConstantDrive = ctx.Draw(q.IExtMvPerMs, "i_ext_mv_per_ms");
        return c;
    }

    /// <inheritdoc/>
    protected override void Initialise(CompiledPopulation p, IzhikevichParameters q, IzhikevichConstants c, ulong seed, int instance, double[][] state)
    {
        InitialValues(p, seed, instance, q.VInitMv, "v_init_mv", state[V]);
        if (q.UMvPerMsInit is null)
            for (int i = 0; i < c.Size; i++) state[U][i] = c.B[i] * state[V][i];
        else
            InitialValues(p, seed, instance, q.UMvPerMsInit, "u_mv_per_ms_init", state[U]);
        Array.Clear(state[IExc]);
        Array.Clear(state[IInh]);
    }

    internal override PopulationState CreateEventState(CompiledPopulation population, EventStateContext context) => new IzhikevichState(population);

    /// <inheritdoc/>
    public override T DenseStep<T>(IDenseKernel<T> k)
    {
        var c = (IzhikevichConstants)k.Constants;
        k.Set(IExc, k.Add(k.Mul(k.ExcInput, k.WeightScale), k.State(IExc)));
        k.Set(IInh, k.Add(k.Mul(k.InhInput, k.WeightScale), k.State(IInh)));
        T input = k.Add(k.State(IExc), k.State(IInh));
        if (k.HasDrive) input = k.Add(input, k.Drive);
        T v = k.State(V), u = k.State(U);
        for (int half = 0; half < 2; half++)
        {
            T f = k.Mul(k.Mul(v, v), Quadratic);
            f = k.Add(f, k.Mul(v, Linear));
            f = k.Add(f, Offset);
            f = k.Sub(f, u);
            f = k.Add(f, input);
            v = k.Add(k.Mul(f, c.HalfStepMs), v);
        }
        T y = k.Sub(k.Mul(v, k.Constant(IzhikevichConstants.BIndex)), u);
        u = k.Add(k.Mul(k.Constant(IzhikevichConstants.ADtIndex), y), u);
        k.Set(IExc, k.Mul(k.State(IExc), k.Constant(IzhikevichConstants.AlphaExcIndex)));
        k.Set(IInh, k.Mul(k.State(IInh), k.Constant(IzhikevichConstants.AlphaInhIndex)));
        T spike = k.Fires(v, k.Constant(IzhikevichConstants.VPeakIndex));
        k.Set(V, k.Where(spike, k.Constant(IzhikevichConstants.CIndex), v));
        k.Set(U, k.Where(spike, k.Add(u, k.Constant(IzhikevichConstants.DIndex)), u));
        return spike;
    }

    /// <summary>
    /// One tick of the membrane and recovery variables (Integrate, without the threshold): the sequence every engine
    /// follows, shared by the event kernel and the reference step.
    /// </summary>
    internal static void Integrate(IzhikevichConstants c, int i, double input, ref double v, ref double u)
    {
        double h = c.HalfStepMs;
        for (int half = 0; half < 2; half++)
        {
            double s = v * v;
            double f = s * Quadratic;
            double t = v * Linear;
            f = f + t;
            f = f + Offset;
            f = f - u;
            f = f + input;
            v = f * h + v;
        }
        double y = v * c.B[i];
        y = y - u;
        u = c.ADt[i] * y + u;
    }

    /// <inheritdoc/>
    protected override bool ReferenceStep(IzhikevichConstants c, int i, in ReferenceInput input, Span<double> s, ref long lastSpike)
    {
        s[IExc] = input.Exc * input.WeightScale + s[IExc];
        s[IInh] = input.Inh * input.WeightScale + s[IInh];
        double current = s[IExc] + s[IInh];
        if (input.HasDrive) current = current + input.Drive;
        double v = s[V], u = s[U];
        Integrate(c, i, current, ref v, ref u);
        s[IExc] = s[IExc] * c.AlphaExc[i];
        s[IInh] = s[IInh] * c.AlphaInh[i];
        bool spike = input.Fires(v - c.VPeak[i]);
        if (spike) { v = c.C[i]; u = u + c.D[i]; lastSpike = input.Tick; }
        s[V] = v;
        s[U] = u;
        return spike;
    }

    /// <summary>Izhikevich's (2003, Fig. 2) classes as (a, b, c, d): RS, IB, CH, FS, LTS.</summary>
    internal static readonly (double A, double B, double C, double D)[] Classes =
        [(0.02, 0.2, -65, 8), (0.02, 0.2, -55, 4), (0.02, 0.2, -50, 2), (0.1, 0.2, -65, 2), (0.02, 0.25, -65, 2)];

    /// <inheritdoc/>
    protected override IzhikevichParameters Sample(Random rng, double dtMs, bool mixed)
    {
        var k = Classes[rng.Next(Classes.Length)];
        return mixed
            ? new IzhikevichParameters
            {
                APerMs = Value.Uniform(0.02, 0.1), BPerMs = Value.Uniform(0.2, 0.25), CMv = Value.Uniform(-65, -50), DMvPerMs = Value.Uniform(2, 8),
                TauExcMs = Value.Uniform(2, 8), TauInhMs = Value.Uniform(4, 12), VInitMv = Value.Uniform(-70, -50),
                UMvPerMsInit = Value.Uniform(-16, -8), IExtMvPerMs = rng.Next(2) == 0 ? 0.0 : Value.Uniform(0, 12),
            }
            : new IzhikevichParameters
            {
                APerMs = k.A, BPerMs = k.B, CMv = k.C, DMvPerMs = k.D, TauExcMs = 1 + rng.Next(8), TauInhMs = 2 + rng.Next(10),
                VInitMv = Value.Uniform(-70, -50), UMvPerMsInit = k.B * -65, IExtMvPerMs = rng.Next(2) == 0 ? 0.0 : 10.0,
            };
    }
}

/// <summary>Per-neuron constants of <see cref="IzhikevichParameters"/>.</summary>
public sealed class IzhikevichConstants(int n, double dtMs) : ModelConstants(n)
{
    /// <summary>a·dt (the u step), b, c (mV), d (mV/ms), v_peak (mV).</summary>
    public readonly double[] ADt = new double[n], B = new double[n], C = new double[n], D = new double[n], VPeak = new double[n];
    /// <summary>α_e = e^{−dt/τ_e}, α_i = e^{−dt/τ_i}.</summary>
    public readonly double[] AlphaExc = new double[n], AlphaInh = new double[n];
    /// <summary>h = dt/2 (ms), the length of each of the two v half steps.</summary>
    public readonly double HalfStepMs = dtMs / 2;

    /// <summary>Indices of <see cref="DenseArrays"/>.</summary>
    public const int ADtIndex = 0, BIndex = 1, CIndex = 2, DIndex = 3, VPeakIndex = 4, AlphaExcIndex = 5, AlphaInhIndex = 6;

    /// <inheritdoc/>
    public override IReadOnlyList<double[]> DenseArrays => [ADt, B, C, D, VPeak, AlphaExc, AlphaInh];
}
