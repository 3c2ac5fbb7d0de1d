using Sim.EventCore.Models;

namespace Sim.EventCore.Description;

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
    /// <summary>The model these parameters belong to (its unit in EventCore/Models/, registered in <see cref="ModelRegistry"/>).</summary>
    public abstract NeuronModelDefinition Model { get; }
}

/// <summary>Escape noise (docs/models/escape_noise.md): spike with probability σ((v − θ)/δv) instead of the hard threshold.</summary>
/// <param name="DeltaV">δv, in the model's voltage unit (mV, or a.u. for GoalLif); must be &gt; 0.</param>
public sealed record EscapeNoise(double DeltaV);
