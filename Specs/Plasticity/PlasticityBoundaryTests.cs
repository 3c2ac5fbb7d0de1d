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
/// The plasticity boundary (docs/architecture.md, "A rule"): per-instance plastic weights of spike and trace-coupled
/// projections with their exactness checks, spike hooks, lazily decayed traces, per-synapse state, the model's
/// pseudo-derivative, the update points and checkpoints, on both grid engines.
/// </summary>
public class PlasticityBoundaryTests
{
    internal static readonly Func<CompiledNetwork, ISimulationEngine>[] Engines =
        [net => new EventEngine(net, new EngineOptions { Threads = 2 }), net => new DenseEngine(net)];

    /// <summary>
    /// The bar of the architecture issue: four store-and-recall cells (different R, one of them LTTS and one per-trial)
    /// learned as one batch of four plastic instances give the same curves, bit for bit, as the four cells run alone, on
    /// both grid engines (each instance owns its weights and its learner).
    /// </summary>
    [Fact]
    public void ABatchOfFourPlasticStoreRecallInstancesEqualsTheFourRunAlone()
    {
        var o = new StoreRecallOptions { Neurons = 40, Steps = 50, Epochs = 4, Seed = 3, ReadoutIterations = 200, LearningRate = LearningRate.Fixed(1.0) };
        // Different cell indices: each cell has its own target, teacher, readout and feedback (same learning network).
        StoreRecallOptions[] cells = [o with { Rank = 3 }, o with { Rank = 20, Cell = 1 }, o with { Rank = 40, PerTrial = true, Cell = 2 }, o with { Ltts = true, TauStarDt = 2.5, Cell = 3 }];
        var alone = cells.Select(c => new StoreRecall(c).Run()).ToArray();
        Assert.True(alone.Select(r => r.Mse[^1]).Distinct().Count() == 4, "the four cells should learn differently: " + string.Join(" | ", alone.Select(r => string.Join(",", r.Mse))));
        Assert.True(alone.Select(r => r.TargetSpikes).Distinct().Count() > 1, "the cells should have different targets");
        Assert.All(alone, r => Assert.NotEmpty(r.FinalOutput));
        foreach (var engine in new[] { "event", "dense" })
        {
            var batch = StoreRecall.RunBatch([.. cells.Select(c => new StoreRecall(c, EngineFactory.GridFactory(engine)))]);
            for (int k = 0; k < cells.Length; k++)
            {
                Assert.True(ReferenceModelTests.SameBits(alone[k].Mse, batch[k].Mse), $"{engine}: MSE of cell {k} differs in the batch");
                Assert.True(ReferenceModelTests.SameBits(alone[k].SpikeError, batch[k].SpikeError), $"{engine}: ΔS of cell {k} differs in the batch");
                Assert.True(ReferenceModelTests.SameBits([.. alone[k].FinalOutput.SelectMany(r => r)], [.. batch[k].FinalOutput.SelectMany(r => r)]));
            }
        }
        Assert.Throws<ArgumentException>(() => StoreRecall.RunBatch([new StoreRecall(o with { Rank = 3 }), new StoreRecall(o with { Rank = 3, Seed = 9 })]));
    }

    internal static NetworkSpec GoalNet(int n = 6, int batch = 1)
    {
        var b = new NetworkBuilder("goal") { Run = new RunOptions { DtMs = 1, DurationMs = 30, Seed = 4, Batch = batch } };
        b.NeuronGroup("rec", n, new GoalLifParameters { VInit = Value.Uniform(-6, 1) });
        b.PoissonGroup("in", 4, 80);
        b.Synapses("in", "rec", new Connectivity.AllToAll(), Value.Normal(0, 22, -60, 60));
        b.Synapses("rec", "rec", new Connectivity.AllToAll(Autapses: false), 0.0, projectionName: "w_rec", weightFractionBits: 20);
        return b.Build();
    }

    /// <summary>Calls an action in a chosen update point (a rule for specs).</summary>
    internal sealed class Probe(string projection) : IPlasticityRule, IRuleInstance
    {
        public PlasticProjection P = null!;
        public Action<IPlasticityContext>? Step;
        public void Bind(PlasticityBinding binding) => P = binding.Projection(projection);
        public IRuleInstance CreateInstance(IPlasticityContext context) => this;
        public void OnStep(IPlasticityContext context) => Step?.Invoke(context);
    }

    /// <summary>Trace rows: round half to even onto the grid, refuse a row beyond the exact range or a NaN (naming the weight), and leave the row unchanged then.</summary>
    [Fact]
    public void TraceRowsAreRoundedAndCheckedBeforeAnyWrite()
    {
        var net = NetworkCompiler.Compile(GoalNet(4));
        var pop = net.Population("rec");
        double unit = Math.ScaleB(1.0, -pop.TraceWeightFractionBits), limit = CompiledNetwork.TraceRowLimit(pop);
        Assert.Equal(Math.ScaleB(1.0, 53 - pop.TraceInputFractionBits), limit);
        using var engine = new EventEngine(net);
        var probe = new Probe("w_rec");
        engine.AddPlasticityRule(probe);
        int target = pop.Offset + 2;
        Exception? failure = null;
        probe.Step = c =>
        {
            // Ties go to even: 2.5 → 2, −3.5 → −4; −0.4 → 0.
            c.SetIncomingWeights(probe.P, target, [2.5 * unit, -3.5 * unit, -0.4 * unit]);
            Assert.Equal([2 * unit, -4 * unit, 0.0], probe.P.Incoming(target).ToArray().Select(k => c.GetWeight(probe.P, k)));
            double big = Math.Floor(limit / 3 + 1) * unit;
            failure = Assert.Throws<PlasticWeightException>(() => c.SetIncomingWeights(probe.P, target, [big, big, big]));
            Assert.Contains("exact range", failure.Message);
            var ex = Assert.Throws<PlasticWeightException>(() => c.SetIncomingWeights(probe.P, target, [0, double.NaN, 0]));
            Assert.Contains("weight", ex.Message);
            Assert.Equal([2 * unit, -4 * unit, 0.0], probe.P.Incoming(target).ToArray().Select(k => c.GetWeight(probe.P, k)));   // unchanged
            Assert.Throws<ArgumentException>(() => c.SetIncomingWeights(probe.P, target, [1.0]));
            // The sum may sit just below the bound.
            double edge = (limit / 2 - 1) * unit;
            c.SetIncomingWeights(probe.P, target, [edge, -edge, 0]);
            probe.Step = null;
        };
        engine.Run(1);
        Assert.NotNull(failure);
        Assert.All(net.TraceSynapses.Q.ToArray(), q => Assert.Equal(0, q));   // the compiled network is untouched
    }

    /// <summary>Rows longer than the pooled scratch take the same rounding and checks.</summary>
    [Fact]
    public void LongTraceRowsAreRoundedAndCheckedToo()
    {
        var net = NetworkCompiler.Compile(GoalNet(700));
        var pop = net.Population("rec");
        double unit = Math.ScaleB(1.0, -pop.TraceWeightFractionBits);
        using var engine = new EventEngine(net);
        var probe = new Probe("w_rec");
        engine.AddPlasticityRule(probe);
        int target = pop.Offset + 5;
        bool ran = false;
        probe.Step = c =>
        {
            ran = true;
            int len = probe.P.Incoming(target).Length;
            Assert.True(len > 512);
            var w = Enumerable.Range(0, len).Select(k => (k - 350 + 0.5) * unit).ToArray();   // every value a tie
            c.SetIncomingWeights(probe.P, target, w);
            var ids = probe.P.Incoming(target).ToArray();
            for (int k = 0; k < len; k++) Assert.Equal(Math.Round(w[k] / unit, MidpointRounding.ToEven) * unit, c.GetWeight(probe.P, ids[k]));
            var before = ids.Select(k => c.GetWeight(probe.P, k)).ToArray();
            w[600] = double.PositiveInfinity;
            Assert.Contains("weight", Assert.Throws<PlasticWeightException>(() => c.SetIncomingWeights(probe.P, target, w)).Message);
            Assert.Equal(before, ids.Select(k => c.GetWeight(probe.P, k)));
            probe.Step = null;
        };
        engine.Run(1);
        Assert.True(ran);
    }

    /// <summary>
    /// A whole incoming row is written by a one-pass path; a row shared with another trace projection, and spike rows, by
    /// the general one. Both give the weights that writing synapse by synapse gives, and both refuse at the row's
    /// exactness bound counting every projection into the target (here: w_aux's weights count against w_rec's writes).
    /// </summary>
    [Fact]
    public void IncomingRowWritesEqualSynapseBySynapseWritesAndShareTheRowBound()
    {
        var b = new NetworkBuilder("goal2") { Run = new RunOptions { DtMs = 1, DurationMs = 5, Seed = 4 } };
        b.NeuronGroup("rec", 5, new GoalLifParameters());
        b.NeuronGroup("aux", 3, new GoalLifParameters());
        b.Synapses("rec", "rec", new Connectivity.AllToAll(Autapses: false), 0.0, projectionName: "w_rec", weightFractionBits: 20);
        b.Synapses("aux", "rec", new Connectivity.AllToAll(), 0.0, projectionName: "w_aux", weightFractionBits: 20);
        foreach (var spec in new[] { GoalNet(5), b.Build(), SpikeNet(new LifDeltaParameters()) })
        {
            var net = NetworkCompiler.Compile(spec);
            var rng = new Random(3);
            var pop = net.Populations[0];
            var rows = new double[pop.Size][];
            double[]? byRow = null, bySynapse = null;
            foreach (bool perSynapse in new[] { false, true })
            {
                using var engine = new EventEngine(net);
                var probe = new Probe(spec.Projections.Any(x => x.Name == "w_rec") ? "w_rec" : spec.Projections.Last().DisplayName);
                engine.AddPlasticityRule(probe);
                probe.Step = c =>
                {
                    for (int i = 0; i < pop.Size; i++)
                    {
                        var ids = probe.P.Incoming(pop.Offset + i).ToArray();
                        rows[i] ??= [.. ids.Select(_ => Math.Round(rng.NextDouble() * 64 - 16, 1) * probe.P.Unit * 0.5)];
                        if (perSynapse) for (int j = 0; j < ids.Length; j++) c.SetWeight(probe.P, ids[j], rows[i][j]);
                        else c.SetIncomingWeights(probe.P, pop.Offset + i, rows[i]);
                    }
                    probe.Step = null;
                };
                engine.Run(1);
                if (perSynapse) bySynapse = engine.GetWeights(0, probe.P.Name); else byRow = engine.GetWeights(0, probe.P.Name);
            }
            Assert.Equal(byRow, bySynapse);
            Assert.Contains(byRow!, w => w != 0);
        }
        // The shared bound: w_aux takes most of rec[0]'s exact range, so a w_rec row that alone would pass is refused.
        var shared = NetworkCompiler.Compile(b.Build());
        var target = shared.Population("rec");
        double unit = Math.ScaleB(1.0, -target.TraceWeightFractionBits), limit = CompiledNetwork.TraceRowLimit(target);
        using (var engine = new EventEngine(shared))
        {
            var rec = new Probe("w_rec");
            var aux = new Probe("w_aux");
            engine.AddPlasticityRule(aux);   // rules run in the order they were added: w_aux is written first
            engine.AddPlasticityRule(rec);
            aux.Step = c => { c.SetIncomingWeights(aux.P, 0, [.. Enumerable.Repeat(Math.Floor(limit / 6) * unit, 3)]); aux.Step = null; };
            rec.Step = c =>
            {
                double w = Math.Floor(limit / 6) * unit;   // 4 × w alone is below the bound; with w_aux's 3 × w it is not
                Assert.Contains("exact range", Assert.Throws<PlasticWeightException>(() => c.SetIncomingWeights(rec.P, 0, [w, w, w, w])).Message);
                c.SetIncomingWeights(rec.P, 0, [w, w, 0, 0]);   // 5 × w: allowed
                rec.Step = null;
            };
            engine.Run(1);
            Assert.Equal(2 * Math.Floor(limit / 6) * unit, engine.GetWeights(0, "w_rec").Take(4).Sum());
        }
    }

    internal static NetworkSpec SpikeNet(NeuronParameters model, int batch = 1)
    {
        var b = new NetworkBuilder("spiking") { Run = new RunOptions { DtMs = 0.5, DurationMs = 100, Seed = 8, Batch = batch } };
        b.NeuronGroup("n", 12, model);
        b.PoissonGroup("drive", 6, 400);
        b.Synapses("drive", "n", new Connectivity.FixedProbability(0.6), Value.Uniform(2, 6), Value.Uniform(0.5, 2), projectionName: "w_in");
        b.Synapses("n", "n", new Connectivity.FixedProbability(0.4, false), Value.Uniform(0.2, 1.5), 1.0, projectionName: "w_rec");
        return b.Build();
    }

    /// <summary>A weight that depends only on (instance, tick, synapse): what a rule of this spec writes.</summary>
    private static double Written(int instance, long tick, int k) => 0.25 + 1.5 * Math.Abs(Math.Sin(0.37 * k + 0.11 * tick + 1.3 * instance));

    /// <summary>
    /// Plastic spike synapses: a rule rewriting every weight of the recurrent projection each tick (a function of the
    /// instance) gives the same spikes on both engines, and a batch of three equals three single runs; the new weights
    /// change the activity.
    /// </summary>
    [Fact]
    public void PlasticSpikeWeightsArePerInstanceAndTheSameOnBothEngines()
    {
        var model = new LifDeltaParameters { VInitMv = Value.Uniform(-70, -52), RefractoryMs = 1 };
        (List<(long, int)>[] Spikes, Dictionary<string, double[]>[] State, double[][] Weights) Run(Func<CompiledNetwork, ISimulationEngine> make, int batch, int offset)
        {
            var spec = SpikeNet(model, batch);
            var net = NetworkCompiler.Compile(spec with { Run = spec.Run with { InstanceOffset = offset } });
            using var engine = make(net);
            var probe = new Probe("w_rec");
            engine.AddPlasticityRule(probe);
            probe.Step = c =>
            {
                var w = new double[probe.P.Count];
                for (int k = 0; k < w.Length; k++) w[k] = Written(c.Instance, c.Tick, k);
                c.SetWeights(probe.P, w);
            };
            var run = ReferenceModelTests.Record(engine, net.DurationTicks);
            return (run.Spikes, run.State, [.. Enumerable.Range(0, batch).Select(b => engine.GetWeights(b, "w_rec"))]);
        }
        var ev = Run(Engines[0], 3, 0);
        var dense = Run(Engines[1], 3, 0);
        Assert.Null(Sim.Specs.GpuBridge.DenseEquivalenceTests.FirstDifference((ev.Spikes, ev.State), (dense.Spikes, dense.State)));
        for (int b = 0; b < 3; b++)
        {
            var single = Run(Engines[0], 1, b);
            Assert.Equal(ev.Spikes[b], single.Spikes[0]);
            Assert.True(ReferenceModelTests.SameBits(ev.Weights[b], single.Weights[0]));
        }
        Assert.NotEqual(ev.Spikes[0], ev.Spikes[1]);   // the instances' weights differ, and so does their activity
        using var plain = new EventEngine(NetworkCompiler.Compile(SpikeNet(model)));
        Assert.NotEqual(ReferenceModelTests.Record(plain, 200).Spikes[0], ev.Spikes[0]);
    }

    /// <summary>
    /// A spike synapse into a model with separate excitatory and inhibitory variables (LifExp) keeps its sign; into one
    /// that sums them (LifDelta) it may change sign. |q| stays within 2^30.
    /// </summary>
    [Fact]
    public void PlasticSpikeWeightsKeepTheirReceptorWhereTheModelTellsThemApart()
    {
        foreach (var (model, signed) in new (NeuronParameters, bool)[] { (new LifExpParameters(), true), (new LifDeltaParameters(), false) })
        {
            var net = NetworkCompiler.Compile(SpikeNet(model));
            using var engine = new EventEngine(net);
            var probe = new Probe("w_rec");
            engine.AddPlasticityRule(probe);
            bool ran = false;
            probe.Step = c =>
            {
                ran = true;
                if (signed) Assert.Contains("change sign", Assert.Throws<PlasticWeightException>(() => c.SetWeight(probe.P, 0, -0.5)).Message);
                else c.SetWeight(probe.P, 0, -0.5);
                Assert.Contains("2^30", Assert.Throws<PlasticWeightException>(() => c.SetWeight(probe.P, 1, Math.ScaleB(1.0, 31 - probe.P.FractionBits))).Message);
                probe.Step = null;
            };
            engine.Run(1);
            Assert.True(ran);
            Assert.Equal(signed ? PlasticityBinding.CompiledWeights(net, "w_rec")[0] : -0.5, engine.GetWeights(0, "w_rec")[0]);
        }
    }

    /// <summary>The reverse index: Incoming and Outgoing list exactly the synapses whose Post and Pre they name.</summary>
    [Fact]
    public void IncomingAndOutgoingIndexTheSynapses()
    {
        var net = NetworkCompiler.Compile(SpikeNet(new LifDeltaParameters()));
        var p = new PlasticityBinding(net).Projection("w_rec");
        Assert.Single(net.Spec.Projections, x => x.DisplayName == "w_rec");
        var seen = new int[p.Count];
        for (int i = 0; i < net.NeuronCount; i++)
            foreach (int k in p.Incoming(i)) { Assert.Equal(i, p.Post[k]); seen[k]++; }
        for (int s = 0; s < net.SourceCount; s++)
            foreach (int k in p.Outgoing(s)) { Assert.Equal(s, p.Pre[k]); seen[k]++; }
        Assert.All(seen, c => Assert.Equal(2, c));
        Assert.True(p.Count > 20);
        Assert.Throws<ArgumentException>(() => new PlasticityBinding(net).Projection("no-such"));
    }
}
