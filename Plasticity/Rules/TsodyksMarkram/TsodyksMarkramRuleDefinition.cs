namespace Sim.Plasticity;

/// <summary>Tsodyks–Markram short-term plasticity (<see cref="TsodyksMarkramRule"/>) in the rule registry, with its conformance sample.</summary>
public sealed class TsodyksMarkramRuleDefinition : RuleDefinition
{
    /// <summary>The one instance.</summary>
    public static readonly TsodyksMarkramRuleDefinition Instance = new();

    private TsodyksMarkramRuleDefinition() { }

    /// <inheritdoc/>
    public override string Name => "tsodyks_markram";
    /// <inheritdoc/>
    public override string Summary => "Tsodyks-Markram short-term depression and facilitation (NEST tsodyks2_synapse): the efficacy w*u*x computed at the spike is the one delivered";

    /// <inheritdoc/>
    public override IReadOnlyCollection<string> FileKeys => ["u", "tau_rec_ms", "tau_fac_ms"];

    /// <inheritdoc/>
    public override Sim.EventCore.Plasticity.IPlasticityRule? FromFile(string projection, FileParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var d = new TsodyksMarkramParameters();
        var p = new TsodyksMarkramParameters
        {
            U = parameters.Number("u", d.U),
            TauRecMs = parameters.Number("tau_rec_ms", d.TauRecMs),
            TauFacMs = parameters.Number("tau_fac_ms", d.TauFacMs),
        };
        parameters.Report(p.Problems());
        return parameters.Valid ? new TsodyksMarkramRule(projection, p) : null;
    }

    /// <summary>The spike-timing rules' sample network with random U, τ_rec (depressing) and τ_fac (0 or facilitating).</summary>
    public override RuleSample Sample(int seed, int batch)
    {
        var r = new Random(seed);
        var (spec, steps, projection, n) = StdpRuleDefinition.SpikeSample(r, seed, batch, 4.0, "tsodyks-markram");
        var p = new TsodyksMarkramParameters
        {
            U = 0.05 + 0.9 * r.NextDouble(),
            TauRecMs = 5 + 400 * r.NextDouble(),
            TauFacMs = r.Next(2) == 0 ? 0 : 5 + 400 * r.NextDouble(),
        };
        return new RuleSample(spec, _ => new TsodyksMarkramRule(projection, p), steps, r.Next(2, 4), [projection])
        {
            Description = $"N {n}, {steps} ticks, {projection}, U {p.U:G3}, tau_rec {p.TauRecMs:G3}, tau_fac {p.TauFacMs:G3}",
        };
    }
}
