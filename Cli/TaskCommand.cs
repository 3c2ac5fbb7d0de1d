using System.CommandLine;
using Sim.Cli.Commands;
using System.Globalization;
using System.Text;
using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;
using Sim.Experiments;
using Sim.Plasticity;

namespace Sim.Cli;

/// <summary>
/// <c>sim task store-recall</c>: one cell of the store-and-recall task (Capone, Muratore &amp; Paolucci 2022, Fig. 2;
/// docs/tasks/store_recall.md) with the rank-R / τ⋆ rule (<see cref="StoreRecall"/>) on the CPU event engine or, with
/// <c>--engine dense | dense-cuda</c>, on the dense TorchSharp engine (the same curves bit for bit), or with
/// <c>--engine float64</c> as the unquantized comparison run on the event engine.
/// </summary>
public static class TaskCommand
{
    /// <summary>What <c>sim task store-recall --help</c> prints after the options.</summary>
    private const string Epilog = """
        With --out: DIR/store-recall.csv (epoch, mse, delta_s, eta), DIR/summary.txt and the figures DIR/curves.png (MSE and
        dS against epoch) and DIR/recall.png.
        Ctrl-C stops after the current epoch; the epochs done so far are printed and written (exit 130; SIGTERM 143,
        SIGHUP 129). A weight write the grid cannot hold exactly (too large a learning rate) stops learning; the epochs
        completed before it are printed and written, with the reason (exit 1).
        Exit codes: 0 ok, 1 learning failed, 2 bad arguments, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.
        """;

    /// <summary>The definition of <c>sim task</c> and its tasks.</summary>
    internal static Command Build(CliIO io)
    {
        var task = new SimCommand("task", "Run one task of the seed papers with its learning rule: store-recall, button-food, rank-estimation, volatility, perturbation, stdp, bipedal-expert, bipedal, ebn, rflo.");
        task.Add(BuildStoreRecall(io));
        task.Add(ButtonFoodCommand.BuildTask(io));
        task.Add(RankEstimationCommand.Build(io));
        task.Add(VolatilityCommand.Build(io));
        task.Add(PerturbationCommand.Build(io));
        task.Add(StdpCommand.Build(io));
        task.Add(BipedalCommand.Build(io));
        task.Add(BipedalCloningCommand.Build(io));
        task.Add(EbnCommand.Build(io));
        task.Add(RfloCommand.Build(io));
        return task;
    }

    private static Command BuildStoreRecall(CliIO io)
    {
        var common = new StoreRecallOptionSet(epochsDefault: 1000, epochsMin: 0);
        var rank = SimOptions.OptionalInt("--rank", "feedback rank R, O ≤ R ≤ N (default N)", 1, "R");
        var ltts = SimOptions.Flag("--ltts", "LTTS feedback D = mean(diag(B B^T)) I instead of rank R");
        var outputSpace = SimOptions.Flag("--output-space", "output-space form of the rule (Eq. 8)");
        var tauStar = SimOptions.TauStar(4.64);
        var seed = SimOptions.Seed("seed of every random draw (default 1)");
        var eta = SimOptions.OptionalPositive("--eta", "fixed learning rate (default 5/sqrt(N))", "X");
        var every = SimOptions.Every("E/20");
        var controller = SimOptions.Make<Sim.Plasticity.Controllers.EtaControllerKind?>("--eta-controller",
            "vkf or pf: the epoch's eta from a learning-rate controller that observes the epoch's MSE relative to the first (the volatile Kalman filter, or the volatility/stochasticity particle filter; docs/rules/controllers.md), eta_e = 2 eta_0 k_e with eta_0 the rate of --eta/--eta-scaled/--eta-per-norm or 5/sqrt(N); default: a fixed eta",
            "vkf|pf", s => s switch
            {
                "vkf" => (Sim.Plasticity.Controllers.EtaControllerKind.Vkf, null),
                "pf" => (Sim.Plasticity.Controllers.EtaControllerKind.ParticleFilter, null),
                _ => (null, "is not one of vkf, pf"),
            });
        var engine = SimOptions.Engine("event (one thread), dense (TorchSharp, cpu) or dense-cuda: the curves are the same bit for bit on every engine; float64: the unquantized comparison run on the event engine (GoalLif without its trace grid, W_rec with the rule's float64 weights; docs/models/goal_lif.md, \"Grids\")",
            "event", "dense", "dense-cuda", "float64");
        var outDir = SimOptions.Out("also write the CSV, the summary and the figures into DIR");
        var cmd = new SimCommand("store-recall", "One cell of the store-and-recall task (Capone, Muratore & Paolucci 2022, Fig. 2; docs/tasks/store_recall.md): target spikes from a teacher drive, readout training (its MSE is the readout limit), then online rank-R / tau* learning of the recurrent weights. Prints the MSE and spike error dS every few epochs.", Epilog);
        common.AddTo(cmd);
        foreach (var o in new Option[] { rank, ltts, outputSpace, tauStar, seed, eta, every, controller, engine, outDir }) cmd.Add(o);
        SimOptions.Exclusive(cmd, ltts, rank);
        SimOptions.Exclusive(cmd, ltts, outputSpace);
        SimOptions.Exclusive(cmd, eta, common.EtaScaled, common.EtaPerNorm);
        return cmd.Does(r =>
        {
            var o = common.Apply(new StoreRecallOptions { Epochs = 1000 }, r) with
            {
                Ltts = r.GetValue(ltts),
                OutputSpace = r.GetValue(outputSpace),
                TauStarDt = r.GetValue(tauStar),
                EtaController = r.GetValue(controller),
            };
            if (r.GetValue(seed) is { } s) o = o with { Seed = s };
            return Execute(o, r.GetValue(rank), r.GetValue(eta), r.GetValue(common.EtaScaled), r.GetValue(common.EtaPerNorm), r.GetValue(every),
                r.GetValue(engine)!, r.GetValue(outDir), io.Out, io.Err);
        });
    }

    /// <summary>Runs one cell with options <paramref name="o"/> (rank and learning rate still to apply); returns the exit code.</summary>
    public static int Execute(StoreRecallOptions o, int? rank, double? eta, double? etaScaled, double? etaPerNorm, int? every, string engine, string? outDir,
        TextWriter stdout, TextWriter stderr)
    {
        o = o with { Rank = rank ?? o.Neurons };
        try
        {
            if (eta is { } e) o = o with { LearningRate = LearningRate.Fixed(e) };
            if (etaPerNorm is { } en) o = o with { StepPerFeedbackNorm = en };
            if (etaScaled is { } es) o = o with { LearningRate = LearningRate.SqrtNOverR(es, o.Neurons, o.Ltts ? o.Neurons : o.Rank) };
            o.Validate();
        }
        catch (ArgumentException ex) { throw StoreRecallOptionSet.Usage(ex); }
        int k = Math.Max(1, every ?? o.Epochs / 20);
        if (outDir is not null) OutputFolder.EnsureWritable(outDir, "--out");

        using var cts = new Interruption();   // Ctrl-C, SIGTERM, SIGHUP
        StoreRecallResult result;
        double[][] target;
        {
            if (engine == "float64") o = o with { Unquantized = true };
            var factory = EngineFactory.GridFactory(engine == "float64" ? "event" : engine, new EngineSettings { Threads = 1 });
            var task = new StoreRecall(o, factory);
            target = task.Target;
            stdout.WriteLine(FormattableString.Invariant($"store-recall: N = {o.Neurons}, T = {o.Steps}, {(o.Ltts ? "LTTS" : $"R = {o.Rank}")}{(o.OutputSpace ? " (output space)" : "")}, tau* = {o.TauStarDt} dt, {o.Epochs} epochs, seed {o.Seed}, conventions: {o.ConventionsName}"));
            void Progress(int epoch, double mse, double ds)
            {
                if (epoch % k == 0 || epoch == o.Epochs - 1)
                    stdout.WriteLine(FormattableString.Invariant($"epoch {epoch,6}: mse {mse:G4}, dS {ds:F0}"));
            }
            result = task.Run(Progress, cts.Token);
        }

        bool interrupted = result.Failure is null && result.Mse.Length < o.Epochs;
        var summary = new StringBuilder();
        summary.AppendLine(FormattableString.Invariant($"readout limit (MSE): {result.ReadoutLimit:G6}"));
        summary.AppendLine(FormattableString.Invariant($"target spikes: {result.TargetSpikes}"));
        summary.AppendLine($"conventions: {o.ConventionsName}");
        summary.AppendLine(FormattableString.Invariant($"feedback: {result.Feedback} (||D||_2 = {result.FeedbackNorm:G4}, tr D = {result.FeedbackTrace:G4})"));
        summary.AppendLine(FormattableString.Invariant($"optimizer: {result.Optimizer}"));
        if (o.EtaController is not null && result.EtaPerEpoch.Length > 0)
            summary.AppendLine(FormattableString.Invariant($"eta per epoch: first {result.EtaPerEpoch[0]:G4}, last {result.EtaPerEpoch[^1]:G4}, min {result.EtaPerEpoch.Min():G4}, max {result.EtaPerEpoch.Max():G4}, mean {result.EtaPerEpoch.Average():G4}"));
        summary.AppendLine(o.PerTrial ? "updates: per trial (summed over each epoch, applied at its end)" : "updates: online (every step)");
        summary.AppendLine($"engine: {result.Engine}");
        summary.AppendLine(FormattableString.Invariant($"epochs: {result.Mse.Length}{(interrupted ? " (interrupted)" : result.Failure is not null ? " (failed)" : "")}, {result.SecondsPerEpoch * 1000:F2} ms per epoch"));
        if (result.Failure is not null) summary.AppendLine($"failure: {result.Failure}");
        if (result.Mse.Length > 0)
            summary.AppendLine(FormattableString.Invariant($"final: mse {result.Mse[^1]:G6}, dS {result.SpikeError[^1]:F0}"));
        stdout.Write(summary.ToString());
        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            var csv = new StringBuilder("epoch,mse,delta_s,eta\n");
            for (int e = 0; e < result.Mse.Length; e++) csv.Append(CultureInfo.InvariantCulture, $"{e},{result.Mse[e]:R},{result.SpikeError[e]:R},{result.EtaPerEpoch[e]:R}\n");
            File.WriteAllText(Path.Combine(outDir, "store-recall.csv"), csv.ToString());
            File.WriteAllText(Path.Combine(outDir, "summary.txt"), summary.ToString());
            stdout.WriteLine($"wrote {Path.Combine(outDir, "store-recall.csv")}");
            if (result.Mse.Length > 0 && result.Failure is null)
            {
                // The figures of the sweep for this one cell: MSE and dS against epoch, and the recalled trajectory.
                var cell = StoreRecallSweep.Summarise(o, result, target, o.Ltts ? "ltts" : o.Rank.ToString(CultureInfo.InvariantCulture));
                stdout.WriteLine($"wrote {StoreRecallSweepPlots.Curves([cell], Path.Combine(outDir, "curves.png"))}");
                if (cell.FinalOutput.Length > 0)
                    stdout.WriteLine($"wrote {StoreRecallSweepPlots.Recall([cell], StoreRecallSweep.MeanOverSeeds([cell]), Path.Combine(outDir, "recall.png"))}");
            }
        }
        if (result.Failure is not null)
        {
            stderr.WriteLine($"sim: {result.Failure}");
            return ExitCodes.Failure;
        }
        return interrupted ? cts.ExitCode : ExitCodes.Ok;
    }
}
