using Sim.EventCore.Description;
using Sim.EventCore.Numerics;

namespace Sim.Plasticity;

/// <summary>The rank-R / τ⋆ rule (<see cref="RankRRule"/>) in the rule registry, with its conformance sample.</summary>
public sealed class RankRRuleDefinition : RuleDefinition
{
    /// <summary>The one instance.</summary>
    public static readonly RankRRuleDefinition Instance = new();

    private RankRRuleDefinition() { }

    /// <inheritdoc/>
    public override string Name => "rank_r";
    /// <inheritdoc/>
    public override string Summary => "rank-R feedback, tolerance tau* (Capone, Muratore & Paolucci 2022): online or per-trial, neuron or output space, SGD or Adam";

    /// <summary>
    /// A GoalLif network of 5–30 neurons with a clock and a Poisson input, its all-to-all recurrent projection plastic;
    /// every instance learns its own cell: a random D (rank R, LTTS-like diagonal, or the output-space form), τ⋆, SGD or
    /// Adam (with or without step decay), online or per-trial, with or without the pseudo-derivative, the spikes or the
    /// membrane's prediction Θ(v − thr) filtered, and a random smooth target trace.
    /// </summary>
    public override RuleSample Sample(int seed, int batch)
    {
        var r = new Random(seed);
        int n = r.Next(5, 31), steps = r.Next(12, 40), outputs = r.Next(1, 4);
        var b = new NetworkBuilder($"rank-r-{seed}") { Run = new RunOptions { DtMs = 1, DurationMs = steps, Seed = (ulong)seed + 1, Batch = batch } };
        b.NeuronGroup("rec", n, new GoalLifParameters { VInit = Value.Uniform(-6, 1), TraceFractionBits = 16 + r.Next(8) });
        b.Clock("clock", 4, Math.Max(1, steps / 4));
        b.Synapses("clock", "rec", new Connectivity.AllToAll(), Value.Normal(0, 22, -80, 80));
        b.PoissonGroup("noise", 3, 40);
        b.Synapses("noise", "rec", new Connectivity.FixedProbability(0.5), Value.Normal(0, 10, -40, 40));
        b.Synapses("rec", "rec", new Connectivity.AllToAll(Autapses: false), 0.0, projectionName: "w_rec", weightFractionBits: 20);
        int kind = r.Next(3);
        double tau = new[] { 1.0, 2.5, 4.64, 10.0 }[r.Next(4)];
        bool adam = r.Next(2) == 0, perTrial = r.Next(3) == 0;
        double eta = adam ? new[] { 0.001, 0.01 }[r.Next(2)] : new[] { 0.1, 0.5, 2.0 }[r.Next(3)];
        int rank = r.Next(outputs, n + 1);
        // The behavioural-cloning variants: no pseudo-derivative, the membrane's prediction, Adam's step decay.
        bool noPsi = r.Next(3) == 0, membrane = r.Next(3) == 0;
        long decayEvery = adam && r.Next(2) == 0 ? r.Next(3, 20) : 0;
        RankRCell Cell(int instance)
        {
            // Per instance: its own B (random, first columns an instance-specific readout) and targets.
            ulong k = PlasticityRandom.Key((ulong)seed, PlasticityRandom.ConformanceSamplePurpose, (ulong)instance);
            var bMat = new double[n * n];
            for (int i = 0; i < bMat.Length; i++) bMat[i] = PlasticityRandom.Normal(k, i) * 0.3;
            var target = new double[steps][];
            var filter = new SpikeFilter(n, 1.0, tau);
            var z = new double[n];
            for (int t = 0; t < steps; t++)
            {
                for (int i = 0; i < n; i++) z[i] = PlasticityRandom.Uniform(k, 100_000 + (long)t * n + i) < 0.15 ? 1 : 0;
                filter.Step(z);
                target[t] = filter.Value.ToArray();
            }
            var rate = LearningRate.Fixed(eta);
            IOptimizer optimizer = adam ? new Adam(rate, decayEvery: decayEvery, decayFactor: decayEvery > 0 ? 0.9 : 1.0) : new Sgd(rate);
            ErrorFeedback feedback;
            if (kind == 2)
            {
                var output = new OutputSpaceFeedback(bMat, n, rank);
                var y = target.Select(row => row.Take(outputs).ToArray()).ToArray();
                target = output.Targets(y, target);
                feedback = output;
            }
            else feedback = new NeuronSpaceFeedback(kind == 1 ? Feedback.Ltts(bMat, n) : Feedback.RankR(bMat, n, rank), n);
            return new RankRCell(feedback, tau, optimizer, target)
            {
                Mode = perTrial ? UpdateMode.PerTrial : UpdateMode.Online,
                UsePseudoDerivative = !noPsi,
                Prediction = membrane ? RankRPrediction.Membrane : RankRPrediction.Spikes,
            };
        }
        return new RuleSample(b.Build(), net => new RankRRule(net, "rec", Cell), steps, r.Next(2, 4), ["w_rec"])
        {
            Description = $"N {n}, T {steps}, {(kind == 0 ? $"rank {rank}" : kind == 1 ? "LTTS" : $"output space, R {rank}")}, tau* {tau}, " +
                          $"{(adam ? "adam" : "sgd")} {eta}{(decayEvery > 0 ? $" x0.9/{decayEvery}" : "")}, {(perTrial ? "per trial" : "online")}" +
                          $"{(noPsi ? ", no psi" : "")}{(membrane ? ", prediction from v" : "")}",
        };
    }
}
