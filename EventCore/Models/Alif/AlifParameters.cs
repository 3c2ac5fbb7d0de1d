using Sim.EventCore.Models;

namespace Sim.EventCore.Description;

/// <summary>
/// The discrete-time LIF of e-prop (Bellec et al. 2020, Nat. Commun. 11:3625, Methods; contract: docs/models/lif_eprop.md),
/// without threshold adaptation. v rests at 0 (mV), one tick t, with z the spike of the previous tick:
/// <code>
/// v[t] = α·v[t−1] + ζ·I[t] − z[t−1]·v_th        α = e^{−dt/τ_m}; ζ = 1 or 1 − α (input_filter); reset by subtraction
/// z[t] = Θ(v[t] − v_th), 0 while refractory (n_ref = round(t_ref/dt) ticks after a spike; v keeps integrating)
/// ψ[t] = (γ_pd/v_th)·max(0, 1 − |v[t] − v_th|/v_th), 0 while refractory        (pseudo-derivative, 1/mV)
/// </code>
/// I[t] is the delivered synaptic input (W_rec·z[t−1] + W_in·x[t], weights in mV) plus injected currents (mV per tick).
/// </summary>
public record LifEpropParameters : NeuronParameters
{
    /// <inheritdoc/>
    public override NeuronModelDefinition Model => LifEpropModel.Instance;
    /// <summary>Membrane time constant τ_m (ms); e-prop's pattern task: 30 ms (its evidence task: 20 ms).</summary>
    [Positive] public Value TauMemMs { get; init; } = 20.0;
    /// <summary>Threshold v_th (mV) relative to rest, also the amount the reset subtracts; e-prop: 0.6 (pattern task 0.03).</summary>
    [Positive] public Value VThresholdMv { get; init; } = 0.6;
    /// <summary>Refractory period t_ref (ms), rounded to n_ref ticks; e-prop: 5 ms (evidence task), 0 or 2 ms elsewhere.</summary>
    [NonNegative] public Value RefractoryMs { get; init; } = 5.0;
    /// <summary>Dampening factor γ_pd of the pseudo-derivative (dimensionless); e-prop: 0.3.</summary>
    [NonNegative] public Value PseudoDerivativeGain { get; init; } = 0.3;
    /// <summary>Constant input I_ext (mV per tick), added to the input every tick.</summary>
    public Value IExtMv { get; init; } = 0.0;
    /// <summary>Initial membrane potential (mV); 0 = rest.</summary>
    public Value VInitMv { get; init; } = 0.0;
    /// <summary>
    /// 0: ζ = 1, the input adds to v as it is (e-prop's ALIF/evidence-accumulation code); 1: ζ = 1 − α, the input is
    /// low-pass filtered (e-prop's pattern-generation code). Nothing else is accepted.
    /// </summary>
    public int InputFilter { get; init; }
}

/// <summary>
/// The adaptive LIF (ALIF) of e-prop (Bellec et al. 2020, Nat. Commun. 11:3625, Methods; contract:
/// docs/models/alif.md): <see cref="LifEpropParameters"/>' neuron with a threshold that rises by β with every spike and
/// relaxes with τ_a:
/// <code>
/// a[t] = ρ·a[t−1] + z[t−1]                      ρ = e^{−dt/τ_a}; a dimensionless (a spike count, filtered)
/// A[t] = v_th + β·a[t]                          adaptive threshold (mV)
/// v[t] = α·v[t−1] + ζ·I[t] − z[t−1]·v_th        the reset subtracts v_th, not A (e-prop's code)
/// z[t] = Θ(v[t] − A[t]), 0 while refractory;    ψ[t] = (γ_pd/v_th)·max(0, 1 − |v[t] − A[t]|/v_th), 0 while refractory
/// </code>
/// With β = 0 it is <c>lif_eprop</c> bit for bit.
/// </summary>
public sealed record AlifParameters : LifEpropParameters
{
    /// <inheritdoc/>
    public override NeuronModelDefinition Model => AlifModel.Instance;
    /// <summary>Adaptation time constant τ_a (ms); e-prop's evidence task: 2000 ms.</summary>
    [Positive] public Value TauAdaptMs { get; init; } = 2000.0;
    /// <summary>
    /// Threshold increase β per unit of a (mV); e-prop's evidence task sets β = 1.7·(1 − ρ)/(1 − α) ≈ 0.0174 mV at
    /// dt = 1 ms, τ_m = 20 ms, τ_a = 2000 ms (the default).
    /// </summary>
    [NonNegative] public Value BetaMv { get; init; } = 0.0174;
}
