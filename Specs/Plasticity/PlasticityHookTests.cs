using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.EventCore.Plasticity;
using Sim.Experiments;
using Sim.Plasticity;
using Sim.GpuBridge;
using Sim.Specs.EventCore;
using Xunit;

namespace Sim.Specs.Plasticity;

/// <summary>
/// The plasticity boundary's update points (docs/architecture.md, "A plasticity rule"): pre/post spike hooks with lazily
/// decayed traces against a naive record, the model's pseudo-derivative, per-synapse state and checkpoints carrying
/// weights, traces and rule state, on both grid engines. The networks are those of <see cref="PlasticityBoundaryTests"/>.
/// </summary>
public class PlasticityHookTests
{
    private static readonly Func<CompiledNetwork, ISimulationEngine>[] Engines = PlasticityBoundaryTests.Engines;
    private static NetworkSpec GoalNet(int n = 6, int batch = 1) => PlasticityBoundaryTests.GoalNet(n, batch);
    private static NetworkSpec SpikeNet(NeuronParameters model, int batch = 1) => PlasticityBoundaryTests.SpikeNet(model, batch);

    /// <summary>Records the hooks' arguments and reads traces in them.</summary>
    private sealed class HookRecorder : IPlasticityRule, IRuleInstance
    {
        public readonly List<(long Tick, int Source, int Count, double Trace)> Pre = [];
        public readonly List<(long Tick, int Neuron, double Trace)> Post = [];
        public readonly List<string> Points = [];
        private TraceHandle _pre = null!, _post = null!;
        public void Bind(PlasticityBinding binding)
        {
            _pre = binding.PreTrace(5.0);
            _post = binding.PostTrace(2.0);
            Assert.Same(_pre, binding.PreTrace(5.0));   // shared by τ
        }
        public IRuleInstance CreateInstance(IPlasticityContext context) => this;
        public void OnPreSpikes(IPlasticityContext c, ReadOnlySpan<int> sources, ReadOnlySpan<int> counts)
        {
            for (int k = 0; k < sources.Length; k++) Pre.Add((c.Tick, sources[k], counts[k], c.Trace(_pre, sources[k])));
            Points.Add("pre");
        }
        public void OnPostSpikes(IPlasticityContext c, ReadOnlySpan<int> neurons)
        {
            foreach (int i in neurons) Post.Add((c.Tick, i, c.Trace(_post, i)));
            Points.Add("post");
        }
        public void OnStep(IPlasticityContext c) => Points.Add("step");
        public void OnTrialStart(IPlasticityContext c) => Points.Add("start");
        public void OnTrialEnd(IPlasticityContext c) => Points.Add("end");
        public void OnPhaseEnd(IPlasticityContext c, int phase) => Points.Add($"phase{phase}");
    }

    /// <summary>
    /// Spike hooks see every spike of the tick (pre: neurons and input sources ascending, with the multiplicity of several
    /// Poisson spikes in one tick; post: the neurons), with the traces before the tick's spikes, and the lazily decayed
    /// traces equal a naive per-tick decay x ← x·α, + count; the update points come in their order; both engines agree.
    /// </summary>
    [Fact]
    public void SpikeHooksAndLazyTracesMatchANaiveRecordOnBothEngines()
    {
        var spec = SpikeNet(new LifDeltaParameters { VInitMv = Value.Uniform(-70, -52), RefractoryMs = 1 });
        spec = spec with { Inputs = [new PoissonInput("drive", 6, 3000)] };   // several spikes of one source per tick
        var runs = new List<HookRecorder>();
        foreach (var make in Engines)
        {
            var net = NetworkCompiler.Compile(spec);
            using var engine = make(net);
            var rec = new HookRecorder();
            engine.AddPlasticityRule(rec);
            var sink = new Sim.Specs.Reference.SpikeRecorder();
            engine.AddSpikeSink(sink);
            engine.ResetState();
            engine.Run(150);
            engine.EndPhase(0);
            engine.EndTrial();
            Assert.Equal(["start", "pre", "post", "step"], rec.Points.Take(4));
            Assert.Equal(["phase0", "end"], rec.Points.TakeLast(2));
            Assert.Equal(sink.Of(0).Select(s => (s.Tick, s.Neuron)), rec.Post.Select(p => (p.Tick, p.Neuron)));
            Assert.Equal(sink.Of(0).Select(s => (s.Tick, s.Neuron)), rec.Pre.Where(p => p.Source < net.NeuronCount).Select(p => (p.Tick, p.Source)));
            Assert.Contains(rec.Pre, p => p.Source >= net.NeuronCount && p.Count > 1);
            foreach (var g in rec.Pre.GroupBy(p => p.Tick)) Assert.Equal(g.Select(p => p.Source).Order(), g.Select(p => p.Source));
            // Naive traces: decay every tick, read before adding the tick's spikes.
            double aPre = Math.Exp(-net.DtMs / 5.0), aPost = Math.Exp(-net.DtMs / 2.0);
            foreach (var (kind, alpha) in new[] { ("pre", aPre), ("post", aPost) })
            {
                var x = new double[net.SourceCount];
                var events = kind == "pre" ? rec.Pre.Select(p => (p.Tick, p.Source, p.Count, p.Trace)).ToList() : rec.Post.Select(p => (p.Tick, Source: p.Neuron, Count: 1, p.Trace)).ToList();
                long t = 0;
                foreach (var g in events.GroupBy(e => e.Tick))
                {
                    for (; t < g.Key; t++) for (int i = 0; i < x.Length; i++) x[i] *= alpha;
                    foreach (var e in g) Assert.Equal(x[e.Source], e.Trace, 1e-12);
                    foreach (var e in g) x[e.Source] += e.Count;
                }
            }
            runs.Add(rec);
        }
        Assert.Equal(runs[0].Pre, runs[1].Pre);
        Assert.Equal(runs[0].Post, runs[1].Post);
    }

    /// <summary>The pseudo-derivative comes from the neuron model (GoalLif: σ(v)(1 − σ(v)) from its table); a model without one refuses.</summary>
    [Fact]
    public void ThePseudoDerivativeIsTheModels()
    {
        var net = NetworkCompiler.Compile(GoalNet());
        using var engine = new EventEngine(net);
        var probe = new PlasticityBoundaryTests.Probe("w_rec");
        engine.AddPlasticityRule(probe);
        int checkedTicks = 0;
        probe.Step = c =>
        {
            var psi = new double[6];
            c.PseudoDerivative(0, psi);
            var v = c.Variable(0, "v");
            for (int i = 0; i < 6; i++) Assert.Equal(SigmoidPseudoDerivative.Of(v[i]), psi[i]);
            checkedTicks++;
        };
        engine.Run(20);
        Assert.Equal(20, checkedTicks);
        Assert.Throws<InvalidOperationException>(() => LifExpModel.Instance.PseudoDerivative(null!, [], new double[1]));
    }

    /// <summary>Accumulates a per-synapse value every tick (state that persists across trials).</summary>
    private sealed class Accumulator : IPlasticityRule, IRuleInstance
    {
        private SynapseStateHandle _h = null!;
        public void Bind(PlasticityBinding binding) => _h = binding.SynapseState(binding.Projection("w_rec"), "sum");
        public IRuleInstance CreateInstance(IPlasticityContext context) => this;
        public void OnStep(IPlasticityContext c)
        {
            var s = c.SynapseState(_h);
            for (int k = 0; k < s.Length; k++) s[k] += c.Tick * 0.5 + k;
        }
        public double[] Read(IPlasticityContext c) => c.SynapseState(_h).ToArray();
    }

    /// <summary>
    /// Checkpoints carry the plastic state: a rank-R learner saved in the middle of an epoch and restored into a new engine
    /// (with a new rule instance of the same cell) continues exactly as the uninterrupted run, on either engine and across
    /// them; per-synapse state survives too.
    /// </summary>
    [Fact]
    public void CheckpointsCarryWeightsTracesAndRuleState()
    {
        var o = new StoreRecallOptions { Neurons = 20, Steps = 30, Rank = 20, Epochs = 1, Seed = 5, ReadoutIterations = 50, LearningRate = LearningRate.Fixed(0.8) };
        (ISimulationEngine Engine, RankRRule Rule) Learner(int engine)
        {
            var factory = EngineFactory.GridFactory(engine == 0 ? "event" : "dense");
            return new StoreRecall(o, factory).CreateLearner();
        }
        foreach (var (first, second) in new[] { (0, 0), (0, 1), (1, 0) })
        {
            var (a, _) = Learner(first);
            Checkpoint saved;
            using (a)
            {
                a.ResetState();
                a.Run(17);
                saved = a.SaveCheckpoint();
            }
            string path = Path.Combine(Path.GetTempPath(), $"sim-ckpt-{Guid.NewGuid():N}.ckpt");
            saved.Save(path);
            var loaded = Checkpoint.Load(path);
            File.Delete(path);
            var (b, bRule) = Learner(second);
            using (b)
            {
                b.Restore(loaded);
                b.Run(o.Steps - 17);
                var (c, cRule) = Learner(0);
                using (c)
                {
                    c.ResetState();
                    c.Run(o.Steps);
                    Assert.True(ReferenceModelTests.SameBits(cRule.Core.Weights.ToArray(), bRule.Core.Weights.ToArray()), $"{first}->{second}: master weights differ");
                    Assert.True(ReferenceModelTests.SameBits(c.GetWeights(0, "w_rec"), b.GetWeights(0, "w_rec")), $"{first}->{second}: grid weights differ");
                    Assert.True(ReferenceModelTests.SameBits(c.GetVariable(0, StoreRecall.Pop, "v"), b.GetVariable(0, StoreRecall.Pop, "v")));
                }
            }
        }
        // Per-synapse state.
        var net = NetworkCompiler.Compile(SpikeNet(new LifDeltaParameters()));
        using var e1 = new EventEngine(net);
        var acc = new Accumulator();
        var p1 = new PlasticityBoundaryTests.Probe("w_rec");
        e1.AddPlasticityRule(acc);
        e1.AddPlasticityRule(p1);
        e1.Run(11);
        var ck = e1.SaveCheckpoint();
        e1.Run(9);
        using var e2 = new EventEngine(net);
        var acc2 = new Accumulator();
        var p2 = new PlasticityBoundaryTests.Probe("w_rec");
        e2.AddPlasticityRule(acc2);
        e2.AddPlasticityRule(p2);
        e2.Restore(ck);
        e2.Run(9);
        double[] sum1 = [], sum2 = [];
        p1.Step = c => sum1 = acc.Read(c);
        p2.Step = c => sum2 = acc2.Read(c);
        e1.Run(1); e2.Run(1);
        Assert.Equal(sum1, sum2);
        Assert.Contains(sum1, x => x > 0);
        // Rules join before the first tick only (spikes in flight were scattered with the weights at emission).
        Assert.Throws<InvalidOperationException>(() => e1.AddPlasticityRule(new Accumulator()));
        // A checkpoint with plastic state does not restore into an engine without its rules, on either engine.
        using (var plain = new EventEngine(net)) Assert.Contains("plastic state", Assert.Throws<InvalidDataException>(() => plain.Restore(ck)).Message);
        using (var dense = new Sim.GpuBridge.DenseEngine(net)) Assert.Contains("plastic state", Assert.Throws<InvalidDataException>(() => dense.Restore(ck)).Message);
        // A checkpoint without plastic state does not restore into an engine with rules.
        using var bare = new EventEngine(net);
        var plainCheckpoint = bare.SaveCheckpoint();
        using var e3 = new EventEngine(net);
        e3.AddPlasticityRule(new Accumulator());
        Assert.Throws<InvalidDataException>(() => e3.Restore(plainCheckpoint));
    }

    /// <summary>
    /// Saved weights are checked as writes are: a tampered trace weight beyond the row's exact range or a spike weight
    /// beyond the grid is refused on restore (naming the projection); and a checkpoint made with one trace grid does not
    /// load into a network with another (the fingerprint covers the trace grids).
    /// </summary>
    [Fact]
    public void RestoredWeightsAreCheckedAndTheTraceGridIsPartOfTheNetwork()
    {
        var goal = NetworkCompiler.Compile(GoalNet(5));
        Checkpoint Saved(CompiledNetwork net)
        {
            using var e = new EventEngine(net);
            e.AddPlasticityRule(new PlasticityBoundaryTests.Probe(net.Spec.Projections.Last().DisplayName));
            e.Run(3);
            return e.SaveCheckpoint();
        }
        var ck = Saved(goal);
        ck.Instances[0].Plastic!.Longs["weights/w_rec"][0] = 1L << 60;
        using (var e = new EventEngine(goal))
        {
            e.AddPlasticityRule(new PlasticityBoundaryTests.Probe("w_rec"));
            Assert.Contains("'w_rec'", Assert.Throws<InvalidDataException>(() => e.Restore(ck)).Message);
        }
        var spiking = NetworkCompiler.Compile(SpikeNet(new LifDeltaParameters()));
        var sk = Saved(spiking);
        string key = sk.Instances[0].Plastic!.Longs.Keys.Single(k => k.StartsWith("weights/", StringComparison.Ordinal));
        sk.Instances[0].Plastic!.Longs[key][0] = 1L << 40;   // beyond |q| ≤ 2^30
        using (var e = new EventEngine(spiking))
        {
            e.AddPlasticityRule(new PlasticityBoundaryTests.Probe(spiking.Spec.Projections.Last().DisplayName));
            Assert.Contains("2^30", Assert.Throws<InvalidDataException>(() => e.Restore(sk)).Message);
        }
        // Same network but W_rec on the grid 2^-16 instead of 2^-20: another fingerprint.
        var coarse = NetworkCompiler.Compile(GoalNet(5) with
        {
            Projections = [.. GoalNet(5).Projections.Select(x => x.Name == "w_rec" ? x with { WeightFractionBits = 16 } : x)],
        });
        Assert.NotEqual(Checkpoint.Fingerprint(goal), Checkpoint.Fingerprint(coarse));
    }
}
