using Sim.EventCore.Description;

namespace Sim.Plasticity;

/// <summary>RFLO (<see cref="RfloRule"/>) in the rule registry, with its conformance sample.</summary>
public sealed class RfloRuleDefinition : RuleDefinition
{
    /// <summary>The one instance.</summary>
    public static readonly RfloRuleDefinition Instance = new();

    private RfloRuleDefinition() { }

    /// <inheritdoc/>
    public override string Name => "rflo";
    /// <inheritdoc/>
    public override string Summary => "random-feedback local online learning (Murray 2019): traces p, fixed random B, W_rec and readout W_out updated per trial";

    /// <summary>
    /// A rate_tanh network of 4–24 units (τ of 1–10 steps, a random initial h, a constant input and a Poisson kick), its
    /// recurrent projection (all-to-all with or without autapses, or sparse) plastic, W_rec ~ g·N(0, 1)/√N (cut at
    /// 3 sd) with g in [0.5, 1.5], grids G + F ≤ 46 bits so that the exact sums W·h keep room for learning; every instance learns its own random target trace (1–3 outputs), with its own B and W_out and random η.
    /// </summary>
    public override RuleSample Sample(int seed, int batch)
    {
        var r = new Random(seed);
        int n = r.Next(4, 25), steps = r.Next(10, 40), outputs = r.Next(1, 4);
        var b = new NetworkBuilder($"rflo-{seed}") { Run = new RunOptions { DtMs = 1, DurationMs = steps, Seed = (ulong)seed + 1, Batch = batch } };
        b.NeuronGroup("rec", n, new RateTanhParameters
        {
            TauMs = r.Next(2) == 0 ? 1 + r.Next(10) : Value.Uniform(1, 10), HInit = Value.Uniform(-0.5, 0.5),
            IExt = r.Next(2) == 0 ? 0.0 : Value.Uniform(-0.3, 0.3), RateFractionBits = 12 + r.Next(11),
        });
        b.PoissonGroup("kick", 3, 50);
        b.Synapses("kick", "rec", new Connectivity.FixedProbability(0.5), Value.Uniform(-0.5, 0.5));
        double g = 0.5 + r.NextDouble();
        Connectivity conn = r.Next(3) switch { 0 => new Connectivity.AllToAll(Autapses: false), 1 => new Connectivity.AllToAll(Autapses: true), _ => new Connectivity.FixedProbability(0.5) };
        b.Synapses("rec", "rec", conn, Value.Normal(0, g / Math.Sqrt(n), -3 * g / Math.Sqrt(n), 3 * g / Math.Sqrt(n)), projectionName: "w_rec", weightFractionBits: 16 + r.Next(9));
        double etaRec = new[] { 0.1, 0.5, 2.0 }[r.Next(3)], etaOut = new[] { 0.05, 0.2, 1.0 }[r.Next(3)];
        RfloCell Cell(int instance)
        {
            ulong k = PlasticityRandom.Key((ulong)seed, PlasticityRandom.ConformanceSamplePurpose, (ulong)instance);
            var target = new double[steps][];
            for (int t = 0; t < steps; t++)
            {
                target[t] = new double[outputs];
                for (int o = 0; o < outputs; o++) target[t][o] = Math.Sin(2 * Math.PI * t / steps * (o + 1) + PlasticityRandom.Uniform(k, o) * 6.28);
            }
            return new RfloCell(RfloCell.RandomFeedback((ulong)seed, (ulong)instance, n, outputs), RfloCell.RandomReadout((ulong)seed, (ulong)instance, n, outputs),
                target, etaRec, etaOut);
        }
        return new RuleSample(b.Build(), net => new RfloRule(net, "rec", Cell), steps, r.Next(2, 4), ["w_rec"])
        {
            Description = $"N {n}, T {steps}, N_out {outputs}, g {g:F2}, {conn}, eta_rec {etaRec}, eta_out {etaOut}",
        };
    }
}
