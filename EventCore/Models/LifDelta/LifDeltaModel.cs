using Sim.EventCore.Compilation;
using Sim.EventCore.Description;

namespace Sim.EventCore.Models;

/// <summary>
/// The LifDelta model unit (docs/models/lif_delta.md): LIF with delta synapses, NEST <c>iaf_psc_delta</c> order, in the
/// frame u = v − E_L. One tick, per neuron:
/// <code>
/// j ← (acc_e + acc_i)·2^-F                                     (Deliver: an exact integer sum, then one scaling)
/// a ← u·α_m;  [a ← drive·τ_m(1−α_m) + a];  a ← a + j            (Integrate)
/// if t − t_last ≥ n_ref: u ← a; if u &gt; θ_u (or escape noise): spike, u ← u_r, t_last ← t
/// (while refractory u is held and the jumps of the tick are discarded)
/// </code>
/// </summary>
public sealed class LifDeltaModel : LifModelDefinition<LifDeltaParameters, LifDeltaConstants>
{
    /// <summary>The one instance (registered in <see cref="ModelRegistry"/>).</summary>
    public static readonly LifDeltaModel Instance = new();

    private LifDeltaModel() { }

    /// <inheritdoc/>
    public override string Name => "lif_delta";
    /// <inheritdoc/>
    public override string Summary => "LIF with delta synapses (NEST iaf_psc_delta)";

    /// <inheritdoc/>
    public override IReadOnlyList<StateVariable> StateVariables { get; } =
        [Membrane];

    /// <inheritdoc/>
    public override bool SupportsPrecise => true;

    internal override Precise.PrecisePopulation CreatePrecise(CompiledPopulation population, Precise.PreciseClock clock, double[][] initial, double[] drive, bool eager)
        => new LifDeltaPrecise(population, clock, initial, drive);

    /// <inheritdoc/>
    public override bool DistinguishesReceptors => false;

    /// <inheritdoc/>
    public override ConformanceHints Hints => new(CurrentAmplitude: 1.0);

    /// <inheritdoc/>
    protected override LifDeltaConstants Compile(LifDeltaParameters q, ModelCompileContext ctx)
    {
        int n = ctx.Size;
        double dt = ctx.DtMs;
        var c = new LifDeltaConstants(n);
        var tm = ctx.DrawPositive(q.TauMemMs, "tau_mem_ms");
        var ie = ctx.Draw(q.IExtMvPerMs, "i_ext_mv_per_ms");
        CompileThreshold(q, ctx, c);
        for (int i = 0; i < n; i++)
        {
            c.AlphaMem[i] = Math.Exp(-dt / tm[i]);
            c.DriveGain[i] = tm[i] * (1.0 - c.AlphaMem[i]);
        }
        tm.CopyTo(c.TauMemMs, 0);
        ctx.ConstantDrive = ie;
        c.Seal();
        return c;
    }

    /// <inheritdoc/>
    protected override void Initialise(CompiledPopulation p, LifDeltaParameters q, LifDeltaConstants c, ulong seed, int instance, double[][] state)
    {
        InitialMembrane(p, q, c, seed, instance, state[U]);
    }

    internal override PopulationState CreateEventState(CompiledPopulation population, EventStateContext context) => new LifDeltaState(population);

    /// <inheritdoc/>
    public override T DenseStep<T>(IDenseKernel<T> k)
    {
        T j = k.Mul(k.Add(k.ExcInput, k.InhInput), k.WeightScale);
        T a = k.Mul(k.State(U), k.Constant(LifDeltaConstants.AlphaMemIndex));
        if (k.HasDrive) a = k.Add(k.Mul(k.Drive, k.Constant(LifDeltaConstants.DriveGainIndex)), a);
        a = k.Add(a, j);
        return k.ThresholdWithRefractoriness(a, U, k.Constant(LifDeltaConstants.ThetaIndex), k.Constant(LifDeltaConstants.ResetIndex));
    }

    /// <inheritdoc/>
    protected override bool ReferenceStep(LifDeltaConstants c, int i, in ReferenceInput input, Span<double> s, ref long lastSpike)
    {
        double jump = (input.Exc + input.Inh) * input.WeightScale;
        double a = s[U] * c.AlphaMem[i];
        if (input.HasDrive) a = input.Drive * c.DriveGain[i] + a;
        a = a + jump;
        return c.ReferenceThreshold(i, input, a, ref s[U], ref lastSpike);
    }

    /// <inheritdoc/>
    protected override LifDeltaParameters Sample(Random rng, double dtMs, bool mixed)
    {
        Value Tau(double v) => mixed ? Value.Uniform(v, v + 6) : v;
        return new LifDeltaParameters
        {
            TauMemMs = Tau(5 + rng.Next(20)), ELeakMv = -65, VThresholdMv = mixed ? Value.Uniform(-56, -52) : -55, VResetMv = -70,
            RefractoryMs = mixed ? Value.Uniform(0, 4 * dtMs) : rng.Next(4) * dtMs,
            VInitMv = Value.Uniform(-70, -54), IExtMvPerMs = rng.Next(2) == 0 ? 0.0 : 0.6,
        };
    }
}

/// <summary>Per-neuron constants of <see cref="LifDeltaParameters"/> (u = v − E_L; DriveGain = τ_m(1 − α_m)); τ_m and t_ref (ms) kept for the precise engine.</summary>
public sealed class LifDeltaConstants(int n) : LifConstants(n)
{
    /// <summary>α_m = e^{−dt/τ_m} and DriveGain = τ_m(1 − α_m).</summary>
    public readonly double[] AlphaMem = new double[n], DriveGain = new double[n];
    /// <summary>τ_m as drawn (ms).</summary>
    public readonly double[] TauMemMs = new double[n];

    /// <summary>Indices of <see cref="DenseArrays"/>.</summary>
    public const int AlphaMemIndex = 0, DriveGainIndex = 1, ThetaIndex = 2, ResetIndex = 3;

    /// <inheritdoc/>
    public override IReadOnlyList<double[]> DenseArrays => [AlphaMem, DriveGain, ThetaU, ResetU];

}
