using Sim.EventCore.Models;

namespace Sim.EventCore.Description;

/// <summary>
/// A leaky tanh rate unit, the recurrent unit of RFLO (Murray 2019, eLife 8:e43299; contract:
/// docs/models/rate_tanh.md). Dimensionless. One tick:
/// <code>
/// u[t+1] = W_rec·h[t] + W_in·x[t+1] + I_ext                  W_rec: trace-coupled projections from other rate units
/// h[t+1] = Q(h[t] + (tanh u[t+1] − h[t])·dt/τ)                leak 1/τ per tick at dt/τ (Murray's τ in steps = τ/dt)
/// </code>
/// h is the graded output that other units read through weights (exported trace, no delay beyond the tick); Q rounds
/// it onto the grid 2^-<see cref="RateFractionBits"/> so that W_rec·h is an exact integer sum in every engine. It never
/// spikes. tanh is <see cref="FixedTanh"/>; φ'(u) = 1 − tanh² u is the model's pseudo-derivative (for RFLO).
/// </summary>
public sealed record RateTanhParameters : NeuronParameters
{
    /// <inheritdoc/>
    public override NeuronModelDefinition Model => RateTanhModel.Instance;
    /// <summary>Time constant τ (ms), at least dt; Murray's periodic task: τ = 10 steps.</summary>
    [Positive] public Value TauMs { get; init; } = 10.0;
    /// <summary>Constant input I_ext (dimensionless), added to u every tick.</summary>
    public Value IExt { get; init; } = 0.0;
    /// <summary>Initial rate h (dimensionless), every value in [−1, 1]; rounded onto the grid 2^-G.</summary>
    public Value HInit { get; init; } = 0.0;
    /// <summary>Fraction bits G of the grid 2^-G on which h is kept, 8–40.</summary>
    public int RateFractionBits { get; init; } = 24;
}
