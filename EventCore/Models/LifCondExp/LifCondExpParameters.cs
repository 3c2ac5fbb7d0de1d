using Sim.EventCore.Models;

namespace Sim.EventCore.Description;

/// <summary>
/// LifCondExp: leaky integrate-and-fire neuron with exponentially decaying synaptic conductances (COBA; Brette et al.
/// 2007, benchmark 1; NEST <c>iaf_cond_exp</c> with the conductances in units of the leak conductance). Contract:
/// docs/models/lif_cond_exp.md.
/// <code>
/// τ_m dv/dt = −(v − E_L) + g_e·(E_e − v) + g_i·(E_i − v) + I_ext     (not while refractory)
/// dg_e/dt = −g_e/τ_e,   dg_i/dt = −g_i/τ_i                          (g dimensionless: multiples of the leak conductance)
/// spike when v &gt; V_t (strict); then v ← V_r and v is held for t_ref.
/// </code>
/// A weight w ≥ 0 adds w to g_e, a weight w &lt; 0 adds |w| to g_i, at the start of the arrival tick. The membrane is
/// integrated by forward Euler with the conductances of the tick (the scheme of the benchmark's scripts), the
/// conductances decay exactly (α_x = e^{−dt/τ_x}).
/// </summary>
public sealed record LifCondExpParameters : NeuronParameters, ILifParameters
{
    /// <inheritdoc/>
    public override NeuronModelDefinition Model => LifCondExpModel.Instance;
    /// <summary>Membrane time constant τ_m = C_m/g_L (ms).</summary>
    [Positive] public Value TauMemMs { get; init; } = 20.0;
    /// <summary>Excitatory conductance time constant τ_e (ms).</summary>
    [Positive] public Value TauExcMs { get; init; } = 5.0;
    /// <summary>Inhibitory conductance time constant τ_i (ms).</summary>
    [Positive] public Value TauInhMs { get; init; } = 10.0;
    /// <summary>Leak reversal E_L (mV).</summary>
    public Value ELeakMv { get; init; } = -60.0;
    /// <summary>Excitatory reversal potential E_e (mV).</summary>
    public Value EExcMv { get; init; } = 0.0;
    /// <summary>Inhibitory reversal potential E_i (mV).</summary>
    public Value EInhMv { get; init; } = -80.0;
    /// <summary>Threshold V_t (mV); a spike needs v &gt; V_t.</summary>
    public Value VThresholdMv { get; init; } = -50.0;
    /// <summary>Reset V_r (mV).</summary>
    public Value VResetMv { get; init; } = -60.0;
    /// <summary>Refractory period t_ref (ms), rounded to whole ticks.</summary>
    [NonNegative] public Value RefractoryMs { get; init; } = 5.0;
    /// <summary>Constant drive I_ext in mV (I/g_L: the steady-state depolarisation it causes without synaptic input).</summary>
    public Value IExtMv { get; init; } = 0.0;
    /// <summary>Initial membrane potential (mV); null means E_L.</summary>
    public Value? VInitMv { get; init; }
    /// <summary>Initial excitatory conductance (units of g_L).</summary>
    public Value GExcInit { get; init; } = 0.0;
    /// <summary>Initial inhibitory conductance (units of g_L).</summary>
    public Value GInhInit { get; init; } = 0.0;
}
