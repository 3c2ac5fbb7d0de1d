using Sim.EventCore.Models;

namespace Sim.EventCore.Description;

/// <summary>
/// Theta: the Ermentrout–Kopell canonical type-I neuron (Ermentrout &amp; Kopell 1986, SIAM J. Appl. Math. 46:233;
/// Ermentrout 1996, Neural Comput. 8:979) with a time constant, as the theta-neuron networks of Nicola &amp; Clopath
/// (2017, Nat. Commun. 8:2208) use it, with exponentially decaying current synapses. Contract: docs/models/theta.md.
/// <code>
/// τ dθ/dt = (1 − cos θ) + (1 + cos θ)·I        (θ in rad, I dimensionless, τ in ms)
/// spike when θ crosses π; then θ ← θ − 2π
/// I = i_exc + i_inh + I_ext,   di_x/dt = −i_x/τ_x
/// </code>
/// Under a constant I &gt; 0 it fires with period π·τ/√I. Integrated by forward Euler with cos θ evaluated as a fixed
/// polynomial (<see cref="ThetaCosine"/>), the same IEEE operations in every engine.
/// </summary>
public sealed record ThetaParameters : NeuronParameters
{
    /// <inheritdoc/>
    public override NeuronModelDefinition Model => ThetaModel.Instance;
    /// <summary>Time constant τ (ms) of the phase; must exceed dt.</summary>
    [Positive] public Value TauMs { get; init; } = 10.0;
    /// <summary>Excitatory synaptic current time constant τ_e (ms).</summary>
    [Positive] public Value TauExcMs { get; init; } = 5.0;
    /// <summary>Inhibitory synaptic current time constant τ_i (ms).</summary>
    [Positive] public Value TauInhMs { get; init; } = 10.0;
    /// <summary>Constant input I_ext (dimensionless; &gt; 0 is the oscillatory regime, &lt; 0 excitable).</summary>
    public Value IExt { get; init; } = 0.0;
    /// <summary>Initial phase θ (rad), in [−π, π].</summary>
    public Value ThetaRadInit { get; init; } = 0.0;
}
