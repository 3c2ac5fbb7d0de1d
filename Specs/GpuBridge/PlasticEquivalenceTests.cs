using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Experiments;
using Sim.GpuBridge;
using Sim.EventCore.Plasticity;
using Sim.Plasticity;
using Sim.Specs.EventCore;
using Xunit;
using Xunit.Abstractions;

namespace Sim.Specs.GpuBridge;

/// <summary>
/// One generated plastic case: a store-recall-like GoalLif network (N neurons, clock input, optional teacher currents)
/// learning with the rank-R rule for several epochs (ResetState between them).
/// </summary>
/// <param name="Neurons">N (5–40).</param>
/// <param name="Steps">T, ticks per epoch.</param>
/// <param name="Outputs">O.</param>
/// <param name="Rank">R in [O, N] (ignored for LTTS).</param>
/// <param name="Ltts">LTTS feedback D = mean(diag(BBᵀ))·I.</param>
/// <param name="OutputSpace">Output-space feedback (Eq. 8) instead of neuron space.</param>
/// <param name="TauStarDt">τ⋆ in ticks.</param>
/// <param name="Eta">Learning rate η.</param>
/// <param name="Adam">Adam instead of SGD.</param>
/// <param name="Teacher">The learning network also receives teacher currents (those of another cell).</param>
/// <param name="Epochs">Epochs.</param>
/// <param name="Seed">Seed of the network and the task.</param>
public sealed record PlasticCase(int Neurons, int Steps, int Outputs, int Rank, bool Ltts, bool OutputSpace, double TauStarDt,
    double Eta, bool Adam, bool Teacher, int Epochs, ulong Seed)
{
    /// <summary>The store-recall options of the case (a short readout fit keeps the case cheap).</summary>
    public StoreRecallOptions Options => new()
    {
        Neurons = Neurons, Steps = Steps, Outputs = Outputs, Rank = Rank, Ltts = Ltts, OutputSpace = OutputSpace,
        TauStarDt = TauStarDt, Epochs = Epochs, Seed = Seed, ReadoutIterations = 100, LearningRate = LearningRate.Fixed(Eta),
    };
}

/// <summary>Generates <see cref="PlasticCase"/>s; η is kept where the weights stay inside the exact range.</summary>
public static class PlasticCases
{
    /// <summary>The arbitrary (no shrinking: a failing case is printed whole).</summary>
    public static Arbitrary<PlasticCase> PlasticCase() => Arb.From(
        from n in Gen.Choose(5, 40)
        from steps in Gen.Choose(12, 50)
        from outputs in Gen.Choose(1, 3)
        from rank in Gen.Choose(Math.Min(outputs, n), n)
        from kind in Gen.Choose(0, 2)   // 0 neuron space rank R, 1 LTTS, 2 output space rank R
        from tau in Gen.Elements(1.0, 2.5, 4.64, 10.0, 21.5)
        from adam in Gen.Elements(false, true)
        from eta in adam ? Gen.Elements(0.001, 0.005, 0.02) : Gen.Elements(0.05, 0.3, 1.0, 3.0)
        from teacher in Gen.Elements(false, true)
        from epochs in Gen.Choose(2, 4)
        from seed in Gen.Choose(1, 1_000_000)
        select new PlasticCase(n, steps, outputs, rank, kind == 1, kind == 2, tau, eta, adam, teacher, epochs, (ulong)seed));
}

/// <summary>
/// Plastic runs are bit-identical on the EventEngine and the DenseEngine: the same C# rank-R rule (engine-independent
/// code) runs against both, so the equivalence reduces to both engines producing the same v, z, ej from the same
/// weights, and to the dense engine's W_rec on the device following the compiled table (docs/numerics.md).
/// </summary>
public class PlasticEquivalenceTests(ITestOutputHelper output)
{
    private const string Pop = "rec";

    /// <summary>What one plastic run left: spikes (epoch, tick, neuron), master W, grid Q, the compiled table, final state.</summary>
    internal sealed record PlasticRun(List<(int Epoch, long Tick, int Neuron)> Spikes, double[] Weights, long[] Grid, long[] Table,
        Dictionary<string, double[]> State, double[]? DeviceWeights);

    private sealed class Recorder : ISpikeSink
    {
        public readonly List<(int, long, int)> Spikes = [];
        public int Epoch;
        public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons) { foreach (int i in neurons) Spikes.Add((Epoch, tick, i)); }
    }

    /// <summary>The task data of a case: network spec, rule targets, feedback factory, optimizer factory.</summary>
    private static (NetworkSpec Spec, double[][] Target, Func<ErrorFeedback> Feedback, Func<IOptimizer> Optimizer) Prepare(PlasticCase c)
    {
        var o = c.Options;
        var task = new StoreRecall(o);
        var zStar = task.TargetSpikes();
        var sStar = SpikeFilter.FilterTrain(zStar, o.Neurons, 1.0, o.TauStarDt);
        var wOut = task.TrainReadout(sStar);
        var b = Feedback.Matrix(wOut, o.Outputs, o.Neurons, o.Seed, o.Cell);
        double[][] target = sStar;
        Func<ErrorFeedback> feedback;
        if (o.OutputSpace)
        {
            target = new OutputSpaceFeedback(b, o.Neurons, o.Rank).Targets(task.Target, sStar);
            feedback = () => new OutputSpaceFeedback(b, o.Neurons, o.Rank);
        }
        else if (o.Ltts) feedback = () => new NeuronSpaceFeedback(Feedback.Ltts(b, o.Neurons), o.Neurons, "LTTS");
        else feedback = () => new NeuronSpaceFeedback(Feedback.RankR(b, o.Neurons, o.Rank), o.Neurons);
        var rate = LearningRate.Fixed(c.Eta);
        Func<IOptimizer> optimizer = c.Adam ? () => new Adam(rate) : () => new Sgd(rate);
        // Teacher currents of another cell (another W_teach and y*): with the target's own teacher drive and W_rec = 0 the
        // network would reproduce z* exactly, the error would vanish and nothing would be learned.
        var other = new StoreRecall(o with { Cell = o.Cell + 1 });
        return (c.Teacher ? other.BuildNetwork(other.TeacherWeights()) : task.BuildNetwork(null), target, feedback, optimizer);
    }

    /// <summary>Runs the case's epochs on a fresh compilation of the spec (each engine owns its plastic weights).</summary>
    private static PlasticRun Run(PlasticCase c, NetworkSpec spec, double[][] target, ErrorFeedback feedback, IOptimizer optimizer,
        Func<CompiledNetwork, ISimulationEngine> factory)
    {
        var net = NetworkCompiler.Compile(spec);
        using var engine = factory(net);
        var rule = new RankRRule(net, Pop, feedback, c.TauStarDt, optimizer, target);
        engine.AddPlasticityRule(rule);
        var rec = new Recorder();
        engine.AddSpikeSink(rec);
        for (int e = 0; e < c.Epochs; e++)
        {
            rec.Epoch = e;
            engine.ResetState();
            engine.Run(c.Steps);
            engine.EndTrial();
        }
        var state = new Dictionary<string, double[]>();
        foreach (var v in Sim.EventCore.Models.GoalLifModel.Instance.ReportedVariableNames) state[v] = engine.GetVariable(0, Pop, v);
        double scale = Math.ScaleB(1.0, net.Population(Pop).TraceWeightFractionBits);
        long[] table = [.. engine.GetWeights(0, "w_rec").Select(w => (long)(w * scale))];   // exact: w = q·2^-F
        return new PlasticRun(rec.Spikes, rule.Core.Weights.ToArray(), rule.Core.GridWeights.ToArray(), table, state,
            engine is DenseEngine d ? d.DeviceTraceWeights(net.Population(Pop).Index) : null);
    }

    /// <summary>The first difference between two plastic runs, or null when they agree bit for bit.</summary>
    internal static string? FirstDifference(PlasticRun ev, PlasticRun dense)
    {
        int k = 0;
        while (k < ev.Spikes.Count && k < dense.Spikes.Count && ev.Spikes[k] == dense.Spikes[k]) k++;
        if (k < ev.Spikes.Count || k < dense.Spikes.Count)
            return $"spike #{k}: event {(k < ev.Spikes.Count ? ev.Spikes[k].ToString() : "none")} vs dense {(k < dense.Spikes.Count ? dense.Spikes[k].ToString() : "none")}";
        if (!ReferenceModelTests.SameBits(ev.Weights, dense.Weights)) return "master weights W differ";
        if (!ev.Grid.AsSpan().SequenceEqual(dense.Grid)) return "grid weights Q differ";
        if (!ev.Table.AsSpan().SequenceEqual(dense.Table)) return "compiled trace tables differ";
        foreach (var (name, values) in ev.State)
            if (!ReferenceModelTests.SameBits(values, dense.State[name])) return $"final state '{name}' differs";
        return null;
    }

    /// <summary>The dense W_rec [source, local target] implied by the plastic weights (projection-local order = trace-table order).</summary>
    private static double[] TableAsDense(CompiledNetwork net, long[] table)
    {
        var p = net.Population(Pop);
        var tr = net.TraceSynapses;
        var w = new double[net.NeuronCount * p.Size];
        for (int i = 0; i < p.Size; i++)
            for (int k = tr.RowStart[p.Offset + i]; k < tr.RowStart[p.Offset + i + 1]; k++) w[tr.Source[k] * p.Size + i] += table[k];
        return w;
    }

    private static Property Equivalent(PlasticCase c, string device)
    {
        var (spec, target, feedback, optimizer) = Prepare(c);
        var ev = Run(c, spec, target, feedback(), optimizer(), net => new EventEngine(net, new EngineOptions { Threads = 1 }));
        var dense = Run(c, spec, target, feedback(), optimizer(), net => new DenseEngine(net, new DenseEngineOptions { Device = device }));
        string? diff = FirstDifference(ev, dense);
        if (diff is null)
        {
            var expected = TableAsDense(NetworkCompiler.Compile(spec), dense.Table);
            if (dense.DeviceWeights is null || !ReferenceModelTests.SameBits(expected, dense.DeviceWeights)) diff = "the device W_rec differs from the compiled table";
        }
        bool learned = ev.Grid.Any(q => q != 0);
        return (diff is null).Label($"{c}: {diff} ({ev.Spikes.Count} spikes, weights learned: {learned})")
            .Classify(learned, "weights learned").Classify(ev.Spikes.Count > 0, "spiking")
            .Classify(c.Adam, "adam").Classify(c.OutputSpace, "output space").Classify(c.Ltts, "LTTS").Classify(c.Teacher, "teacher currents");
    }

    /// <summary>
    /// Generated store-recall cells (teacher currents of another cell, Adam or SGD, the three feedback forms): the same
    /// spikes every tick of every epoch, final master W and grid Q, plastic weights and final state on both engines, and the
    /// device W_rec equal to the plastic weights. (The generic rule conformance of Conformance/RuleConformanceTests covers
    /// the rule on random cells; these are the task's own networks.)
    /// </summary>
    [Property(Arbitrary = [typeof(PlasticCases)], MaxTest = 15)]
    public Property StoreRecallCellsAreBitIdenticalOnBothEngines(PlasticCase c) => Equivalent(c, TorchRuntime.Cpu);

    /// <summary>A hand-picked larger case that learns visibly (weights change, activity changes across epochs).</summary>
    [Fact]
    public void LargerPlasticCaseIsBitIdenticalAndLearns()
    {
        var c = new PlasticCase(40, 50, 3, 40, false, false, 4.64, 1.0, false, false, 4, 3);
        var (spec, target, feedback, optimizer) = Prepare(c);
        var ev = Run(c, spec, target, feedback(), optimizer(), net => new EventEngine(net, new EngineOptions { Threads = 1 }));
        var dense = Run(c, spec, target, feedback(), optimizer(), net => new DenseEngine(net));
        Assert.Null(FirstDifference(ev, dense));
        Assert.Contains(ev.Grid, q => q != 0);
        var first = ev.Spikes.Where(s => s.Epoch == 0).Select(s => (s.Tick, s.Neuron));
        var last = ev.Spikes.Where(s => s.Epoch == c.Epochs - 1).Select(s => (s.Tick, s.Neuron));
        Assert.False(first.SequenceEqual(last), "the learned weights should change the activity");
    }

    /// <summary>
    /// ResetState on the dense engine: Poisson input, escape noise and a batch of 3 run twice from tick 0 give the same
    /// spikes and state as a fresh engine, and the same as the event engine's ResetState.
    /// </summary>
    [Fact]
    public void DenseResetStateReturnsToTickZero()
    {
        var net = NetworkCompiler.Compile(DenseEquivalenceTests.StochasticGoalLif());
        var fresh = DenseEquivalenceTests.RunDense(net, 60);
        using var dense = new DenseEngine(net);
        dense.Run(37);
        dense.ResetState();
        Assert.Equal(0, dense.Tick);
        var again = ReferenceModelTests.Record(dense, 60);
        Assert.Null(DenseEquivalenceTests.FirstDifference(fresh, again));
        using var ev = new EventEngine(net);
        ev.Run(23);
        ev.ResetState();
        Assert.Null(DenseEquivalenceTests.FirstDifference(ReferenceModelTests.Record(ev, 60), again));
    }

    /// <summary>
    /// Weights written between two runs (a rule's per-trial update point, without ResetState) act on the dense engine
    /// from its next tick exactly as on the event engine: the dense engine sees the newer version and re-reads its copy.
    /// </summary>
    [Fact]
    public void WeightsWrittenBetweenRunsReachTheDenseEngine()
    {
        (List<(long, int)>[] Spikes, Dictionary<string, double[]>[] State) Run(Func<CompiledNetwork, ISimulationEngine> make)
        {
            var net = NetworkCompiler.Compile(DenseEquivalenceTests.StochasticGoalLif());
            using var engine = make(net);
            engine.AddPlasticityRule(new TrialEndWriter("net->net", (k, i) => i % 3 == 0 ? 2.5 * Math.Sin(i + 3.0 * k) : null));
            engine.Run(40);
            engine.EndTrial();
            return ReferenceModelTests.Record(engine, 80);
        }
        var ev = Run(net => new EventEngine(net));
        var dense = Run(net => new DenseEngine(net));
        Assert.Null(DenseEquivalenceTests.FirstDifference(ev, dense));
        using var plain = new EventEngine(NetworkCompiler.Compile(DenseEquivalenceTests.StochasticGoalLif()));
        var untouched = ReferenceModelTests.Record(plain, 120);
        Assert.NotEqual(untouched.Spikes[0].Where(s => s.Item1 >= 40), ev.Spikes[0]);   // the new weights matter
    }

    /// <summary>At the end of a trial, writes weight f(instance, target) into every synapse of the targets f gives a value for.</summary>
    private sealed class TrialEndWriter(string projection, Func<int, int, double?> weightOf) : IPlasticityRule, IRuleInstance
    {
        private PlasticProjection _p = null!;
        public void Bind(PlasticityBinding binding) => _p = binding.Projection(projection);
        public IRuleInstance CreateInstance(IPlasticityContext context) => this;
        public void OnTrialEnd(IPlasticityContext context)
        {
            for (int i = 0; i < context.Network.NeuronCount; i++)
            {
                if (weightOf(context.Instance, i) is not { } w) continue;
                var row = new double[_p.Incoming(i).Length];
                for (int k = 0; k < row.Length; k++) row[k] = w * (1 + k % 3);
                context.SetIncomingWeights(_p, i, row);
            }
        }
    }

    /// <summary>
    /// A checkpoint whose GoalLif trace is off its grid (the engines' exact W_rec·hz relies on the grid, and the two
    /// engines would round it differently) is refused by both engines; the untouched checkpoint restores on both.
    /// </summary>
    [Fact]
    public void CheckpointsWithOffGridTracesAreRefused()
    {
        var net = NetworkCompiler.Compile(DenseEquivalenceTests.StochasticGoalLif());
        using var ev = new EventEngine(net);
        ev.Run(20);
        var checkpoint = ev.SaveCheckpoint();
        using (var ok = new EventEngine(net)) ok.Restore(checkpoint);
        using (var ok = new DenseEngine(net)) ok.Restore(checkpoint);
        foreach (string v in (string[])["net.hz", "net.ej"])
        {
            var x = checkpoint.Instances[1].State[v];
            double saved = x[3];
            x[3] = saved + 1e-9;
            using var e2 = new EventEngine(net);
            Assert.Contains("trace grid", Assert.Throws<InvalidDataException>(() => e2.Restore(checkpoint)).Message);
            using var d2 = new DenseEngine(net);
            Assert.Throws<InvalidDataException>(() => d2.Restore(checkpoint));
            x[3] = saved;
        }
    }

    /// <summary>A row beyond the exact range is refused through the dense engine's context too, leaving its weights and device copy unchanged.</summary>
    [Fact]
    public void DenseContextRefusesRowsBeyondTheExactRange()
    {
        var task = new StoreRecall(new StoreRecallOptions { Neurons = 6, Steps = 10, Rank = 6 });
        var net = NetworkCompiler.Compile(task.BuildNetwork(null));
        using var dense = new DenseEngine(net);
        var pop = net.Population(Pop);
        double unit = Math.ScaleB(1.0, -pop.TraceWeightFractionBits);
        double big = (Math.Ceiling(CompiledNetwork.TraceRowLimit(pop) / (pop.Size - 1)) + 1) * unit;   // n − 1 of them exceed the bound
        double value = big;
        int target = pop.Offset + 2;
        var rule = new Sim.Specs.Plasticity.PlasticityBoundaryTests.Probe("w_rec");
        rule.Step = c => c.SetIncomingWeights(rule.P, target, [.. Enumerable.Repeat(value, rule.P.Incoming(target).Length)]);
        dense.AddPlasticityRule(rule);
        var ex = Assert.Throws<PlasticWeightException>(() => dense.Run(1));
        Assert.Contains("exact range", ex.Message);
        Assert.All(dense.GetWeights(0, "w_rec"), w => Assert.Equal(0.0, w));
        Assert.All(dense.DeviceTraceWeights(pop.Index)!, w => Assert.Equal(0.0, w));
        // A row inside the range reaches the device.
        value = 5 * unit;
        dense.ResetState();
        dense.Run(1);
        var q = dense.GetWeights(0, "w_rec").Select(w => (long)(w / unit)).ToArray();
        Assert.Equal(5L * (pop.Size - 1), q.Sum());
        Assert.True(ReferenceModelTests.SameBits(TableAsDense(net, q), dense.DeviceTraceWeights(pop.Index)!));
    }

    private static readonly StoreRecallOptions Cell = new() { Neurons = 30, Steps = 40, Rank = 30, Epochs = 6, Seed = 2 };

    private void SameCurves(string device) => SameCurves(device, Cell);

    private void SameCurves(string device, StoreRecallOptions cell)
    {
        var clock = Stopwatch.StartNew();
        var ev = new StoreRecall(cell).Run();
        double tEvent = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var dense = new StoreRecall(cell, net => new DenseEngine(net, new DenseEngineOptions { Device = device })).Run();
        output.WriteLine($"event {tEvent:F2} s, {dense.Engine} {clock.Elapsed.TotalSeconds:F2} s; MSE {string.Join(", ", ev.Mse.Select(m => m.ToString("G4")))}");
        Assert.Equal("event", ev.Engine);
        Assert.StartsWith("dense", dense.Engine);
        Assert.Equal(BitConverter.DoubleToInt64Bits(ev.ReadoutLimit), BitConverter.DoubleToInt64Bits(dense.ReadoutLimit));
        Assert.True(ReferenceModelTests.SameBits(ev.Mse, dense.Mse), "per-epoch MSE differs");
        Assert.True(ReferenceModelTests.SameBits(ev.SpikeError, dense.SpikeError), "per-epoch ΔS differs");
        Assert.Equal(ev.TargetSpikes, dense.TargetSpikes);
        Assert.Equal(cell.Epochs, ev.Mse.Length);
    }

    /// <summary>
    /// (b′) The authors' conventions (teacher lag; W_rec ~ N(0, 1), the teacher run with self-connections, learning
    /// from a nonzero start): the same target spikes, readout limit and curves on both engines.
    /// </summary>
    [Fact]
    public void AuthorsConventionsGiveIdenticalCurvesOnBothEngines() => SameCurves(TorchRuntime.Cpu, Cell.WithAuthorsConventions());

    /// <summary>(b) One short store-recall cell: identical per-epoch MSE and ΔS on the event engine and the dense engine (cpu).</summary>
    [Fact]
    public void StoreRecallCurvesAreIdenticalOnBothEngines() => SameCurves(TorchRuntime.Cpu);

    /// <summary>
    /// (c) Per-trial updates (the rule writes the weights at the end of each epoch; the dense engine sees the newer version
    /// and re-reads them before its next tick): the event engine and the dense engine agree bit for bit, and the curve
    /// differs from the online one (the weights are constant within a trial).
    /// </summary>
    [Fact]
    public void PerTrialUpdatesAreIdenticalOnBothEngines()
    {
        var o = Cell with { PerTrial = true, Epochs = 8 };
        var ev = new StoreRecall(o).Run();
        var dense = new StoreRecall(o, net => new DenseEngine(net)).Run();
        Assert.True(ReferenceModelTests.SameBits(ev.Mse, dense.Mse), "per-epoch MSE differs (dense)");
        Assert.True(ReferenceModelTests.SameBits(ev.SpikeError, dense.SpikeError), "per-epoch ΔS differs (dense)");
        var online = new StoreRecall(o with { PerTrial = false }).Run();
        Assert.NotEqual(online.Mse, ev.Mse);
    }

    /// <summary><c>sim task store-recall --engine dense</c> writes the same curve as the event engine, byte for byte.</summary>
    [Fact]
    public void TaskCommandOnTheDenseEngineWritesTheSameCurve()
    {
        string root = Path.Combine(Path.GetTempPath(), "sim-specs-" + Guid.NewGuid().ToString("N"));
        try
        {
            string[] Curve(string engine)
            {
                string dir = Path.Combine(root, engine);
                var o = new StringWriter();
                var e = new StringWriter();
                int code = global::Sim.Cli.CommandLine.Run(["task", "store-recall", "--neurons", "20", "--steps", "30", "--rank", "8",
                    "--epochs", "4", "--eta", "0.5", "--engine", engine, "-o", dir], o, e);
                Assert.True(code == 0, e.ToString());
                Assert.Contains($"engine: {(engine == "event" ? "event" : "dense (cpu)")}", o.ToString());
                return File.ReadAllLines(Path.Combine(dir, "store-recall.csv"));
            }
            Assert.Equal(Curve("event"), Curve("dense"));
            var err = new StringWriter();
            Assert.Equal(2, global::Sim.Cli.CommandLine.Run(["task", "store-recall", "--engine", "gpu"], new StringWriter(), err));
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }

    /// <summary>(c) The same on cuda.</summary>
    [GpuFact]
    public void StoreRecallCurvesAreIdenticalOnCuda() => SameCurves("cuda");
}
