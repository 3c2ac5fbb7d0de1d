using Sim.EventCore.Description;
using Sim.Experiments;
using Sim.Plasticity;
using Xunit;

namespace Sim.Specs.Plasticity;

/// <summary>Store and recall (docs/tasks/store_recall.md) on a small cell: readout limit, learning, determinism.</summary>
public class StoreRecallTests
{
    private static readonly StoreRecallOptions Small = new() { Neurons = 50, Steps = 60, Rank = 50, Epochs = 30, Seed = 1 };

    [Fact]
    public void TargetFollowsTheRecipe()
    {
        var y = StoreRecall.MakeTarget(Small);
        Assert.Equal(60, y.Length);
        Assert.All(y.Take(8), row => Assert.All(row, v => Assert.Equal(0.0, v)));
        Assert.Equal(1.0, y.Max(r => r.Max()));
        Assert.Equal(3, y[0].Length);
    }

    [Fact]
    public void ReadoutLimitIsSmallAndLearningLowersTheError()
    {
        var result = new StoreRecall(Small).Run();
        Assert.InRange(result.ReadoutLimit, 0, 0.05);
        Assert.Equal(30, result.Mse.Length);
        Assert.True(result.TargetSpikes > 0);
        double first = result.Mse.Take(5).Average(), last = result.Mse.TakeLast(5).Average();
        Assert.True(last < 0.8 * first, $"MSE first 5 epochs {first:G4}, last 5 {last:G4}");
        double dsFirst = result.SpikeError.Take(5).Average(), dsLast = result.SpikeError.TakeLast(5).Average();
        Assert.True(dsLast < 0.8 * dsFirst, $"ΔS first 5 epochs {dsFirst:G4}, last 5 {dsLast:G4}");
        Assert.StartsWith("sgd, 5/sqrt(N)", result.Optimizer);
    }

    [Fact]
    public void AControllerSetsEachEpochsEtaFromTheErrorsSoFar()
    {
        foreach (var kind in new[] { global::Sim.Plasticity.Controllers.EtaControllerKind.Vkf, global::Sim.Plasticity.Controllers.EtaControllerKind.ParticleFilter })
        {
            var o = Small with { Epochs = 12, EtaController = kind };
            var a = new StoreRecall(o).Run();
            var fixedEta = new StoreRecall(Small with { Epochs = 12 }).Run();
            // Epoch 0 runs at the base eta, so its curve is the fixed-eta run's; later epochs follow the controller.
            Assert.Equal(fixedEta.Mse[0], a.Mse[0]);
            Assert.Equal(fixedEta.Rate.Eta, a.EtaPerEpoch[0]);
            Assert.Equal(12, a.EtaPerEpoch.Length);
            Assert.True(a.EtaPerEpoch.Distinct().Count() > 5, $"{kind}: eta should move from epoch to epoch");
            Assert.All(a.EtaPerEpoch, e => Assert.InRange(e, 0, 2 * fixedEta.Rate.Eta));
            Assert.NotEqual(fixedEta.Mse[^1], a.Mse[^1]);
            // The same bits again, and the per-epoch eta is exactly the controller's answer to the MSE stream so far.
            var b = new StoreRecall(o).Run();
            Assert.Equal(a.Mse, b.Mse);
            Assert.Equal(a.EtaPerEpoch, b.EtaPerEpoch);
            var replay = new global::Sim.Plasticity.Controllers.ControlledSgd(
                global::Sim.Plasticity.Controllers.ControlledSgd.CreateController(kind, o.Seed, o.Cell), fixedEta.Rate);
            for (int e = 0; e + 1 < a.Mse.Length; e++) Assert.Equal(a.EtaPerEpoch[e + 1], replay.EndTrial(a.Mse[e]));
            Assert.Contains("controller", a.Optimizer);
            Assert.Throws<NotSupportedException>(() => replay.Capture());
        }
    }

    [Fact]
    public void SameSeedGivesIdenticalCurves()
    {
        var options = Small with { Epochs = 8 };
        var a = new StoreRecall(options).Run();
        var b = new StoreRecall(options).Run();
        Assert.Equal(a.ReadoutLimit, b.ReadoutLimit);
        Assert.Equal(a.Mse, b.Mse);
        Assert.Equal(a.SpikeError, b.SpikeError);
        var c = new StoreRecall(options with { Seed = 2 }).Run();
        Assert.NotEqual(a.Mse, c.Mse);
    }

    [Fact]
    public void OptionsAreValidated()
    {
        Assert.Throws<ArgumentException>(() => new StoreRecall(Small with { Rank = 2 }));
        Assert.Throws<ArgumentException>(() => new StoreRecall(Small with { Rank = 51 }));
        _ = new StoreRecall(Small with { Rank = 2, Ltts = true });
    }
}

/// <summary>The output-space form (Eq. 8) on the same small cell.</summary>
public class StoreRecallOutputSpaceTests
{
    [Fact]
    public void OutputSpaceFormLearnsToo()
    {
        var result = new StoreRecall(new StoreRecallOptions { Neurons = 50, Steps = 60, Rank = 50, Epochs = 30, OutputSpace = true }).Run();
        Assert.StartsWith("output space", result.Feedback);
        double first = result.Mse.Take(5).Average(), last = result.Mse.TakeLast(5).Average();
        Assert.True(last < 0.8 * first, $"MSE first 5 epochs {first:G4}, last 5 {last:G4}");
        Assert.Throws<ArgumentException>(() => new StoreRecall(new StoreRecallOptions { OutputSpace = true, Ltts = true }));
    }

    /// <summary>
    /// The unquantized comparison run (GoalLif without its trace grid, W_rec·hz with the rule's float64 weights, on the
    /// event engine) stays close to the gridded run for the neuron-space, LTTS and output-space forms (rounding hz and ej
    /// to 2^-G changes v by far less than it takes to flip most spikes), and the dense engine refuses it, naming why.
    /// </summary>
    [Theory]
    [InlineData(10, false, false)]
    [InlineData(30, true, false)]
    [InlineData(10, false, true)]
    public void UnquantizedRunStaysCloseToTheGriddedOne(int rank, bool ltts, bool outputSpace)
    {
        var o = new StoreRecallOptions { Neurons = 30, Steps = 40, Rank = rank, Ltts = ltts, OutputSpace = outputSpace, Epochs = 6, Seed = 3 };
        var gridded = new StoreRecall(o).Run();
        var plain = new StoreRecall(o with { Unquantized = true }).Run();
        Assert.Equal(gridded.Mse.Length, plain.Mse.Length);
        Assert.Contains("unquantized", plain.Engine);
        for (int e = 0; e < plain.Mse.Length; e++) Assert.InRange(plain.Mse[e], 0.5 * gridded.Mse[e], 2 * gridded.Mse[e]);
        var dense = Assert.Throws<SpecException>(() => new StoreRecall(o with { Unquantized = true }, EngineFactory.GridFactory("dense")).Run());
        Assert.Contains("unquantized", dense.Message);
    }

    /// <summary>
    /// A learning rate so large that a row of grid weights leaves the exact range (Σ_j |Q_ij|·2^G ≥ 2^53): the engine
    /// refuses to write it, naming the bound.
    /// </summary>
    [Fact]
    public void RowsBeyondTheExactRangeAreRefused()
    {
        var o = new StoreRecallOptions { Neurons = 30, Steps = 40, Rank = 30, Epochs = 4, Seed = 3, LearningRate = LearningRate.Fixed(3e3) };
        var r = new StoreRecall(o).Run();   // the refused write ends learning; the result says why
        Assert.NotNull(r.Failure);
        Assert.Contains("exact range", r.Failure);
        Assert.True(r.Mse.Length < o.Epochs);
        Assert.Empty(r.FinalOutput);
    }

    /// <summary>
    /// The equal-step learning rate: η = X/‖D‖₂ with the recorded ‖D‖₂ (which for rank R = O is the squared norm of
    /// the readout directions, smaller than for full rank), next to the default η = 5/√N.
    /// </summary>
    [Fact]
    public void EqualStepLearningRateUsesTheFeedbackNorm()
    {
        var small = new StoreRecallOptions { Neurons = 50, Steps = 60, Rank = 50, Epochs = 30, Seed = 1 };
        var low = new StoreRecall(small with { Rank = 3, Epochs = 3, StepPerFeedbackNorm = 20 }).Run();
        var high = new StoreRecall(small with { Rank = 50, Epochs = 3, StepPerFeedbackNorm = 20 }).Run();
        Assert.NotNull(low.Rate);
        Assert.Equal(20 / low.FeedbackNorm, low.Rate!.Eta, 1e-12);
        Assert.Equal(20 / high.FeedbackNorm, high.Rate!.Eta, 1e-12);
        Assert.True(low.FeedbackNorm < high.FeedbackNorm, $"||D_3|| = {low.FeedbackNorm}, ||D_50|| = {high.FeedbackNorm}");
        Assert.True(high.FeedbackTrace > low.FeedbackTrace);
        Assert.Contains("||D||_2", low.Rate.Name);
        var plain = new StoreRecall(small with { Rank = 3, Epochs = 3 }).Run();
        Assert.Equal(5 / Math.Sqrt(50), plain.Rate!.Eta, 1e-15);
        Assert.NotEqual(plain.Rate.Eta, low.Rate.Eta);
        Assert.Throws<ArgumentException>(() => new StoreRecall(small with { StepPerFeedbackNorm = 1, LearningRate = LearningRate.Fixed(1) }));
    }
}

/// <summary><c>sim task store-recall</c>.</summary>
public class StoreRecallCommandTests
{
    private static (int Code, string Out, string Err) Sim(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = global::Sim.Cli.CommandLine.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void RunsASmallCellAndWritesTheCurves()
    {
        string dir = Path.Combine(Path.GetTempPath(), "sim-specs-" + Guid.NewGuid().ToString("N"));
        try
        {
            var r = Sim("task", "store-recall", "--neurons", "30", "--steps", "40", "--rank", "10", "--epochs", "6", "--every", "2", "--eta", "0.5", "-o", dir);
            Assert.Equal(0, r.Code);
            Assert.Contains("readout limit (MSE)", r.Out);
            Assert.Contains("fixed(0.5)", r.Out);
            Assert.Contains("epoch      4:", r.Out);
            var lines = File.ReadAllLines(Path.Combine(dir, "store-recall.csv"));
            Assert.Equal("epoch,mse,delta_s,eta", lines[0]);
            Assert.EndsWith(",0.5", lines[1]);   // the fixed eta of every epoch
            Assert.Equal(7, lines.Length);
            Assert.True(File.Exists(Path.Combine(dir, "summary.txt")));
            foreach (string png in new[] { "curves.png", "recall.png" })   // the task writes its figures too
                Assert.Equal((byte)'P', File.ReadAllBytes(Path.Combine(dir, png))[1]);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void Float64EngineRunsTheUnquantizedComparison()
    {
        string[] common = ["task", "store-recall", "--neurons", "30", "--steps", "40", "--rank", "10", "--epochs", "4", "--every", "1"];
        var ev = Sim([.. common]);
        var plain = Sim([.. common, "--engine", "float64"]);
        Assert.Equal(0, ev.Code);
        Assert.Equal(0, plain.Code);
        Assert.Contains("engine: event, unquantized float64", plain.Out);
        static string[] Curve(string text) => [.. text.Split('\n').Where(l => l.StartsWith("epoch ", StringComparison.Ordinal) && l.Contains("mse"))];
        Assert.Equal(4, Curve(ev.Out).Length);
        Assert.Equal(4, Curve(plain.Out).Length);
        Assert.Equal(2, Sim("task", "store-recall", "--engine", "float32").Code);
        Assert.Equal(2, Sim([.. common, "--engine", "float64-grid"]).Code);   // removed: the engines are the gridded run
    }

    /// <summary>
    /// Too large a learning rate drives a weight row beyond the grid's exact range: learning stops with that reason
    /// (exit 1), and the epochs completed before it are printed and written, not lost.
    /// </summary>
    [Fact]
    public void AWeightWriteBeyondTheExactRangeStopsLearningAndKeepsTheEpochsDone()
    {
        string dir = Path.Combine(Path.GetTempPath(), "sim-sr-fail-" + Guid.NewGuid().ToString("N"));
        try
        {
            var r = Sim("task", "store-recall", "--neurons", "30", "--steps", "40", "--rank", "30", "--epochs", "40", "--eta", "350", "-o", dir);
            Assert.Equal(1, r.Code);
            Assert.Contains("exact range", r.Err);
            Assert.Contains("learning stopped in epoch 16", r.Err);
            var lines = File.ReadAllLines(Path.Combine(dir, "store-recall.csv"));
            Assert.Equal(1 + 16, lines.Length);
            Assert.Contains("failure:", File.ReadAllText(Path.Combine(dir, "summary.txt")));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadArgumentsExitTwo()
    {
        Assert.Equal(2, Sim("task").Code);
        Assert.Equal(2, Sim("task", "walk").Code);
        Assert.Equal(2, Sim("task", "store-recall", "--rank", "1").Code);
        Assert.Equal(2, Sim("task", "store-recall", "--eta", "x").Code);
        Assert.Equal(2, Sim("task", "store-recall", "--eta", "1", "--eta-scaled", "1").Code);
        Assert.Equal(2, Sim("task", "store-recall", "--eta-per-norm", "1", "--eta-scaled", "1").Code);
        var help = Sim("task", "store-recall", "--help");
        Assert.Equal(0, help.Code);
        Assert.Contains("--tau-star", help.Out);
    }
    [Fact]
    public void AuthorsConventionsLagTheTeacherAndStartFromTheirRecurrentWeights()
    {
        var small = new StoreRecallOptions { Neurons = 50, Steps = 60, Rank = 50, Epochs = 3, Seed = 1 };
        var o = small.WithAuthorsConventions();
        Assert.True(o.HasAuthorsConventions);
        var task = new StoreRecall(o);
        // The lag: the teacher waveform of tick t is y*[t − 1], 0 at tick 0.
        Assert.Equal(0.0, task.TeacherScale(0, 0));
        for (int t = 1; t < o.Steps; t++)
            for (int k = 0; k < o.Outputs; k++) Assert.Equal(task.Target[t - 1][k], task.TeacherScale(t, k));
        Assert.Equal(task.Target[20][1], new StoreRecall(small).TeacherScale(20, 1));
        // The teacher run keeps the self-connections, the learning network drops them, with the same weights.
        var teacherNet = global::Sim.EventCore.Compilation.NetworkCompiler.Compile(task.BuildNetwork(task.TeacherWeights()));
        var learnNet = global::Sim.EventCore.Compilation.NetworkCompiler.Compile(task.BuildNetwork(null));
        int n = o.Neurons;
        Assert.Equal(n * n, teacherNet.TraceSynapses.Source.Length);
        Assert.Equal(n * (n - 1), learnNet.TraceSynapses.Source.Length);
        var w0 = task.InitialRecurrentWeights();
        Assert.InRange(global::Sim.Plasticity.Feedback.StandardDeviation(w0), 0.9, 1.1);
        var (engine, rule) = task.CreateLearner();
        using (engine)
        {
            var w = rule.Core.Weights;
            double scale = Math.ScaleB(1.0, o.RecurrentWeightFractionBits);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    Assert.Equal(i == j ? 0.0 : Math.Round(w0[i * n + j] * scale, MidpointRounding.ToEven) / scale, w[i * n + j]);
        }
        // Both conventions change the target spikes; the run is deterministic and learns.
        var plain = new StoreRecall(small).Run();
        var a = task.Run();
        var b = new StoreRecall(o).Run();
        Assert.Equal(a.Mse, b.Mse);
        Assert.NotEqual(plain.ReadoutLimit, a.ReadoutLimit);
        Assert.Throws<ArgumentException>(() => new StoreRecall(small with { InitialRecurrentSd = -1 }));
    }
}
