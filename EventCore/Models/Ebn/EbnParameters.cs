using Sim.EventCore.Models;

namespace Sim.EventCore.Description;

/// <summary>
/// Ebn: the neuron of an efficient balanced (spike-coding) network (contract: docs/models/ebn.md; Boerlin, Machens &amp;
/// Denève 2013, PLoS Comput Biol; Alemi, Machens, Denève &amp; Slotine 2018, AAAI). Neuron i has a decoder column D_i
/// (J values, J = <see cref="Dimensions"/>), a slow trace r_i of its spikes and a voltage V_i:
/// <code>
/// dr_i/dt = −λ_d·r_i + s_i                                x̂ = D·r (read out by the task)
/// dV_i/dt = −λ_V·V_i + I_i + Σ_j Ω_f,ij·s_j               I_i: drive (Dᵀc + k·Dᵀe from the task) + slow input Ω_s·r
/// Ω_f = −(DᵀD + μ·λ_d²·I)   (instantaneous)              T_i = (ν·λ_d + μ·λ_d² + ‖D_i‖²)/2
/// </code>
/// Time constants are rates in s⁻¹ as in the papers (dt stays in ms: α = e^{−λ·dt/1000}). The fast weights Ω_f are
/// computed from D and put on a power-of-two grid; the slow weights Ω_s are an ordinary trace-coupled projection of the
/// population onto itself (weights in V-units per second per unit of r). The greedy one-spike-at-a-time resolution of
/// Ω_f inside a tick is the engine's <see cref="FastCoupling"/>.
/// </summary>
public sealed record EbnParameters : NeuronParameters
{
    /// <inheritdoc/>
    public override NeuronModelDefinition Model => EbnModel.Instance;
    /// <summary>Decay rate λ_d of the slow trace r (s⁻¹); the paper's 10 s⁻¹.</summary>
    [Positive] public Value LambdaDecoderPerS { get; init; } = 10.0;
    /// <summary>Leak rate λ_V of the voltage (s⁻¹); the paper's 20 s⁻¹.</summary>
    [Positive] public Value LambdaVPerS { get; init; } = 20.0;
    /// <summary>Quadratic spike cost μ (dimensionless); the paper's 1e-6.</summary>
    [NonNegative] public Value Mu { get; init; } = 1e-6;
    /// <summary>Linear spike cost ν (dimensionless); the paper's 0.</summary>
    [NonNegative] public Value Nu { get; init; } = 0.0;
    /// <summary>Dimension J of the represented signal x (1–3): how many of the decoder rows are used.</summary>
    public int Dimensions { get; init; } = 2;
    /// <summary>Row 0 of the decoder D (D[0, i] per neuron, units of x per spike).</summary>
    public Value Decoder0 { get; init; } = 0.0;
    /// <summary>Row 1 of the decoder D (used when <see cref="Dimensions"/> ≥ 2).</summary>
    public Value Decoder1 { get; init; } = 0.0;
    /// <summary>Row 2 of the decoder D (used when <see cref="Dimensions"/> = 3).</summary>
    public Value Decoder2 { get; init; } = 0.0;
    /// <summary>Initial voltage V (a.u.).</summary>
    public Value VInit { get; init; } = 0.0;
    /// <summary>1 for a living neuron, 0 for a silenced one (its threshold is +∞: it never fires, so it never decodes).</summary>
    public Value Alive { get; init; } = 1.0;
    /// <summary>
    /// Fraction bits G of the grid 2^-G on which r is kept (8–40), so that the slow input Ω_s·r is an exact integer sum
    /// on every engine. r stops decaying below about 2^-(G+1)/(1 − α_d) (the rounding floor, docs/models/ebn.md).
    /// </summary>
    public int TraceFractionBits { get; init; } = 20;

    /// <summary>The decoder row <paramref name="k"/> (0–2).</summary>
    public Value DecoderRow(int k) => k switch
    {
        0 => Decoder0, 1 => Decoder1, 2 => Decoder2,
        _ => throw new ArgumentOutOfRangeException(nameof(k), $"decoder rows are 0–2, got {k}"),
    };

    /// <summary>The largest J the parameter record holds.</summary>
    public const int MaxDimensions = 3;
}
