using FsCheck;
using FsCheck.Fluent;
using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.EventCore.Precise;
using Sim.GpuBridge;
using Sim.Specs.EventCore;
using Sim.Specs.GpuBridge;
using Sim.Specs.Reference;
using Xunit;

namespace Sim.Specs.Conformance;

/// <summary>
/// The conformance properties every registered neuron model gets by being registered (docs/architecture.md, "Adding a
/// model"): on generated networks whose first population has the model (the others any registered model), the event
/// engine equals the naive reference loop and the dense engine equals the event engine bit for bit; split runs, a
/// checkpoint resumed on either engine, a batch against single runs and 1 against 2 threads change nothing; the result
/// does not depend on the vector width (child processes); and where the model has an exact propagator, the precise
/// engine's fast scheduling equals its reference scheduling and split runs equal whole ones.
/// </summary>
public class ModelConformanceTests
{
    private static Arbitrary<NetCase> Cases(string model, int maxSize = 30, int maxTicks = 200, int maxBatch = 3)
        => NetCaseArbitrary.ForModel(Conformance.IndexOf(model), maxSize, maxTicks, maxBatch);

    private static bool SameRun((List<(long, int)>[] Spikes, Dictionary<string, double[]>[] State) a, (List<(long, int)>[] Spikes, Dictionary<string, double[]>[] State) b)
        => DenseEquivalenceTests.FirstDifference(a, b) is null;

    [Theory, MemberData(nameof(Conformance.ModelNames), MemberType = typeof(Conformance))]
    public void EventEngineEqualsTheNaiveReference(string model) => Conformance.Check(50, Cases(model), c =>
    {
        var net = NetworkCompiler.Compile(c.ToSpec());
        var (spikes, state) = ReferenceModelTests.RunEngine(net, c.Ticks);
        bool ok = true;
        for (int b = 0; b < c.Batch && ok; b++)
        {
            var reference = NaiveReference.Run(net, c.Ticks, b);
            ok &= spikes[b].SequenceEqual(reference.Spikes);
            foreach (var (key, values) in reference.FinalState) ok &= ReferenceModelTests.SameBits(values, state[b][key]);
        }
        return ok.Label($"{model}: {c}: {spikes.Sum(s => s.Count)} engine spikes").Classify(spikes.Sum(s => s.Count) > 5, "spiking");
    });

    [Theory, MemberData(nameof(Conformance.ModelNames), MemberType = typeof(Conformance))]
    public void DenseEngineEqualsTheEventEngine(string model) => Conformance.Check(120, Cases(model), c => SameOnBothEngines(model, c));

    /// <summary>The same on networks of up to 100 neurons per population, batches up to 16, delays up to 40 ticks, extreme and cancelling weights.</summary>
    [Theory, MemberData(nameof(Conformance.ModelNames), MemberType = typeof(Conformance))]
    public void DenseEngineEqualsTheEventEngineOnWideNetworks(string model)
        => Conformance.Check(8, NetCaseArbitrary.ForModel(Conformance.IndexOf(model), 100, 400, 16, extreme: true, maxDelayTicks: 40), c => SameOnBothEngines(model, c));

    private static Property SameOnBothEngines(string model, NetCase c)
    {
        var net = NetworkCompiler.Compile(c.ToSpec());
        var ev = ReferenceModelTests.RunEngine(net, c.Ticks);
        var dense = DenseEquivalenceTests.RunDense(net, c.Ticks);
        string? diff = DenseEquivalenceTests.FirstDifference(ev, dense);
        return (diff is null).Label($"{model}: {c}: {diff} ({ev.Spikes.Sum(s => s.Count)} event-engine spikes)");
    }

    [Theory, MemberData(nameof(Conformance.ModelNames), MemberType = typeof(Conformance))]
    public void SplitRunsEqualTheWholeRun(string model) => Conformance.Check(12, Cases(model), c =>
    {
        var net = NetworkCompiler.Compile(c.ToSpec());
        long a = (c.Seed % (c.Ticks + 1));
        long[] splits = [a, 0, (c.Ticks - a) / 2];
        var whole = ReferenceModelTests.RunEngine(net, c.Ticks);
        bool ok = SameRun(whole, ReferenceModelTests.RunEngine(net, c.Ticks, splits: splits))
               && SameRun(whole, DenseEquivalenceTests.RunDense(net, c.Ticks, splits: splits));
        return ok.Label($"{model}: {c}, split at {a}");
    });

    /// <summary>A checkpoint taken at a generated tick and resumed on the same or the other engine continues exactly as the uninterrupted run.</summary>
    [Theory, MemberData(nameof(Conformance.ModelNames), MemberType = typeof(Conformance))]
    public void CheckpointsResumeOnEitherEngine(string model) => Conformance.Check(12, Cases(model), c =>
    {
        var net = NetworkCompiler.Compile(c.ToSpec());
        long a = c.Seed % (c.Ticks + 1);
        var whole = ReferenceModelTests.RunEngine(net, c.Ticks);
        bool ok = true;
        foreach (var (first, second) in new (Func<ISimulationEngine>, Func<ISimulationEngine>)[]
                 {
                     (() => new EventEngine(net), () => new DenseEngine(net)),
                     (() => new DenseEngine(net), () => new EventEngine(net)),
                     (() => new EventEngine(net), () => new EventEngine(net)),
                 })
        {
            Checkpoint saved;
            using (var e = first()) { e.Run(a); saved = e.SaveCheckpoint(); }
            using var rest = second();
            rest.Restore(saved);
            var tail = ReferenceModelTests.Record(rest, c.Ticks - a);
            for (int b = 0; b < c.Batch; b++)
            {
                ok &= whole.Spikes[b].Where(s => s.Item1 >= a).SequenceEqual(tail.Spikes[b]);
                foreach (var (k, v) in whole.State[b]) ok &= ReferenceModelTests.SameBits(v, tail.State[b][k]);
            }
        }
        return ok.Label($"{model}: {c}, checkpoint at tick {a}");
    });

    [Theory, MemberData(nameof(Conformance.ModelNames), MemberType = typeof(Conformance))]
    public void ABatchEqualsSingleRuns(string model) => Conformance.Check(8, Cases(model), c =>
    {
        var spec = c.ToSpec();
        var batch = ReferenceModelTests.RunEngine(NetworkCompiler.Compile(spec with { Run = spec.Run with { Batch = 3 } }), c.Ticks, threads: 2);
        bool ok = true;
        for (int b = 0; b < 3; b++)
        {
            var single = ReferenceModelTests.RunEngine(NetworkCompiler.Compile(spec with { Run = spec.Run with { Batch = 1, InstanceOffset = b } }), c.Ticks);
            ok &= SameRun(([batch.Spikes[b]], [batch.State[b]]), single);
        }
        return ok.Label($"{model}: {c}");
    });

    [Theory, MemberData(nameof(Conformance.ModelNames), MemberType = typeof(Conformance))]
    public void OneAndTwoThreadsAgree(string model) => Conformance.Check(8, Cases(model), c =>
    {
        var spec = c.ToSpec();
        var net = NetworkCompiler.Compile(spec with { Run = spec.Run with { Batch = 4 } });
        return SameRun(ReferenceModelTests.RunEngine(net, c.Ticks, threads: 1), ReferenceModelTests.RunEngine(net, c.Ticks, threads: 2)).Label($"{model}: {c}");
    });

    /// <summary>The model's sample network gives the same digest in child processes at 128-bit vectors and without AVX2 as here.</summary>
    [Theory, MemberData(nameof(Conformance.ModelNames), MemberType = typeof(Conformance))]
    public void ResultsDoNotDependOnTheVectorWidth(string model)
    {
        string here = Conformance.ModelDigest(model);
        Assert.Equal(here, Conformance.ChildDigest("model", model));
        Assert.Equal(here, Conformance.ChildDigest("model", model, ("DOTNET_PreferredVectorBitWidth", "128")));
        Assert.Equal(here, Conformance.ChildDigest("model", model, ("DOTNET_EnableAVX2", "0")));
    }

    /// <summary>
    /// With an exact propagator: the precise engine's fast scheduling (arrival runs, lazy bounds) equals its reference
    /// scheduling (one event per synapse, eager root searches), and runs split in two equal the whole run. Without one:
    /// the precise engine refuses the model, naming it.
    /// </summary>
    [Theory, MemberData(nameof(Conformance.ModelNames), MemberType = typeof(Conformance))]
    public void ThePreciseEngineIsExactOrRefusesTheModel(string model)
    {
        var definition = ModelRegistry.All[Conformance.IndexOf(model)];
        if (!definition.SupportsPrecise)
        {
            var spec = Conformance.ModelSample(model).ToSpec();
            Assert.Contains(PreciseEngine.Unsupported(spec), e => e.Message.Contains(model, StringComparison.Ordinal));
            Assert.Throws<Sim.EventCore.Description.SpecException>(() => new PreciseEngine(NetworkCompiler.Compile(spec, exactDelays: true)));
            return;
        }
        int[] precise = [.. ModelRegistry.All.Select((m, i) => (m, i)).Where(x => x.m.SupportsPrecise).Select(x => x.i)];
        var arb = Arb.From(NetCaseArbitrary.Generator(30, 200, 1, model: Conformance.IndexOf(model), others: precise)
            .Select(c => c with { InputCode = c.InputCode & 3, Noise = false, Current = false }), NetCaseArbitrary.Shrink);
        Conformance.Check(15, arb, c =>
        {
            var net = NetworkCompiler.Compile(c.ToSpec(), exactDelays: true);
            double ms = c.Ticks * net.DtMs, cut = Math.Round(ms * (c.Seed % 97) / 97.0, 3);
            var fast = RunPreciseOrRunaway(new PreciseEngine(net), ms);
            var reference = RunPreciseOrRunaway(new PreciseEngine(net, null, referenceScheduling: true, eagerPredictions: true), ms);
            var split = RunPreciseOrRunaway(new PreciseEngine(net), cut, ms - cut);
            // A runaway (delta synapses, little refractoriness: exponentially many distinct spike times, e.g. seed 279031)
            // is a legitimate refusal, if all three runs stop at the same point with the same spikes.
            bool ok = fast.Stopped == reference.Stopped && fast.Stopped == split.Stopped
                && fast.Spikes.SequenceEqual(reference.Spikes) && fast.Spikes.SequenceEqual(split.Spikes)
                && ReferenceModelTests.SameBits(fast.State, reference.State) && ReferenceModelTests.SameBits(fast.State, split.State);
            return ok.Label($"{model}: {c}: {fast.Spikes.Count} spikes, split at {cut} ms, stopped: {fast.Stopped} / {reference.Stopped} / {split.Stopped}")
                .Classify(fast.Stopped is not null, "runaway");
        });
    }

    /// <summary>
    /// The precise engine's propagator against an independent computation, the grid engine as its step shrinks, on
    /// generated feed-forward networks (recurrent projections removed, so that differences cannot cascade): at dt/64
    /// the first spike of nearly every neuron lies within 4 fine steps of the precise one (the grid labels a spike with
    /// its tick and delivers inputs on tick boundaries), and the spike counts converge (their mismatch at dt/64 is at
    /// most a quarter of that at dt/4, or a few spikes). Later spikes are not matched one by one: a regularly firing
    /// neuron's grid phase drifts by up to one step per spike. A wrong closed form fails this.
    /// </summary>
    [Theory, MemberData(nameof(Conformance.ModelNames), MemberType = typeof(Conformance))]
    public void ThePreciseEngineAgreesWithTheGridEngineAsTheStepShrinks(string model)
    {
        if (!ModelRegistry.All[Conformance.IndexOf(model)].SupportsPrecise) return;   // refused: checked above
        int[] precise = [.. ModelRegistry.All.Select((m, i) => (m, i)).Where(x => x.m.SupportsPrecise).Select(x => x.i)];
        var cases = NetCaseArbitrary.Generator(20, 120, 1, model: Conformance.IndexOf(model), others: precise)
            .Select(c => c with { InputCode = (c.InputCode & 3) | 1, Noise = false, Current = false }).Sample(40, new Rnd(0x5EED_0001UL), 11);
        int compared = 0, firstMatched = 0, neurons = 0;
        long coarseMismatch = 0, fineMismatch = 0, total = 0;
        foreach (var c in cases)
        {
            var spec = c.ToSpec();
            var names = spec.Populations.Select(p => p.Name).ToHashSet();
            spec = spec with { Projections = [.. spec.Projections.Where(x => !names.Contains(x.Source))] };
            var exact = RunPrecise(new PreciseEngine(NetworkCompiler.Compile(spec, exactDelays: true)), spec.Run.DurationMs).Spikes;
            if (exact.Count < 5) continue;
            compared++;
            total += exact.Count;
            var firstExact = exact.GroupBy(x => x.Item2).ToDictionary(g => g.Key, g => g.Min(x => x.Item1));
            foreach (int factor in new[] { 4, 64 })
            {
                var net = NetworkCompiler.Compile(spec with { Run = spec.Run with { DtMs = spec.Run.DtMs / factor } });
                double dt = net.DtMs;
                var grid = ReferenceModelTests.RunEngine(net, net.DurationTicks).Spikes[0];
                if (factor == 4) coarseMismatch += Math.Abs(grid.Count - exact.Count);
                else
                {
                    fineMismatch += Math.Abs(grid.Count - exact.Count);
                    var firstGrid = grid.GroupBy(x => x.Item2).ToDictionary(g => g.Key, g => g.Min(x => x.Item1) * dt);
                    neurons += firstExact.Count;
                    firstMatched += firstExact.Count(kv => firstGrid.TryGetValue(kv.Key, out double t) && Math.Abs(t - kv.Value) <= 4 * dt + 1e-9);
                }
            }
        }
        Assert.True(compared >= 8, $"{model}: only {compared} of 40 generated feed-forward networks spiked");
        Assert.True(firstMatched >= 0.95 * neurons, $"{model}: the first spikes of {firstMatched} of {neurons} neurons agree within 4 steps at dt/64");
        Assert.True(fineMismatch <= Math.Max(0.25 * coarseMismatch, 0.005 * total + 2),
            $"{model}: spike-count mismatch {coarseMismatch} at dt/4, {fineMismatch} at dt/64 ({total} precise spikes)");
    }

    /// <summary>As <see cref="RunPrecise"/>, but a run the runaway guard stops returns the spikes and state so far and the guard's reason.</summary>
    internal static (List<(double, int)> Spikes, double[] State, string? Stopped) RunPreciseOrRunaway(PreciseEngine e, params double[] parts)
    {
        var rec = new PreciseSpikeRecorder();
        e.AddSpikeSink(rec);
        try { foreach (double p in parts) e.RunMs(p); }
        catch (PreciseRunawayException) { }
        var net = e.Network;
        return ([.. rec.Spikes], [.. net.Populations.SelectMany(p => p.Model.ReportedVariableNames.SelectMany(v => e.GetVariable(p.Name, v)))], e.Stopped);
    }

    /// <summary>
    /// The case that ran out of memory (36 minutes in Emit): lif_delta with refractoriness 0–2 ms and strong recurrent
    /// excitation through delays uniform in [0.5, 1] ms branches into exponentially many distinct spike times. The
    /// runaway guard stops all three runs at the same time, with the same spikes, within a second.
    /// </summary>
    [Fact]
    public void ARunawayNetworkIsStoppedByTheGuardNotByMemory()
    {
        var c = new NetCase(279031, [Conformance.IndexOf("lif_delta")], [24], [484032, 821180, 224240, 916254], 0, false, false, 45, 1, false, 2);
        var net = NetworkCompiler.Compile(c.ToSpec(), exactDelays: true);
        double ms = c.Ticks * net.DtMs, cut = Math.Round(ms * (c.Seed % 97) / 97.0, 3);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var fast = RunPreciseOrRunaway(new PreciseEngine(net), ms);
        var reference = RunPreciseOrRunaway(new PreciseEngine(net, null, referenceScheduling: true, eagerPredictions: true), ms);
        var split = RunPreciseOrRunaway(new PreciseEngine(net), cut, ms - cut);
        Assert.NotNull(fast.Stopped);
        Assert.Contains("runaway activity", fast.Stopped);
        Assert.Equal(fast.Stopped, reference.Stopped);
        Assert.Equal(fast.Stopped, split.Stopped);
        Assert.Equal(fast.Spikes, reference.Spikes);
        Assert.Equal(fast.Spikes, split.Spikes);
        Assert.True(sw.Elapsed.TotalSeconds < 60, $"took {sw.Elapsed}");
        // Once stopped, the engine refuses to continue.
        var e = new PreciseEngine(net);
        Assert.Throws<PreciseRunawayException>(() => e.RunMs(ms));
        Assert.Throws<PreciseRunawayException>(() => e.RunMs(1));
        Assert.True(fast.Spikes.Count > 100_000 * 1e-3 * 24);
    }

    /// <summary>A network with moderate activity (the same case with delays of one tick) never meets the guard.</summary>
    [Fact]
    public void TheRunawayGuardLeavesOrdinaryActivityAlone()
    {
        var c = new NetCase(279031, [Conformance.IndexOf("lif_delta")], [24], [484032, 821180, 224240, 916254], 0, false, false, 45, 1, false, 1);
        var net = NetworkCompiler.Compile(c.ToSpec(), exactDelays: true);
        var run = RunPreciseOrRunaway(new PreciseEngine(net), c.Ticks * net.DtMs);
        Assert.Null(run.Stopped);
        Assert.Equal(402, run.Spikes.Count);
    }

    private static (List<(double, int)> Spikes, double[] State) RunPrecise(PreciseEngine e, params double[] parts)
    {
        var rec = new PreciseSpikeRecorder();
        e.AddSpikeSink(rec);
        foreach (double p in parts) e.RunMs(p);
        var net = e.Network;
        return ([.. rec.Spikes], [.. net.Populations.SelectMany(p => p.Model.ReportedVariableNames.SelectMany(v => e.GetVariable(p.Name, v)))]);
    }

    /// <summary>
    /// The initial state against the file format's convention, independently of the model's <c>Initialise</c> (which
    /// every engine and the naive reference share, so the properties above cannot see a mistake in it): each reported
    /// variable r starts at the parameter r_init (r_init_mv for r_mv), drawn per element with the key (seed,
    /// PopulationValues(population, "init:" + key), instance) (docs/numerics.md item 6); a null v_init_mv means E_L; a
    /// variable without such a parameter starts at 0. Checked in absolute units for two instances at an offset.
    /// </summary>
    [Theory, MemberData(nameof(Conformance.ModelNames), MemberType = typeof(Conformance))]
    public void TheInitialStateIsTheDrawnInitialValues(string model)
    {
        var definition = ModelRegistry.All[Conformance.IndexOf(model)];
        var rng = new Random(5);
        const ulong Seed = 77;
        foreach (bool mixed in new[] { false, true })
        {
            var pars = definition.SampleParameters(rng, 0.1, mixed);
            if (mixed)
                // Every initial value drawn per element (a constant default would hide a wrong key).
                foreach (var f in Naming.Fields(pars.GetType()).Where(f => f.Key.Contains("_init", StringComparison.Ordinal)))
                    // (0.1–0.9: inside every model's initial range, e.g. rate_tanh's h in [−1, 1].)
                    f.Property.SetValue(pars, f.Key == "v_init_mv" ? Value.Uniform(-70, -56) : Value.Uniform(0.1, 0.9));
            var b = new NetworkBuilder("init") { Run = new RunOptions { DtMs = 0.1, Seed = Seed, Batch = 2, InstanceOffset = 3 } };
            b.NeuronGroup("other", 3, new LifDeltaParameters());   // the tested population is population 1
            b.NeuronGroup("p", 17, pars);
            var net = NetworkCompiler.Compile(b.Build());
            using var engine = new EventEngine(net);
            var fields = Naming.Fields(pars.GetType()).ToDictionary(f => f.Key);
            double[] Drawn(Value v, string key, ulong instance)
            {
                ulong k = CounterRng.Key(Seed, RngStreams.PopulationValues(1, key), instance, 0);
                return [.. Enumerable.Range(0, 17).Select(i => v.Draw(k, i))];
            }
            foreach (string r in definition.ReportedVariableNames)
            {
                string key = r.EndsWith("_mv", StringComparison.Ordinal) ? r[..^3] + "_init_mv" : r + "_init";
                for (int k = 0; k < 2; k++)
                {
                    double[] want = !fields.TryGetValue(key, out var f) ? new double[17]
                        : f.Property.GetValue(pars) is Value v ? Drawn(v, "init:" + key, (ulong)(3 + k))
                        : Drawn((Value)fields["e_leak_mv"].Property.GetValue(pars)!, "e_leak_mv", 0);
                    double[] got = engine.GetVariable(k, "p", r);
                    // An exported trace starts on its grid 2^-G (rate_tanh's h): the drawn value rounded, within half a grid step.
                    int index = definition.VariableIndex(r);
                    double grid = index == definition.CouplingTraceVariable && definition.CouplingTraceBits(pars) > 0
                        ? Math.ScaleB(1.0, -definition.CouplingTraceBits(pars) - 1) : 0;
                    for (int i = 0; i < 17; i++)
                        Assert.True(Math.Abs(got[i] - want[i]) <= 1e-9 * (1 + Math.Abs(want[i])) + grid, $"{model} ({(mixed ? "mixed" : "uniform")}): {r}[{i}] of instance {3 + k} starts at {got[i]}, the convention says {want[i]}");
                }
            }
        }
    }

    /// <summary>Guards the properties above against vacuity: the generator must produce activity for every model.</summary>
    [Theory, MemberData(nameof(Conformance.ModelNames), MemberType = typeof(Conformance))]
    public void GeneratedCasesSpike(string model)
    {
        var cases = NetCaseArbitrary.Generator(30, 200, 1, model: Conformance.IndexOf(model)).Sample(40, new Rnd(0x5EED_0002UL), 7);
        var definition = ModelRegistry.All[Conformance.IndexOf(model)];
        int active = cases.Count(c =>
        {
            var net = NetworkCompiler.Compile(c.ToSpec());
            int first = net.Populations[0].Offset, size = net.Populations[0].Size;
            var run = ReferenceModelTests.RunEngine(net, c.Ticks);
            if (!definition.EmitsSpikes)
            {
                // A model without spikes (rate_tanh): input must reach it, i.e. a stored variable other than its output
                // (rate_tanh's u) ends above 0.05 in magnitude somewhere; and it must never report a spike.
                string output = $"{net.Populations[0].Name}.{definition.StateVariables[definition.CouplingTraceVariable].Reported}";
                bool driven = run.State[0].Any(kv => kv.Key.StartsWith(net.Populations[0].Name + ".", StringComparison.Ordinal) && kv.Key != output
                    && kv.Value.Any(x => Math.Abs(x) > 0.05));
                Assert.True(run.Spikes[0].All(s => s.Item2 < first || s.Item2 >= first + size), $"{model} reported a spike");
                return driven;
            }
            return run.Spikes[0].Count(s => s.Item2 >= first && s.Item2 < first + size) > 3;
        });
        Assert.True(active >= 12, $"only {active} of 40 generated networks made the first population ({model}) {(definition.EmitsSpikes ? "spike" : "move")}");
    }
}
