using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Experiments;
using Sim.GpuBridge;
using Sim.Specs.EventCore;
using Sim.Specs.Reference;
using Xunit;

namespace Sim.Specs.Experiments;

/// <summary>
/// The task protocol's closed loop on the per-tick I/O hook: an environment's observation encoded into currents every
/// tick, the activity decoded into an action that steps the environment; episodes side by side in a batch; the same bits
/// on both grid engines and in a batch as alone.
/// </summary>
public class ClosedLoopTests
{
    /// <summary>A point on a line pushed by the action towards a target drawn from (seed, episode); reward −distance.</summary>
    private sealed class Reach : IEnvironment
    {
        private double _x, _target;
        public int ObservationSize => 2;
        public int ActionSize => 1;
        public void Reset(ulong seed, int episode)
        {
            _x = 0;
            _target = 0.2 + 0.6 * Sim.EventCore.Numerics.CounterRng.Uniform01(Sim.EventCore.Numerics.CounterRng.Word(seed, (ulong)episode));
        }
        public void Observe(Span<double> o) { o[0] = Math.Max(0, _target - _x); o[1] = Math.Max(0, _x - _target); }
        public EnvironmentStep Act(ReadOnlySpan<double> a)
        {
            _x += 0.001 * a[0];
            double d = Math.Abs(_target - _x);
            return new(-d, d < 0.03);
        }
    }

    private static NetworkSpec Network(int batch, int offset = 0)
    {
        var b = new NetworkBuilder("reach") { Run = new RunOptions { DtMs = 0.5, DurationMs = 200, Seed = 3, Batch = batch, InstanceOffset = offset } };
        var lif = new LifExpParameters { TauMemMs = 10, ELeakMv = -65, VThresholdMv = -55, VResetMv = -65, RefractoryMs = 1, VInitMv = Value.Uniform(-65, -56) };
        b.NeuronGroup("push", 20, lif);
        b.NeuronGroup("pull", 20, lif);
        b.Synapses("push", "pull", new Connectivity.FixedProbability(0.2), -1.0);
        b.Synapses("pull", "push", new Connectivity.FixedProbability(0.2), -1.0);
        return b.Build();
    }

    private static ClosedLoopTask Task(CompiledNetwork net)
    {
        // push neurons get the distance to the target below them, pull neurons the distance above (40 mV per unit).
        var wPush = Enumerable.Range(0, 20).SelectMany(i => new[] { 40.0 + i, 0.0 }).ToArray();
        var wPull = Enumerable.Range(0, 20).SelectMany(i => new[] { 0.0, 40.0 + i }).ToArray();
        var readout = Enumerable.Range(0, 40).Select(i => i < 20 ? 1.0 : -1.0).ToArray();
        return new ClosedLoopTask("reach", 400, 11, _ => new Reach(), _ => new TwoPopulations(net, wPush, wPull),
            _ => new Sim.Experiments.FilteredSpikeReadout(net, "push", 5, readout[..20]));
    }

    /// <summary>Encodes into two populations (one linear encoder each).</summary>
    private sealed class TwoPopulations(CompiledNetwork net, double[] wPush, double[] wPull) : IObservationEncoder
    {
        private readonly LinearCurrentEncoder _push = new(net, "push", wPush, [.. Enumerable.Repeat(9.0, 20)]), _pull = new(net, "pull", wPull);
        public IReadOnlyList<string> Populations => ["push", "pull"];
        public void Encode(ReadOnlySpan<double> observation, ITickInputs inputs) { _push.Encode(observation, inputs); _pull.Encode(observation, inputs); }
    }

    private static (IReadOnlyList<TrialMetrics> Metrics, List<(long, int)>[] Spikes) Run(Func<CompiledNetwork, ISimulationEngine> make, int batch, int offset = 0)
    {
        var net = NetworkCompiler.Compile(Network(batch, offset));
        using var engine = make(net);
        var rec = new Sim.Specs.Reference.SpikeRecorder();
        engine.AddSpikeSink(rec);
        var task = Task(net);
        var protocol = new TrialProtocol(engine, task);
        var metrics = protocol.Run(2);
        return (metrics, [.. Enumerable.Range(0, batch).Select(b => rec.Of(engine.FirstInstance + b).ToList())]);
    }

    [Fact]
    public void EpisodesRunClosedLoopTheSameOnBothEnginesAndInABatchAsAlone()
    {
        var ev = Run(net => new EventEngine(net, new EngineOptions { Threads = 2 }), 3);
        var dense = Run(net => new DenseEngine(net), 3);
        Assert.Equal(2, ev.Metrics.Count);
        for (int t = 0; t < 2; t++)
            foreach (var name in new[] { "return", "max_reward", "steps", "done" })
                Assert.True(ReferenceModelTests.SameBits(ev.Metrics[t].Values[name], dense.Metrics[t].Values[name]), $"trial {t}: {name} differs");
        for (int b = 0; b < 3; b++) Assert.Equal(ev.Spikes[b], dense.Spikes[b]);
        // Instance b of the batch equals a single run of instance b (instance offset b), in every trial: episodes belong to
        // the instance, not to its place in the batch.
        for (int b = 0; b < 3; b++)
        {
            var single = Run(net => new EventEngine(net), 1, offset: b);
            Assert.Equal(ev.Spikes[b], single.Spikes[0]);
            for (int t = 0; t < 2; t++)
                foreach (var name in new[] { "return", "max_reward", "steps", "done" })
                    Assert.True(ReferenceModelTests.SameBits(ev.Metrics[t].Values[name][b..(b + 1)], single.Metrics[t].Values[name]), $"instance {b}, trial {t}: {name}");
        }
        // The loop closes: the observation drives the network (spikes), the action moves the agent (steps taken, rewards vary).
        Assert.All(ev.Spikes, s => Assert.True(s.Count > 50, $"{s.Count} spikes"));
        Assert.All(ev.Metrics[0].Values["steps"], s => Assert.True(s > 10));
        Assert.NotEqual(ev.Metrics[0].Values["return"][0], ev.Metrics[0].Values["return"][1]);
        Assert.Contains(ev.Metrics.SelectMany(m => m.Values["done"]), d => d == 1);
    }

    /// <summary>An I/O hook that writes a population it did not declare gets a clear error.</summary>
    [Fact]
    public void WritingAnUndeclaredPopulationIsAClearError()
    {
        var net = NetworkCompiler.Compile(Network(1));
        foreach (var engine in new ISimulationEngine[] { new EventEngine(net), new DenseEngine(net) })
            using (engine)
            {
                engine.AddTickIO(new Writer(["push"], 1));
                var e = Assert.Throws<InvalidOperationException>(() => engine.Run(1));
                Assert.Contains("'pull'", e.Message);
            }
    }

    /// <summary>
    /// The per-tick input is sample-and-hold, so it is state: a hook that writes it only at tick 0 drives the whole run,
    /// and a checkpoint taken later carries it. Resumed on either engine, the run equals the uninterrupted one.
    /// </summary>
    [Fact]
    public void AHeldPerTickInputSurvivesACheckpointOnEitherEngine()
    {
        var net = NetworkCompiler.Compile(Network(2));
        static ISimulationEngine Make(CompiledNetwork n, bool dense) => dense ? new DenseEngine(n) : new EventEngine(n);
        foreach (bool savedOnDense in new[] { false, true })
            foreach (bool resumedOnDense in new[] { false, true })
            {
                Checkpoint ck;
                List<(long, int)>[] whole;
                using (var e = Make(net, savedOnDense))
                {
                    e.AddTickIO(new WriteOnce(["push"], 0, 30.0));
                    var rec = new SpikeRecorder();
                    e.AddSpikeSink(rec);
                    e.Run(150);
                    ck = e.SaveCheckpoint();
                    e.Run(150);
                    whole = [.. Enumerable.Range(0, e.BatchSize).Select(b => rec.Of(e.FirstInstance + b).Where(x => x.Tick >= 150).ToList())];
                    Assert.True(whole[0].Count > 50, "the held input drives the push population");
                }
                using var r = Make(net, resumedOnDense);
                r.AddTickIO(new WriteOnce(["push"], 0, 30.0));   // writes nothing after tick 0: the restored value must hold
                var rec2 = new SpikeRecorder();
                r.AddSpikeSink(rec2);
                r.Restore(ck);
                r.Run(150);
                for (int b = 0; b < r.BatchSize; b++) Assert.Equal(whole[b], rec2.Of(r.FirstInstance + b));
            }
    }

    private sealed class WriteOnce(IReadOnlyList<string> populations, int target, double value) : ITickIO
    {
        public IReadOnlyList<string> InputPopulations => populations;
        public void BeforeTick(int instance, long tick, ITickInputs inputs) { if (tick == 0) inputs.Current(target).Fill(value); }
        public void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state) { }
    }

    private sealed class Writer(IReadOnlyList<string> populations, int target) : ITickIO
    {
        public IReadOnlyList<string> InputPopulations => populations;
        public void BeforeTick(int instance, long tick, ITickInputs inputs) => inputs.Current(target)[0] = 1;
        public void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state) { }
    }
}
