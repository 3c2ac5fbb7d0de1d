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
    /// <summary>Help text of <c>sim task</c>.</summary>
    public const string Help = """
        usage: sim task store-recall [options]
               sim task button-food [options]    (see sim task button-food --help)
               sim task rank-estimation [opts]   (see sim task rank-estimation --help)

        One cell of the store-and-recall task (Capone, Muratore & Paolucci 2022, Fig. 2): target spikes from a teacher
        drive, readout training (its MSE is the readout limit), then online rank-R / tau* learning of the recurrent
        weights. Prints the MSE and spike error dS every few epochs.

          --neurons N        recurrent neurons (default 150)
          --steps T          steps per trial, dt = 1 ms (default 150)
          --rank R           feedback rank, O <= R <= N (default N)
          --ltts             LTTS feedback D = mean(diag(B B^T)) I instead of rank R
          --output-space     output-space form of the rule (Eq. 8)
          --tau-star X       tau* in units of dt (default 4.64)
          --epochs E         learning epochs (default 1000)
          --seed S           seed of every random draw (default 1)
          --eta X            fixed learning rate (default 5/sqrt(N))
          --eta-scaled X     learning rate X*sqrt(N/R)
          --eta-per-norm X   learning rate X/||D||_2 (the same largest step for every feedback D)
          --per-trial        sum the rule's updates over each epoch and apply them at its end (default:
                             online, every step, as in the paper)
          --authors          the conventions of the authors' code (myscience/goal train.py): --teacher-lag and
                             --initial-rec-sd 1 (docs/tasks/store_recall.md, "Conventions")
          --teacher-lag      the teacher drive of tick t is W_teach y*[t-1]: its spikes are read out against the
                             next tick's target (the authors' one-step lag)
          --initial-rec-sd X initial W_rec ~ N(0, X^2) (the teacher run keeps the self-connections; default 0)
          --every K          print every K epochs (default E/20)
          --engine E         event (default, one thread), dense (TorchSharp, cpu) or dense-cuda; the curves are
                             the same bit for bit on every engine. float64: the unquantized comparison run on the
                             event engine (GoalLif without its trace grid, W_rec with the rule's float64 weights;
                             docs/models/goal_lif.md, "Grids")
          -o, --out DIR      also write DIR/store-recall.csv (epoch, mse, delta_s), DIR/summary.txt and the
                             figures DIR/curves.png (MSE and dS against epoch) and DIR/recall.png
          -h, --help         this text

        Ctrl-C stops after the current epoch; the epochs done so far are printed and written (exit 130; SIGTERM 143, SIGHUP 129).
        A weight write the grid cannot hold exactly (too large a learning rate) stops learning; the epochs completed
        before it are printed and written, with the reason (exit 1).
        Exit codes: 0 ok, 1 learning failed, 2 bad arguments, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.
        """;

    /// <summary>Parses <paramref name="args"/> (the words after <c>task</c>), runs, returns the exit code.</summary>
    public static int Execute(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0) throw new UsageException("sim task needs a task name: store-recall, button-food or rank-estimation");
        if (args[0] is "-h" or "--help") throw new HelpRequested(Help);
        if (args[0] == "button-food") return ButtonFoodCommand.ExecuteTask(args[1..], stdout, stderr);
        if (args[0] == "rank-estimation") return RankEstimationCommand.Execute(args[1..], stdout, stderr);
        if (args[0] != "store-recall") throw new UsageException($"unknown task '{args[0]}': expected store-recall, button-food or rank-estimation");
        var o = new StoreRecallOptions { Epochs = 1000 };
        int? rank = null, every = null;
        double? eta = null, etaScaled = null, etaPerNorm = null;
        string? outDir = null;
        string engine = "event";
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{a} needs a value");
            int Int() => int.TryParse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw new UsageException($"{a} needs an integer");
            switch (a)
            {
                case "-h" or "--help": throw new HelpRequested(Help);
                case "--neurons": o = o with { Neurons = Int() }; break;
                case "--steps": o = o with { Steps = Int() }; break;
                case "--rank": rank = Int(); break;
                case "--ltts": o = o with { Ltts = true }; break;
                case "--output-space": o = o with { OutputSpace = true }; break;
                case "--tau-star": o = o with { TauStarDt = OptionParsing.Positive(a, Next()) }; break;
                case "--epochs": o = o with { Epochs = Int() }; break;
                case "--seed":
                    o = o with { Seed = ulong.TryParse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong s) ? s : throw new UsageException("--seed needs a non-negative integer") };
                    break;
                case "--eta": eta = OptionParsing.Positive(a, Next()); break;
                case "--eta-scaled": etaScaled = OptionParsing.Positive(a, Next()); break;
                case "--eta-per-norm": etaPerNorm = OptionParsing.Positive(a, Next()); break;
                case "--per-trial": o = o with { PerTrial = true }; break;
                case "--authors": o = o.WithAuthorsConventions(); break;
                case "--teacher-lag": o = o with { TeacherLag = true }; break;
                case "--initial-rec-sd": o = o with { InitialRecurrentSd = OptionParsing.Positive(a, Next(), allowZero: true) }; break;
                case "--every": every = Int(); break;
                case "-o" or "--out": outDir = Next(); break;
                case "--engine":
                    engine = Next();
                    if (engine is not ("event" or "dense" or "dense-cuda" or "float64"))
                        throw new UsageException($"--engine must be event, dense, dense-cuda or float64, not '{engine}'");
                    break;
                default: throw new UsageException($"unknown option '{a}'");
            }
        }
        o = o with { Rank = rank ?? o.Neurons };
        if (new[] { eta, etaScaled, etaPerNorm }.Count(x => x is not null) > 1) throw new UsageException("--eta, --eta-scaled and --eta-per-norm exclude each other");
        try
        {
            if (eta is { } e) o = o with { LearningRate = LearningRate.Fixed(e) };
            if (etaPerNorm is { } en) o = o with { StepPerFeedbackNorm = en };
            if (etaScaled is { } es) o = o with { LearningRate = LearningRate.SqrtNOverR(es, o.Neurons, o.Ltts ? o.Neurons : o.Rank) };
            o.Validate();
        }
        catch (ArgumentException ex) { throw new UsageException(ex.Message); }
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
            var csv = new StringBuilder("epoch,mse,delta_s\n");
            for (int e = 0; e < result.Mse.Length; e++) csv.Append(CultureInfo.InvariantCulture, $"{e},{result.Mse[e]:R},{result.SpikeError[e]:R}\n");
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
