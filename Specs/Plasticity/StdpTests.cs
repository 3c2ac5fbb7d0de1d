using FsCheck;
using FsCheck.Fluent;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Plasticity;
using Sim.GpuBridge;
using Sim.Plasticity;
using Sim.Specs.Conformance;
using Xunit;

namespace Sim.Specs.Plasticity;

/// <summary>
/// Pair STDP (docs/rules/stdp.md) against <see cref="StdpReference"/>, a naive transcription of NEST's semantics over the
/// spike lists: random pre and post trains biased towards near-coincident pairs, heterogeneous dendritic delays, input
/// sources with several spikes in one tick and neurons as sources, for every pairing and weight dependence; on both
/// grid engines, which must agree bit for bit.
/// </summary>
public class StdpTests
{
    internal sealed class SpikeLog : IPlasticityRule, IRuleInstance
    {
        public readonly List<(long Tick, int Source, int Count)> Pre = [];
        public readonly List<(long Tick, int Neuron)> Post = [];
        public void Bind(PlasticityBinding binding) => binding.RequestSpikeHooks();
        public IRuleInstance CreateInstance(IPlasticityContext context) => this;
        public void OnPreSpikes(IPlasticityContext c, ReadOnlySpan<int> sources, ReadOnlySpan<int> counts)
        {
            for (int k = 0; k < sources.Length; k++) Pre.Add((c.Tick, sources[k], counts[k]));
        }
        public void OnPostSpikes(IPlasticityContext c, ReadOnlySpan<int> neurons)
        {
            foreach (int i in neurons) Post.Add((c.Tick, i));
        }
    }

    internal static readonly Func<CompiledNetwork, ISimulationEngine>[] Engines = [net => new EventEngine(net), net => new DenseEngine(net)];

    /// <summary>
    /// A network whose spikes come in near-coincident pre/post pairs: input "pre" (3 sources, random times, some twice
    /// in one tick), neurons "post" (4, lif_delta) driven to spike a few ticks before or after the pre spikes by input
    /// "drive"; plastic projections pre → post (delays 1–6 ticks) and post → post (delays 1–4 ticks).
    /// </summary>
    internal static NetworkSpec PairedTrains(int seed, double wMax, long ticks, double dtMs)
    {
        var r = new Random(seed);
        var preIdx = new List<int>(); var preT = new List<double>();
        var driveIdx = new List<int>(); var driveT = new List<double>();
        for (int s = 0; s < 3; s++)
            for (int k = 0; k < 12; k++)
            {
                long t = r.Next(0, (int)ticks - 8);
                int copies = r.Next(6) == 0 ? 2 : 1;
                for (int c = 0; c < copies; c++) { preIdx.Add(s); preT.Add(t * dtMs); }
                // A post spike near it in one of the neurons: −8 … +8 ticks (the drive arrives one tick later).
                long tp = Math.Clamp(t + r.Next(-9, 8), 0, ticks - 2);
                driveIdx.Add(r.Next(4)); driveT.Add(tp * dtMs);
            }
        for (int k = 0; k < 10; k++) { driveIdx.Add(r.Next(4)); driveT.Add(r.Next(0, (int)ticks - 2) * dtMs); }
        var b = new NetworkBuilder($"stdp-pairs-{seed}") { Run = new RunOptions { DtMs = dtMs, DurationMs = ticks * dtMs, Seed = (ulong)seed } };
        b.SpikeGeneratorGroup("pre", 3, [.. preIdx], [.. preT]);
        b.SpikeGeneratorGroup("drive", 4, [.. driveIdx], [.. driveT]);
        b.NeuronGroup("post", 4, new LifDeltaParameters { ELeakMv = -70, VResetMv = -70, VThresholdMv = -50, RefractoryMs = 0, TauMemMs = 20 });
        b.Synapses("drive", "post", new Connectivity.OneToOne(), 100.0, weightFractionBits: 20);
        double lo = Math.Min(0.1 * wMax, 0.9 * wMax), hi = Math.Max(0.1 * wMax, 0.9 * wMax);
        b.Synapses("pre", "post", new Connectivity.AllToAll(), Value.Uniform(lo, hi), Value.Uniform(dtMs, 6.4 * dtMs), projectionName: "pre_post", weightFractionBits: 20);
        b.Synapses("post", "post", new Connectivity.AllToAll(Autapses: false), Value.Uniform(lo, hi), Value.Uniform(dtMs, 4.4 * dtMs), projectionName: "post_post", weightFractionBits: 20);
        return b.Build();
    }

    internal static StdpParameters Options(StdpPairing pairing, string dependence, Random r)
    {
        var p = new StdpParameters
        {
            Pairing = pairing,
            TauPlusMs = 5 + 35 * r.NextDouble(),
            TauMinusMs = 5 + 35 * r.NextDouble(),
            Lambda = 0.02 + 0.3 * r.NextDouble(),
            Alpha = 0.3 + 1.5 * r.NextDouble(),
            WMax = r.Next(4) == 0 ? -1.5 : 1.5,   // lif_delta sums both receptors: inhibitory STDP too
        };
        return dependence switch
        {
            "additive" => p with { MuPlus = 0, MuMinus = 0 },
            "multiplicative" => p with { MuPlus = 1, MuMinus = 1 },
            _ => p with { MuPlus = 2 * r.NextDouble(), MuMinus = 2 * r.NextDouble() },
        };
    }

    public static TheoryData<StdpPairing, string> AllOptions()
    {
        var data = new TheoryData<StdpPairing, string>();
        foreach (var pairing in new[] { StdpPairing.AllToAll, StdpPairing.Nearest })
            foreach (var dep in new[] { "additive", "multiplicative", "general" }) data.Add(pairing, dep);
        return data;
    }

    /// <summary>
    /// The float64 weights w equal the reference within 1e-10·|W_max| (the rule's traces are products of e^{−dt/τ}, the
    /// reference's one exp per interval: a few ulps apart), the grid weights after the trial equal the reference rounded
    /// (unless it lies within 1e-7 grid steps of a rounding tie), and both engines give the same bits.
    /// </summary>
    [Theory, MemberData(nameof(AllOptions))]
    public void WeightsEqualANaiveTranscriptionOfNestsSemantics(StdpPairing pairing, string dependence) => Conformance.Conformance.Check(6, Arb.From(Gen.Choose(1, 1_000_000)), seed =>
    {
        var r = new Random(seed);
        var p = Options(pairing, dependence, r);
        const double Dt = 0.5;
        const long Ticks = 400;
        var spec = PairedTrains(seed, p.WMax, Ticks, Dt);
        var net = NetworkCompiler.Compile(spec);
        string? failure = null;
        var weights = new List<double[]>();
        int compared = 0, changed = 0;
        foreach (var make in Engines)
        {
            using var engine = make(net);
            var log = new SpikeLog();
            engine.AddPlasticityRule(log);
            engine.AddPlasticityRule(new StdpRule("pre_post", p));
            engine.AddPlasticityRule(new StdpRule("post_post", p));
            engine.ResetState();
            engine.Run(Ticks);
            var plastic = engine.SaveCheckpoint().Instances[0].Plastic!;
            engine.EndTrial();
            foreach (var name in new[] { "pre_post", "post_post" })
            {
                var view = new PlasticityBinding(net).Projection(name);
                var w = plastic.Doubles[$"synapse/{name}/{StdpRule.WeightState}"];
                var grid = engine.GetWeights(0, name);
                var w0 = PlasticityBinding.CompiledWeights(net, name);
                weights.Add(w); weights.Add(grid);
                for (int k = 0; k < view.Count; k++)
                {
                    int s = view.Pre[k], i = view.Post[k];
                    var pres = log.Pre.Where(e => e.Source == s).SelectMany(e => Enumerable.Repeat(e.Tick, e.Count)).ToList();
                    var posts = log.Post.Where(e => e.Neuron == i).Select(e => e.Tick).ToList();
                    var (want, _) = StdpReference.Run(w0[k], pres, posts, view.DelayTicks[k], Ticks, Dt, p);
                    compared++;
                    if (Math.Abs(want - w0[k]) > 1e-6) changed++;
                    if (Math.Abs(w[k] - want) > 1e-10 * Math.Abs(p.WMax))
                        failure ??= $"{name} synapse {k} ({s}→{i}, d {view.DelayTicks[k]}): w {w[k]:R}, reference {want:R}";
                    double scaled = want * Math.ScaleB(1.0, view.FractionBits);
                    bool nearTie = Math.Abs(Math.Abs(scaled - Math.Floor(scaled)) - 0.5) < 1e-7;
                    if (!nearTie && grid[k] != Math.Round(scaled, MidpointRounding.ToEven) * view.Unit)
                        failure ??= $"{name} synapse {k}: grid {grid[k]:R}, reference rounded {Math.Round(scaled, MidpointRounding.ToEven) * view.Unit:R}";
                }
            }
        }
        bool same = weights.Take(weights.Count / 2).Zip(weights.Skip(weights.Count / 2)).All(x => x.First.SequenceEqual(x.Second));
        return (failure is null && same && changed > compared / 4)
            .Label($"seed {seed} {p}: {failure ?? (same ? $"only {changed} of {compared} weights changed" : "engines differ")}");
    });
}
