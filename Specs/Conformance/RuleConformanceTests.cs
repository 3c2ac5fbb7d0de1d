using FsCheck;
using FsCheck.Fluent;
using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;
using Sim.GpuBridge;
using Sim.Plasticity;
using Sim.Specs.EventCore;
using Sim.Specs.GpuBridge;
using Sim.Specs.Reference;
using Xunit;

namespace Sim.Specs.Conformance;

/// <summary>
/// The conformance properties every registered plasticity rule gets by being registered (docs/architecture.md, "Adding
/// a rule"), on its generated samples (<see cref="RuleDefinition.Sample"/>): trials of learning give the same spikes, final
/// state and plastic weights on the event and the dense engine; a batch of instances equals single runs of each; runs
/// split inside trials equal whole ones; a checkpoint taken inside a trial and resumed on either engine continues
/// exactly; and the result does not depend on the vector width (child processes).
/// </summary>
public class RuleConformanceTests
{
    /// <summary>Runs the sample's trials (ResetState, the trial's ticks in <paramref name="parts"/>, EndTrial) and returns spikes, final state and weights.</summary>
    internal static (List<(long, int)>[] Spikes, Dictionary<string, double[]>[] State) Learn(RuleSample sample, Func<CompiledNetwork, ISimulationEngine> make,
        out List<double[]> weights, int offset = 0, int parts = 1)
    {
        var spec = sample.Network with { Run = sample.Network.Run with { InstanceOffset = offset } };
        var net = NetworkCompiler.Compile(spec);
        using var engine = make(net);
        engine.AddPlasticityRule(sample.Rule(net));
        var rec = new SpikeRecorder();
        engine.AddSpikeSink(rec);
        for (int trial = 0; trial < sample.Trials; trial++)
        {
            engine.ResetState();
            long done = 0;
            for (int p = 1; p <= parts; p++)
            {
                long upTo = sample.TicksPerTrial * p / parts;
                engine.Run(upTo - done);
                done = upTo;
            }
            engine.EndTrial();
        }
        weights = [.. Enumerable.Range(0, engine.BatchSize).SelectMany(b => sample.Projections.Select(p => engine.GetWeights(b, p)))];
        return ReferenceModelTests.Snapshot(engine, rec);
    }

    private static readonly Func<CompiledNetwork, ISimulationEngine> Event = net => new EventEngine(net, new EngineOptions { Threads = 2 });
    private static readonly Func<CompiledNetwork, ISimulationEngine> Dense = net => new DenseEngine(net);

    private static Arbitrary<int> Seeds => Arb.From(Gen.Choose(1, 1_000_000));

    private static bool Same(List<double[]> a, List<double[]> b) => a.Count == b.Count && a.Zip(b).All(x => ReferenceModelTests.SameBits(x.First, x.Second));

    [Theory, MemberData(nameof(Conformance.RuleNames), MemberType = typeof(Conformance))]
    public void PlasticRunsAreTheSameOnBothEngines(string rule) => Conformance.Check(30, Seeds, seed =>
    {
        var sample = RuleRegistry.Get(rule).Sample(seed, 2);
        var ev = Learn(sample, Event, out var we);
        var dense = Learn(sample, Dense, out var wd);
        string? diff = DenseEquivalenceTests.FirstDifference(ev, dense) ?? (Same(we, wd) ? null : "plastic weights differ");
        bool learned = we.Zip(Enumerable.Range(0, we.Count)).Any(x => x.First.Any(w => w != 0));
        return (diff is null).Label($"{rule} seed {seed} ({sample.Description}): {diff}").Classify(learned, "weights learned");
    });

    /// <summary>
    /// The generated samples exercise learning: in nearly every one the rule changes its weights (a rule that never wrote
    /// would pass every equality above by comparing unchanged weights).
    /// </summary>
    [Theory, MemberData(nameof(Conformance.RuleNames), MemberType = typeof(Conformance))]
    public void GeneratedSamplesLearn(string rule)
    {
        int learned = 0;
        const int Samples = 10;
        for (int seed = 1; seed <= Samples; seed++)
        {
            var sample = RuleRegistry.Get(rule).Sample(seed, 1);
            var net = NetworkCompiler.Compile(sample.Network);
            Learn(sample, Event, out var w);
            var initial = sample.Projections.Select(p => Sim.EventCore.Plasticity.PlasticityBinding.CompiledWeights(net, p)).ToList();
            if (!Same(w, initial)) learned++;
        }
        Assert.True(learned >= Samples - 1, $"{rule}: only {learned} of {Samples} generated samples changed their weights");
    }

    [Theory, MemberData(nameof(Conformance.RuleNames), MemberType = typeof(Conformance))]
    public void ABatchOfPlasticInstancesEqualsSingleRuns(string rule) => Conformance.Check(8, Seeds, seed =>
    {
        var sample = RuleRegistry.Get(rule).Sample(seed, 3);
        bool ok = true;
        foreach (var make in new[] { Event, Dense })
        {
            var batch = Learn(sample, make, out var wb);
            int perInstance = sample.Projections.Count;
            for (int b = 0; b < 3; b++)
            {
                var one = RuleRegistry.Get(rule).Sample(seed, 1);
                var single = Learn(one, make, out var ws, offset: b);
                ok &= DenseEquivalenceTests.FirstDifference(([batch.Spikes[b]], [batch.State[b]]), single) is null && Same(wb.GetRange(b * perInstance, perInstance), ws);
            }
        }
        return ok.Label($"{rule} seed {seed} ({sample.Description})");
    });

    [Theory, MemberData(nameof(Conformance.RuleNames), MemberType = typeof(Conformance))]
    public void SplitRunsInsideTrialsEqualWholeOnes(string rule) => Conformance.Check(8, Seeds, seed =>
    {
        var sample = RuleRegistry.Get(rule).Sample(seed, 2);
        var whole = Learn(sample, Event, out var w1);
        var split = Learn(sample, Event, out var w2, parts: 3);
        return (DenseEquivalenceTests.FirstDifference(whole, split) is null && Same(w1, w2)).Label($"{rule} seed {seed} ({sample.Description})");
    });

    /// <summary>A checkpoint in the middle of the first trial (weights, traces, synapse and rule state) resumed on the same or the other engine continues exactly.</summary>
    [Theory, MemberData(nameof(Conformance.RuleNames), MemberType = typeof(Conformance))]
    public void CheckpointsInsideATrialResumeOnEitherEngine(string rule) => Conformance.Check(8, Seeds, seed =>
    {
        var sample = RuleRegistry.Get(rule).Sample(seed, 2);
        var net = NetworkCompiler.Compile(sample.Network);
        long cut = sample.TicksPerTrial / 2;
        (List<(long, int)>[] Spikes, Dictionary<string, double[]>[] State, List<double[]> W) Rest(ISimulationEngine engine)
        {
            var run = ReferenceModelTests.Record(engine, sample.TicksPerTrial - cut);
            engine.EndTrial();
            return (run.Spikes, run.State, [.. Enumerable.Range(0, engine.BatchSize).SelectMany(b => sample.Projections.Select(p => engine.GetWeights(b, p)))]);
        }
        ISimulationEngine Make(Func<CompiledNetwork, ISimulationEngine> make)
        {
            var e = make(net);
            e.AddPlasticityRule(sample.Rule(net));
            e.ResetState();
            return e;
        }
        var wholeEngine = Make(Event);
        wholeEngine.Run(cut);
        var whole = Rest(wholeEngine);
        wholeEngine.Dispose();
        bool ok = true;
        foreach (var (first, second) in new[] { (Event, Event), (Event, Dense), (Dense, Event) })
        {
            Checkpoint saved;
            using (var a = Make(first)) { a.Run(cut); saved = a.SaveCheckpoint(); }
            using var b = Make(second);
            b.Restore(saved);
            var rest = Rest(b);
            ok &= DenseEquivalenceTests.FirstDifference((whole.Spikes, whole.State), (rest.Spikes, rest.State)) is null && Same(whole.W, rest.W);
        }
        return ok.Label($"{rule} seed {seed} ({sample.Description}), checkpoint at tick {cut}");
    });

    /// <summary>The rule's sample gives the same digest in child processes at 128-bit vectors and without AVX2 as here.</summary>
    [Theory, MemberData(nameof(Conformance.RuleNames), MemberType = typeof(Conformance))]
    public void ResultsDoNotDependOnTheVectorWidth(string rule)
    {
        string here = Conformance.RuleDigest(rule);
        Assert.Equal(here, Conformance.ChildDigest("rule", rule, ("DOTNET_PreferredVectorBitWidth", "128")));
        Assert.Equal(here, Conformance.ChildDigest("rule", rule, ("DOTNET_EnableAVX2", "0")));
    }
}
