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

    /// <inheritdoc/>
    public override IReadOnlyCollection<string> FileKeys => ["tau_plus_ms", "tau_minus_ms", "tau_x_ms", "tau_y_ms", "a2_plus", "a3_plus", "a2_minus", "a3_minus", "w_max"];

    /// <inheritdoc/>
    public override Sim.EventCore.Plasticity.IPlasticityRule? FromFile(string projection, FileParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var d = new TripletStdpParameters();
        var p = new TripletStdpParameters
        {
            TauPlusMs = parameters.Number("tau_plus_ms", d.TauPlusMs),
            TauMinusMs = parameters.Number("tau_minus_ms", d.TauMinusMs),
            TauXMs = parameters.Number("tau_x_ms", d.TauXMs),
            TauYMs = parameters.Number("tau_y_ms", d.TauYMs),
            A2Plus = parameters.Number("a2_plus", d.A2Plus),
            A3Plus = parameters.Number("a3_plus", d.A3Plus),
            A2Minus = parameters.Number("a2_minus", d.A2Minus),
            A3Minus = parameters.Number("a3_minus", d.A3Minus),
            WMax = parameters.Number("w_max", d.WMax),
        };
        parameters.Report(p.Problems());
        return parameters.Valid ? new TripletStdpRule(projection, p) : null;
    }

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
