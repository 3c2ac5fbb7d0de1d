using Sim.EventCore.Description;

namespace Sim.Plasticity;

/// <summary>Pair STDP (<see cref="StdpRule"/>) in the rule registry, with its conformance sample.</summary>
public sealed class StdpRuleDefinition : RuleDefinition
{
    /// <summary>The one instance.</summary>
    public static readonly StdpRuleDefinition Instance = new();

    private StdpRuleDefinition() { }

    /// <inheritdoc/>
    public override string Name => "stdp";
    /// <inheritdoc/>
    public override string Summary => "pair STDP, NEST stdp_synapse semantics: all-to-all or nearest pairing, additive/multiplicative/power-law weight dependence, dendritic delays";

    /// <inheritdoc/>
    public override IReadOnlyCollection<string> FileKeys => ["tau_plus_ms", "tau_minus_ms", "lambda", "alpha", "mu_plus", "mu_minus", "w_max", "pairing"];

    /// <inheritdoc/>
    public override Sim.EventCore.Plasticity.IPlasticityRule? FromFile(string projection, FileParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var d = new StdpParameters();
        var p = new StdpParameters
        {
            TauPlusMs = parameters.Number("tau_plus_ms", d.TauPlusMs),
            TauMinusMs = parameters.Number("tau_minus_ms", d.TauMinusMs),
            Lambda = parameters.Number("lambda", d.Lambda),
            Alpha = parameters.Number("alpha", d.Alpha),
            MuPlus = parameters.Number("mu_plus", d.MuPlus),
            MuMinus = parameters.Number("mu_minus", d.MuMinus),
            WMax = parameters.Number("w_max", d.WMax),
            Pairing = parameters.Choice("pairing", d.Pairing, ("all_to_all", StdpPairing.AllToAll), ("nearest", StdpPairing.Nearest)),
        };
        parameters.Report(p.Problems());
        return parameters.Valid ? new StdpRule(projection, p) : null;
    }

    /// <summary>
    /// A recurrent lif_exp network of 8–30 neurons driven by Poisson inputs, its excitatory recurrent projection plastic
    /// with delays of 1–5 ticks, and random STDP options: pairing, μ₊ and μ₋ (0, 1 or in between), τ₊, τ₋, λ, α; some
    /// samples also make the input projection plastic in another rule's stead (sources that are inputs, several spikes
    /// per tick). Instances differ through their Poisson streams.
    /// </summary>
    public override RuleSample Sample(int seed, int batch)
    {
        var r = new Random(seed);
        double wMax = 1.5 + r.NextDouble() * 3;
        var (spec, steps, projection, n) = SpikeSample(r, seed, batch, wMax, "stdp");
        string[] mus = ["additive", "multiplicative", "general"];
        string dep = mus[r.Next(3)];
        var p = new StdpParameters
        {
            Pairing = r.Next(2) == 0 ? StdpPairing.AllToAll : StdpPairing.Nearest,
            TauPlusMs = 5 + 30 * r.NextDouble(),
            TauMinusMs = 5 + 30 * r.NextDouble(),
            Lambda = 0.01 + 0.1 * r.NextDouble(),
            Alpha = 0.5 + r.NextDouble(),
            WMax = wMax,
        };
        p = dep switch
        {
            "additive" => p with { MuPlus = 0, MuMinus = 0 },
            "multiplicative" => p with { MuPlus = 1, MuMinus = 1 },
            _ => p with { MuPlus = 2 * r.NextDouble(), MuMinus = 2 * r.NextDouble() },
        };
        return new RuleSample(spec, _ => new StdpRule(projection, p), steps, r.Next(2, 4), [projection])
        {
            Description = $"N {n}, {steps} ticks, {projection}, {p.Pairing}, {dep} (mu+ {p.MuPlus:G3}, mu- {p.MuMinus:G3}), tau+ {p.TauPlusMs:G3}, tau- {p.TauMinusMs:G3}, lambda {p.Lambda:G3}, alpha {p.Alpha:G3}, w_max {wMax:G3}",
        };
    }

    /// <summary>
    /// The spike-timing rules' sample network: a recurrent lif_exp population "exc" (8–30 neurons, dt 0.5 ms) kept firing
    /// by a static Poisson input "kick", with a second Poisson input "drive"; drive_exc and exc_exc have weights in
    /// [0, w_max] and delays 1–3 and 1–5 ticks; the plastic projection is exc_exc, or in a third of the samples drive_exc
    /// (input sources, several spikes per tick).
    /// </summary>
    internal static (NetworkSpec Spec, long Steps, string Projection, int N) SpikeSample(Random r, int seed, int batch, double wMax, string name)
    {
        int n = r.Next(8, 31);
        long steps = r.Next(150, 400);
        const double Dt = 0.5;
        var b = new NetworkBuilder($"{name}-{seed}") { Run = new RunOptions { DtMs = Dt, DurationMs = steps * Dt, Seed = (ulong)seed + 1, Batch = batch } };
        b.NeuronGroup("exc", n, new LifExpParameters { VInitMv = Value.Uniform(-60, -50), RefractoryMs = 1 + r.Next(3), TauExcMs = 2 });
        b.PoissonGroup("kick", 6, 1500 + r.Next(1500));
        b.Synapses("kick", "exc", new Connectivity.FixedProbability(0.5), Value.Uniform(2, 6), projectionName: "kick_exc", weightFractionBits: 20);
        b.PoissonGroup("drive", 4, 200 + r.Next(600));
        bool inputPlastic = r.Next(3) == 0;
        b.Synapses("drive", "exc", new Connectivity.FixedProbability(0.5), Value.Uniform(0, wMax), Value.Uniform(Dt, 3.4 * Dt),
            projectionName: "drive_exc", weightFractionBits: 20);
        b.Synapses("exc", "exc", new Connectivity.FixedProbability(0.3, Autapses: false), Value.Uniform(0, wMax), Value.Uniform(Dt, 5.4 * Dt),
            projectionName: "exc_exc", weightFractionBits: 20);
        return (b.Build(), steps, inputPlastic ? "drive_exc" : "exc_exc", n);
    }
}
