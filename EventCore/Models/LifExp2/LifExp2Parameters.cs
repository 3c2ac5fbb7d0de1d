using Sim.EventCore.Models;

namespace Sim.EventCore.Description;

/// <summary>
/// LifExp2: current-based LIF with double-exponential (difference-of-exponentials) synaptic currents, rise and decay
/// time constant per receptor, integrated exactly (a linear system). Contract: docs/models/lif_exp2.md.
/// <code>
/// τ_m du/dt = −u + I_e + I_i + I_ext,  u = v − E_L      (not while refractory)
/// I_x = d_x − r_x,  dd_x/dt = −d_x/τ_dx,  dr_x/dt = −r_x/τ_rx,  τ_rx &lt; τ_dx
/// a weight w adds w·N_x to both d_x and r_x, N_x = 1/(e^{−t_p/τ_dx} − e^{−t_p/τ_rx}), t_p = τ_dx·τ_rx/(τ_dx − τ_rx)·ln(τ_dx/τ_rx)
/// </code>
/// so a single arrival's current I_x(t) = w·N_x·(e^{−t/τ_dx} − e^{−t/τ_rx}) peaks at exactly w (mV) at t_p (the
/// peak normalisation of NEST's beta-function synapses). spike when v &gt; V_t (strict); then v ← V_r, held for t_ref.
/// </summary>
public sealed record LifExp2Parameters : NeuronParameters, ILifParameters
{
    /// <inheritdoc/>
    public override NeuronModelDefinition Model => LifExp2Model.Instance;
    /// <summary>Membrane time constant τ_m (ms).</summary>
    [Positive] public Value TauMemMs { get; init; } = 20.0;
    /// <summary>Excitatory rise time constant τ_re (ms), below τ_de.</summary>
    [Positive] public Value TauRiseExcMs { get; init; } = 1.0;
    /// <summary>Excitatory decay time constant τ_de (ms).</summary>
    [Positive] public Value TauDecayExcMs { get; init; } = 5.0;
    /// <summary>Inhibitory rise time constant τ_ri (ms), below τ_di.</summary>
    [Positive] public Value TauRiseInhMs { get; init; } = 1.0;
    /// <summary>Inhibitory decay time constant τ_di (ms).</summary>
    [Positive] public Value TauDecayInhMs { get; init; } = 10.0;
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
}
