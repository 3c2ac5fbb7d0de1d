namespace Sim.Plasticity;

/// <summary>Triplet STDP (<see cref="TripletStdpRule"/>) in the rule registry, with its conformance sample.</summary>
public sealed class TripletStdpRuleDefinition : RuleDefinition
{
    /// <summary>The one instance.</summary>
    public static readonly TripletStdpRuleDefinition Instance = new();

    private TripletStdpRuleDefinition() { }

    /// <inheritdoc/>
    public override string Name => "triplet_stdp";
    /// <inheritdoc/>
    public override string Summary => "all-to-all triplet STDP (Pfister & Gerstner 2006; NEST stdp_triplet_synapse), visual-cortex parameters by default";

    /// <summary>The spike-timing rules' sample network with the time constants scaled randomly and amplitudes large enough to move the weights.</summary>
    public override RuleSample Sample(int seed, int batch)
    {
        var r = new Random(seed);
        double wMax = 1.5 + 3 * r.NextDouble();
        var (spec, steps, projection, n) = StdpRuleDefinition.SpikeSample(r, seed, batch, wMax, "triplet");
        double scale = 0.5 + r.NextDouble(), gain = 5 + 20 * r.NextDouble();
        var d = new TripletStdpParameters();
        var p = d with
        {
            TauPlusMs = d.TauPlusMs * scale, TauMinusMs = d.TauMinusMs * scale, TauXMs = d.TauXMs * scale, TauYMs = d.TauYMs * scale,
            A2Plus = r.Next(2) == 0 ? 0 : 5e-3 * gain, A3Plus = d.A3Plus * gain, A2Minus = d.A2Minus * gain, A3Minus = d.A3Minus * gain, WMax = wMax,
        };
        return new RuleSample(spec, _ => new TripletStdpRule(projection, p), steps, r.Next(2, 4), [projection])
        {
            Description = $"N {n}, {steps} ticks, {projection}, tau scale {scale:G3}, gain {gain:G3}, A2+ {p.A2Plus:G3}, w_max {wMax:G3}",
        };
    }
}
