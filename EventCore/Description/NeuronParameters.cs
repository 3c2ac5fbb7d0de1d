namespace Sim.EventCore.Description;

/// <summary>The neuron models a population can use (MODELS.md §1).</summary>
public enum NeuronModel
{
    /// <summary>Current-based LIF with exponential synaptic currents (CUBA), <see cref="LifExpParameters"/>.</summary>
    LifExp,
    /// <summary>LIF with delta synapses (CUBA-PS), <see cref="LifDeltaParameters"/>.</summary>
    LifDelta,
    /// <summary>The model of Capone, Muratore &amp; Paolucci 2022, <see cref="GoalLifParameters"/>.</summary>
    GoalLif,
}

/// <summary>Marks a parameter that must be strictly positive (time constants).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PositiveAttribute : Attribute;

/// <summary>Marks a parameter that must be ≥ 0.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class NonNegativeAttribute : Attribute;

/// <summary>
/// Model parameters and initial state of a population. Every <see cref="Value"/> property may be a constant,
/// a distribution (drawn once per neuron at compile time) or one value per neuron. In files, a property
/// <c>TauMemMs</c> is written <c>tau_mem_ms</c>.
/// </summary>
public abstract record NeuronParameters
{
    /// <summary>The model these parameters belong to.</summary>
    public abstract NeuronModel Model { get; }
}

/// <summary>
/// LifExp: current-based leaky integrate-and-fire neuron with exponential synaptic currents
/// (Brette et al. 2007, benchmark 2; Brian2 <c>examples/CUBA.py</c>; NEST <c>iaf_psc_exp</c>).
/// <code>
/// dv/dt = (g_e + g_i + I_ext − (v − E_L))/τ_m     (not while refractory)
/// dg_e/dt = −g_e/τ_e,   dg_i/dt = −g_i/τ_i         (g in mV: the voltage they would add at steady state)
/// spike when v &gt; V_t (strict); then v ← V_r and v is held for t_ref.
/// </code>
/// Integrated exactly on the grid (MODELS.md §1.1): with u = v − E_L,
/// u' = u·α_m + g_e·P_e + g_i·P_i + I_ext·(1 − α_m), P_x = τ_x/(τ_x − τ_m)·(α_x − α_m) (h/τ_m·α_m when τ_x = τ_m).
/// A positive weight adds to g_e, a negative one to g_i, at the start of the arrival tick.
/// </summary>
public sealed record LifExpParameters : NeuronParameters
{
    /// <inheritdoc/>
    public override NeuronModel Model => NeuronModel.LifExp;
    /// <summary>Membrane time constant τ_m (ms).</summary>
    [Positive] public Value TauMemMs { get; init; } = 20.0;
    /// <summary>Excitatory synaptic time constant τ_e (ms).</summary>
    [Positive] public Value TauExcMs { get; init; } = 5.0;
    /// <summary>Inhibitory synaptic time constant τ_i (ms).</summary>
    [Positive] public Value TauInhMs { get; init; } = 10.0;
    /// <summary>Leak reversal E_L (mV).</summary>
    public Value ELeakMv { get; init; } = -60.0;
    /// <summary>Threshold V_t (mV); a spike needs v &gt; V_t.</summary>
    public Value VThresholdMv { get; init; } = -50.0;
    /// <summary>Reset V_r (mV).</summary>
    public Value VResetMv { get; init; } = -60.0;
    /// <summary>Refractory period t_ref (ms), rounded to whole ticks.</summary>
    [NonNegative] public Value RefractoryMs { get; init; } = 2.0;
    /// <summary>Constant drive I_ext in mV (the steady-state depolarisation it causes).</summary>
    public Value IExtMv { get; init; } = 0.0;
    /// <summary>Initial membrane potential (mV); null means E_L.</summary>
    public Value? VInitMv { get; init; }
    /// <summary>Initial excitatory synaptic variable (mV).</summary>
    public Value GExcInitMv { get; init; } = 0.0;
    /// <summary>Initial inhibitory synaptic variable (mV).</summary>
    public Value GInhInitMv { get; init; } = 0.0;
}

/// <summary>
/// LifDelta: leaky integrate-and-fire neuron with delta synapses (Brette et al. 2007, benchmark 4; NEST <c>iaf_psc_delta</c>).
/// <code>
/// du/dt = −u/τ_m + I_ext,  u = v − E_L;  an arriving spike makes v jump by w (mV).
/// </code>
/// Grid form (NEST's order): u' = u·α_m + I_ext·τ_m·(1 − α_m) + Σw, i.e. jumps arriving in a tick are added after the
/// propagation of that tick, then the threshold v &gt; V_t is tested. Spikes arriving while refractory are discarded
/// (NEST semantics; documented decision).
/// </summary>
public sealed record LifDeltaParameters : NeuronParameters
{
    /// <inheritdoc/>
    public override NeuronModel Model => NeuronModel.LifDelta;
    /// <summary>Membrane time constant τ_m (ms).</summary>
    [Positive] public Value TauMemMs { get; init; } = 20.0;
    /// <summary>Leak reversal E_L (mV).</summary>
    public Value ELeakMv { get; init; } = -60.0;
    /// <summary>Threshold V_t (mV).</summary>
    public Value VThresholdMv { get; init; } = -50.0;
    /// <summary>Reset V_r (mV).</summary>
    public Value VResetMv { get; init; } = -60.0;
    /// <summary>Refractory period (ms), rounded to whole ticks.</summary>
    [NonNegative] public Value RefractoryMs { get; init; } = 2.0;
    /// <summary>Constant input I_ext (mV/ms).</summary>
    public Value IExtMvPerMs { get; init; } = 0.0;
    /// <summary>Initial membrane potential (mV); null means E_L.</summary>
    public Value? VInitMv { get; init; }
}

/// <summary>
/// GoalLif: the LIF of Capone, Muratore &amp; Paolucci (2022), transcribed from the authors' <c>lif.py</c> (MODELS.md §1.3).
/// Dimensionless (arbitrary units, as in the paper). One tick, in this order:
/// <code>
/// hz' = Q(α_s·hz + (1−α_s)·z)                       synaptic filter of the previous spikes
/// ej' = Q(α_m·ej + (1−α_m)·hz')                     presynaptic eligibility
/// I   = W_in·x + W_rec·hz' + bias                   W_rec: projections between GoalLif populations act through hz'
/// v'  = α_m·v + (1−α_m)·(I + u) + reset·z           u: current inputs (teacher drive)
/// z'  = Θ(v' − thr)  (strict), or escape noise
/// </code>
/// Q rounds to the grid 2^-<see cref="TraceFractionBits"/> (round half to even) so that W_rec·hz' is an exact integer
/// sum in both engines (numerics contract). No refractoriness, no Dale's law.
/// </summary>
public sealed record GoalLifParameters : NeuronParameters
{
    /// <inheritdoc/>
    public override NeuronModel Model => NeuronModel.GoalLif;
    /// <summary>Membrane time constant τ_m (ms); paper default 8 dt.</summary>
    [Positive] public Value TauMemMs { get; init; } = 8.0;
    /// <summary>Synaptic filter time constant τ_s (ms); paper default 2 dt.</summary>
    [Positive] public Value TauSynMs { get; init; } = 2.0;
    /// <summary>Bias current (a.u.).</summary>
    public Value Bias { get; init; } = -4.0;
    /// <summary>Jump added to v in the tick after a spike (a.u.); the paper's reset = −20.</summary>
    public Value ResetJump { get; init; } = -20.0;
    /// <summary>Threshold thr (a.u.).</summary>
    public Value Threshold { get; init; } = 0.0;
    /// <summary>Initial membrane potential V_o (a.u.).</summary>
    public Value VInit { get; init; } = -4.0;
    /// <summary>Fraction bits G of the grid on which hz and ej are kept (2^-G).</summary>
    public int TraceFractionBits { get; init; } = 20;
}

/// <summary>Escape noise (MODELS.md §1.4): spike with probability σ((v − θ)/δv) instead of the hard threshold.</summary>
/// <param name="DeltaV">δv, in the model's voltage unit (mV, or a.u. for GoalLif); must be &gt; 0.</param>
public sealed record EscapeNoise(double DeltaV);
