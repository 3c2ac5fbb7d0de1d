using Sim.EventCore.Models;

namespace Sim.EventCore.Description;

/// <summary>
/// GoalLif: the LIF of Capone, Muratore &amp; Paolucci (2022), transcribed from the authors' <c>lif.py</c>
/// (contract: docs/models/goal_lif.md). Dimensionless (arbitrary units, as in the paper). One tick, in this order:
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
public record GoalLifParameters : NeuronParameters
{
    /// <inheritdoc/>
    public override NeuronModelDefinition Model => GoalLifModel.Instance;
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
    /// <summary>
    /// Fraction bits G of the grid on which hz and ej are kept (2^-G), 8–40; or 0 for the unquantized float64 comparison
    /// mode (hz and ej not rounded, the trace-coupled input summed in source order with float64 weights): not bit-exact
    /// across engines, so only the event engine runs it (docs/models/goal_lif.md, "Grids").
    /// </summary>
    public int TraceFractionBits { get; init; } = 20;
}

/// <summary>
/// The parameters of <see cref="GoalLifEulerModel"/> (<c>goal_lif_euler</c>): GoalLif's, with the forward-Euler membrane
/// α_m = 1 − dt/τ_m and the authors' walker default τ_m = 4 ms (docs/models/goal_lif.md, "Forward-Euler variant").
/// </summary>
public sealed record GoalLifEulerParameters : GoalLifParameters
{
    /// <summary>The walker code's τ_m = 4 ms.</summary>
    public GoalLifEulerParameters() => TauMemMs = 4.0;

    /// <inheritdoc/>
    public override NeuronModelDefinition Model => GoalLifEulerModel.Instance;
}
