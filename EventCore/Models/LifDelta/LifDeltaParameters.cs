using Sim.EventCore.Models;

namespace Sim.EventCore.Description;

/// <summary>
/// LifDelta: leaky integrate-and-fire neuron with delta synapses (Brette et al. 2007, benchmark 4; NEST <c>iaf_psc_delta</c>).
/// Contract: docs/models/lif_delta.md.
/// <code>
/// du/dt = −u/τ_m + I_ext,  u = v − E_L;  an arriving spike makes v jump by w (mV).
/// </code>
/// Grid form (NEST's order): u' = u·α_m + I_ext·τ_m·(1 − α_m) + Σw, i.e. jumps arriving in a tick are added after the
/// propagation of that tick, then the threshold v &gt; V_t is tested. Spikes arriving while refractory are discarded
/// (NEST semantics; documented decision).
/// </summary>
public sealed record LifDeltaParameters : NeuronParameters, ILifParameters
{
    /// <inheritdoc/>
    public override NeuronModelDefinition Model => LifDeltaModel.Instance;
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
