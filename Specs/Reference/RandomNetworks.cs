using FsCheck;
using FsCheck.Fluent;
using Sim.EventCore.Description;
using Sim.EventCore.Models;

namespace Sim.Specs.Reference;

/// <summary>
/// A small random network case. Everything is derived from these fields, so FsCheck shrinks towards fewer
/// populations, fewer neurons, fewer projections and shorter runs; <see cref="ToString"/> prints a readable case.
/// </summary>
public sealed record NetCase(int Seed, int[] Models, int[] Sizes, int[] ProjectionCodes, int InputCode, bool Noise, bool Current, int Ticks, int Batch,
    bool Extreme = false, int MaxDelayTicks = 6)
{
    public override string ToString() =>
        $"NetCase(seed {Seed}, models [{string.Join(",", Models.Select(m => ModelRegistry.All[m].Name))}], sizes [{string.Join(",", Sizes)}], " +
        $"projections [{string.Join(",", ProjectionCodes)}], inputs {InputCode}, noise {Noise}, current {Current}, ticks {Ticks}, batch {Batch}" +
        (Extreme ? ", extreme weights" : "") + $", delays ≤ {MaxDelayTicks} ticks)";

    /// <summary>Builds the spec. Each projection code picks source, target, rule, weight scale and delay range.</summary>
    public NetworkSpec ToSpec(double dtMs = 0.5)
    {
        var rng = new Random(Seed);
        var b = new NetworkBuilder($"case{Seed}") { Run = new RunOptions { DtMs = dtMs, Seed = (ulong)Seed + 1, DurationMs = Ticks * dtMs, Batch = Batch } };
        var names = new List<string>();
        for (int p = 0; p < Models.Length; p++)
        {
            var model = ModelRegistry.All[Models[p]];
            // Half of the populations are heterogeneous (per-neuron τ, threshold, refractoriness), so both the
            // broadcast kernels of homogeneous populations and the per-neuron ones are compared with the reference.
            bool mixed = rng.Next(2) == 0;
            var pars = model.SampleParameters(rng, dtMs, mixed);
            var hints = model.Hints;
            // Models without spikes (rate_tanh) or with a greedy fast coupling (ebn) take no escape noise.
            bool noisy = Noise && rng.Next(2) == 0 && model.EmitsSpikes && model.SupportsEscapeNoise;
            names.Add(b.NeuronGroup($"p{p}", Sizes[p], pars, noisy ? new EscapeNoise(hints.NoiseDeltaV) : null));
            if (Current && rng.Next(2) == 0)
                b.Current(names[p], Value.Uniform(0, hints.CurrentAmplitude), [0, Ticks * dtMs / 3, Ticks * dtMs / 2], [1.0, -0.5, 2.0]);
        }
        var inputs = new List<(string Name, int Size)>();
        if ((InputCode & 1) != 0) inputs.Add((b.PoissonGroup("poisson", 1 + rng.Next(6), Value.Uniform(10, 3000), startMs: rng.Next(3) * dtMs), 0));
        if ((InputCode & 2) != 0)
        {
            int m = 1 + rng.Next(20), size = 1 + rng.Next(4);
            var times = Enumerable.Range(0, m).Select(_ => rng.Next(Ticks) * dtMs).ToArray();
            var idx = Enumerable.Range(0, m).Select(_ => rng.Next(size)).ToArray();
            inputs.Add((b.SpikeGeneratorGroup("times", size, idx, times), 0));
        }
        if ((InputCode & 4) != 0) inputs.Add((b.Clock("clock", 1 + rng.Next(5), (1 + rng.Next(6)) * dtMs, rng.Next(2) == 0 ? null : 40 * dtMs), 0));
        var sources = names.Concat(inputs.Select(i => i.Name)).ToList();
        int[] inputSizes = [.. b.BuildUnchecked().Inputs.Select(i => i.Size)];
        foreach (int code in ProjectionCodes)
        {
            var r = new Random(code);
            string src = sources[r.Next(sources.Count)];
            string tgt = names[r.Next(names.Count)];
            var tgtModel = ModelRegistry.All[Models[names.IndexOf(tgt)]];
            bool traceCoupled = names.Contains(src) && tgtModel.TakesTraceInput && ModelRegistry.All[Models[names.IndexOf(src)]].CouplingTraceVariable >= 0;
            // A population without spikes reaches only targets that take its trace; other targets get no projection from it.
            if (names.Contains(src) && !ModelRegistry.All[Models[names.IndexOf(src)]].EmitsSpikes && !traceCoupled) continue;
            int nPre = names.Contains(src) ? Sizes[names.IndexOf(src)] : inputSizes[sources.IndexOf(src) - names.Count];
            int nPost = Sizes[names.IndexOf(tgt)];
            Connectivity conn = r.Next(5) switch
            {
                0 => new Connectivity.AllToAll(r.Next(2) == 0),
                1 => new Connectivity.FixedProbability(r.NextDouble(), r.Next(2) == 0),
                2 => new Connectivity.FixedInDegree(r.Next(nPre + 1), Autapses: true, Multapses: r.Next(2) == 0),
                3 => nPre == nPost ? new Connectivity.OneToOne() : new Connectivity.FixedProbability(0.5),
                _ => new Connectivity.PairList(
                    [.. Enumerable.Range(0, 1 + r.Next(10)).Select(_ => r.Next(nPre))],
                    [.. Enumerable.Range(0, 10).Select(_ => r.Next(nPost))]),
            };
            if (conn is Connectivity.PairList pl) conn = new Connectivity.PairList(pl.Pre, pl.Post[..pl.Pre.Length]);
            double scale = tgtModel.Hints.WeightScale * r.Next(4) switch { 0 => 0.01, 1 => 1.0, 2 => 8.0, _ => 40.0 };
            Value weight = r.Next(3) switch
            {
                0 => scale * (r.Next(2) == 0 ? 1 : -1),
                1 => Value.Uniform(-scale, scale),
                _ => Value.Normal(0, scale, -4 * scale, 4 * scale),
            };
            Value delay = traceCoupled ? dtMs : r.Next(2) == 0 ? (1 + r.Next(MaxDelayTicks)) * dtMs : Value.Uniform(dtMs, MaxDelayTicks * dtMs);
            if (Extreme)
            {
                // The largest weight of a target's grid lands near |q| = 2^30 whatever its magnitude; add huge and tiny
                // magnitudes, and a mirrored projection with the opposite sign whose sums cancel exactly.
                weight = r.Next(3) switch { 0 => 1e6 * (r.Next(2) == 0 ? 1 : -1), 1 => 1e-6, _ => weight };
                b.Synapses(src, tgt, conn, weight, delay);
                if (weight.IsConstant) b.Synapses(src, tgt, conn, -weight.Max, delay);
                continue;
            }
            b.Synapses(src, tgt, conn, weight, delay);
        }
        return b.Build();
    }
}

/// <summary>FsCheck generators and shrinkers for <see cref="NetCase"/>.</summary>
public static class NetCaseArbitrary
{
    public static Gen<NetCase> Generator(int maxSize, int maxTicks, int maxBatch, bool extreme = false, int maxDelayTicks = 6, int? model = null, int[]? others = null) =>
        from seed in Gen.Choose(0, 1_000_000)
        from nPop in Gen.Choose(1, 3)
        from rest in Gen.ArrayOf(Gen.Elements(others ?? [.. Enumerable.Range(0, ModelRegistry.All.Count)]), nPop)
        let models = model is { } m ? [m, .. rest[1..]] : rest
        from sizes in Gen.ArrayOf(Gen.Choose(1, maxSize), nPop)
        from nProj in Gen.Choose(0, 6)
        from projections in Gen.ArrayOf(Gen.Choose(0, 1_000_000), nProj)
        from inputs in Gen.Choose(0, 7)
        from noise in Gen.Elements(false, true)
        from current in Gen.Elements(false, true)
        from ticks in Gen.Choose(1, maxTicks)
        from batch in Gen.Choose(1, maxBatch)
        from ext in extreme ? Gen.Elements(false, true) : Gen.Constant(false)
        from delays in Gen.Choose(1, maxDelayTicks)
        select new NetCase(seed, models, sizes, projections, inputs, noise, current, ticks, batch, ext, delays);

    public static IEnumerable<NetCase> Shrink(NetCase c)
    {
        if (c.Ticks > 1) yield return c with { Ticks = c.Ticks / 2 };
        if (c.Batch > 1) yield return c with { Batch = 1 };
        for (int k = 0; k < c.ProjectionCodes.Length; k++)
            yield return c with { ProjectionCodes = [.. c.ProjectionCodes.Where((_, j) => j != k)] };
        if (c.Models.Length > 1)
            yield return c with { Models = c.Models[..^1], Sizes = c.Sizes[..^1] };
        for (int p = 0; p < c.Sizes.Length; p++)
            if (c.Sizes[p] > 1) { var s = (int[])c.Sizes.Clone(); s[p] = Math.Max(1, s[p] / 2); yield return c with { Sizes = s }; }
        if (c.InputCode != 0) yield return c with { InputCode = 0 };
        if (c.Noise) yield return c with { Noise = false };
        if (c.Current) yield return c with { Current = false };
        if (c.Extreme) yield return c with { Extreme = false };
        if (c.MaxDelayTicks > 1) yield return c with { MaxDelayTicks = c.MaxDelayTicks / 2 };
    }

    /// <summary>
    /// Cases whose first population has model <paramref name="model"/> (the others any registered model, or one of
    /// <paramref name="others"/>); shrinking keeps the first population.
    /// </summary>
    public static Arbitrary<NetCase> ForModel(int model, int maxSize, int maxTicks, int maxBatch, bool extreme = false, int maxDelayTicks = 6, int[]? others = null)
        => Arb.From(Generator(maxSize, maxTicks, maxBatch, extreme, maxDelayTicks, model, others), Shrink);

    /// <summary>Up to 300 neurons, batches up to 16, delays up to 40 ticks, extreme and cancelling weights, 400 ticks.</summary>
    public static Arbitrary<NetCase> Wide() => Arb.From(Generator(100, 400, 16, extreme: true, maxDelayTicks: 40), Shrink);

    public static Arbitrary<NetCase> Small() => Arb.From(Generator(30, 200, 3), Shrink);
}

/// <summary>Registers the arbitrary for [Property(Arbitrary = …)].</summary>
public static class SmallNetworks
{
    public static Arbitrary<NetCase> NetCase() => NetCaseArbitrary.Small();
}

/// <summary>Registers the wide arbitrary (large networks and batches, extreme weights, long delays).</summary>
public static class WideNetworks
{
    public static Arbitrary<NetCase> NetCase() => NetCaseArbitrary.Wide();
}
