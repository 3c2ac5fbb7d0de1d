using Sim.EventCore.Models;

namespace Sim.EventCore.Description;

/// <summary>
/// LifExp: current-based leaky integrate-and-fire neuron with exponential synaptic currents
/// (Brette et al. 2007, benchmark 2; Brian2 <c>examples/CUBA.py</c>; NEST <c>iaf_psc_exp</c>). Contract: docs/models/lif_exp.md.
/// <code>
/// dv/dt = (g_e + g_i + I_ext − (v − E_L))/τ_m     (not while refractory)
/// dg_e/dt = −g_e/τ_e,   dg_i/dt = −g_i/τ_i         (g in mV: the voltage they would add at steady state)
/// spike when v &gt; V_t (strict); then v ← V_r and v is held for t_ref.
/// </code>
/// Integrated exactly on the grid: with u = v − E_L,
/// u' = u·α_m + g_e·P_e + g_i·P_i + I_ext·(1 − α_m), P_x = τ_x/(τ_x − τ_m)·(α_x − α_m) (h/τ_m·α_m when τ_x = τ_m).
/// A positive weight adds to g_e, a negative one to g_i, at the start of the arrival tick.
/// </summary>
public sealed record LifExpParameters : NeuronParameters, ILifParameters
{
    /// <inheritdoc/>
    public override NeuronModelDefinition Model => LifExpModel.Instance;
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
