using System.CommandLine;
using System.Globalization;
using Sim.Cli.Commands;
using System.Text;
using Sim.EventCore.Engine;
using Sim.Experiments;

namespace Sim.Cli;

/// <summary>
/// <c>sim task button-food</c> and <c>sim sweep button-food</c>: closed-loop behavioural cloning of the Button &amp; Food
/// task (Capone, Muratore &amp; Paolucci 2022, Fig. 3; docs/tasks/button_food.md) with the rank-R / τ⋆ rule.
/// </summary>
public static class ButtonFoodCommand
{
    /// <summary>The definition of <c>sim task button-food</c>.</summary>
    internal static Command BuildTask(CliIO io)
    {
        var set = new OptionSet();
        var seed = SimOptions.Seed("seed of every random draw (default 1)");
        var outDir = SimOptions.Out("write DIR/scores.csv, DIR/curves.csv, DIR/summary.txt and the figures (reward-per-angle.png, trajectories.png, reward-vs-rank.png)");
        var cmd = new SimCommand("button-food", "Button & Food (Capone, Muratore & Paolucci 2022, Fig. 3; docs/tasks/button_food.md): an expert walks to a button, which unlocks the food, then to the food; a spiking network clones it from 5 demonstrations with the rank-R / tau* rule and then acts closed loop on the test angles. All ranks of a seed learn side by side as one batch.", """
            Ctrl-C stops after the current trial (exit 130; SIGTERM 143, SIGHUP 129; nothing is written for an unfinished run).
            Exit codes: 0 ok, 1 failed, 2 bad arguments, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.
            """);
        set.AddTo(cmd);
        cmd.Add(seed);
        cmd.Add(outDir);
        return cmd.Does(r =>
        {
            var p = set.Read(r);
            if (r.GetValue(seed) is { } s) p.Options = p.Options with { Seed = s };
            p.Out = r.GetValue(outDir);
            return ExecuteTask(p, io.Out, io.Err);
        });
    }

    /// <summary>The definition of <c>sim sweep button-food</c>.</summary>
    internal static Command BuildSweep(CliIO io)
    {
        var set = new OptionSet();
        var seeds = SimOptions.Seeds(3);
        var shard = SimOptions.Shard("seeds k with (k - 1) mod n = i, i.e. the seeds");
        var outDir = SimOptions.Out("output folder (default sweep-button-food)");
        var merge = SimOptions.Merge();
        var seed = SimOptions.Seed("refused: the sweep runs seeds 1..S; give --seeds S");
        seed.Hidden = true;
        seed.Validators.Add(r => r.AddError("option --seed: the sweep runs seeds 1..S; give --seeds S"));
        var cmd = new SimCommand("button-food", "Button & Food over seeds 1..S: each seed is one 'sim task button-food' run (every rank as one batch), written to OUT/cells/seed-<s>.csv when it finishes.", """
            Run it again to resume (seeds on disk are skipped; cells made with other options are refused). With --shard i/n
            this process runs the seeds k with (k - 1) mod n = i; merge the shards' folders with --merge. When all seeds
            are done: OUT/results.csv, OUT/summary.txt (mean score per rank, mean and s.d. over seeds) and
            OUT/reward-vs-rank.png; each seed's own figures go to OUT/seed-<s>/.
            Ctrl-C abandons the running seed; finished seeds stay on disk (exit 130; SIGTERM 143, SIGHUP 129).
            Exit codes: 0 ok, 1 failed, 2 bad arguments or a cell of another configuration, 130/143/129 interrupted.
            """);
        set.AddTo(cmd);
        foreach (var o in new Option[] { seeds, shard, outDir, merge, seed }) cmd.Add(o);
        SimOptions.Without(cmd, merge, "runs nothing", [.. set.All, seeds, shard]);
        return cmd.Does(r => ExecuteSweep(set.Read(r), r.GetValue(seeds), r.GetValue(shard).Index, r.GetValue(shard).Count,
            r.GetValue(outDir) ?? "sweep-button-food", r.Given(merge) ? [.. r.GetValue(merge)!] : null, io.Out, io.Err));
    }

    /// <summary>Runs <c>sim sweep button-food</c> (or with <paramref name="merge"/> only merges); returns the exit code.</summary>
    internal static int ExecuteSweep(Parsed p, int seeds, int shard, int shards, string outDir, List<string>? merge, TextWriter stdout, TextWriter stderr)
    {
        if (merge is not null) OutputFolder.EnsureSweepFolders(merge);
        OutputFolder.EnsureWritable(outDir, "--out");
        try
        {
            if (merge is not null)
            {
                var merged = ButtonFoodSweep.Merge(merge);
                if (merged.Count == 0) { stderr.WriteLine("sim: no finished seeds in these folders"); return ExitCodes.Failure; }
                foreach (var f in ButtonFoodSweep.Report(merged, outDir)) stdout.WriteLine($"wrote {f}");
                stdout.Write(File.ReadAllText(Path.Combine(outDir, "summary.txt")));
                return ExitCodes.Ok;
            }
            p.Validate();
            var ranks = p.RanksOrDefault();
            stdout.WriteLine($"sweep button-food: seeds 1..{seeds}, shard {shard}/{shards}; {ButtonFoodPlots.Describe(p.Options)}, ranks {string.Join(",", ranks)}, engine {p.Engine}, {p.Threads} threads -> {outDir}");
            using var cts = new Interruption();   // Ctrl-C, SIGTERM, SIGHUP
            try
            {
                ButtonFoodSweep.Run(p.Options, ranks, seeds, shard, shards, outDir, o =>
                {
                    stdout.WriteLine($"seed {o.Seed}:");
                    var q = new Parsed { Options = o, Ranks = ranks, Engine = p.Engine, Threads = p.Threads, Every = p.Every ?? Math.Max(1, o.Epochs / 5) };
                    return Run(q, ranks, stdout, cts.Token);
                }, r =>
                {
                    string summary = Summary(r);
                    stdout.Write(summary);
                    Write(r, summary, Path.Combine(outDir, $"seed-{r.Options.Seed}"));
                }, cts.Token);
            }
            catch (OperationCanceledException)
            {
                stdout.WriteLine("interrupted; finished seeds are kept, run again to resume");
                return cts.ExitCode;
            }
            var cells = ButtonFoodSweep.Merge([outDir]);
            if (cells.Count < seeds)
            {
                stdout.WriteLine(shards > 1 ? "shard done; when all shards are done: sim sweep button-food --merge DIR... --out DIR" : "not all seeds are done yet; run again to resume");
                return ExitCodes.Ok;
            }
            foreach (var f in ButtonFoodSweep.Report(cells, outDir)) stdout.WriteLine($"wrote {f}");
            stdout.Write(File.ReadAllText(Path.Combine(outDir, "summary.txt")));
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is InvalidDataException or DirectoryNotFoundException)
        {
            stderr.WriteLine($"sim: {e.Message}");
            return ExitCodes.Usage;
        }
    }

    /// <summary>The values of the options shared by the task and the sweep.</summary>
    internal sealed class Parsed
    {
        public ButtonFoodOptions Options = new();
        public int[]? Ranks;
        public string Engine = "event";
        public int Threads = 1;
        public int? Every;
        public string? Out;

        public int[] RanksOrDefault() => Ranks ?? ButtonFoodOptions.DefaultRanks(Options.Neurons);

        public void Validate()
        {
            try
            {
                Options.Validate();
                foreach (int r in RanksOrDefault()) Options.ValidateRank(r);
            }
            catch (ArgumentException e)
            {
                // "rank: must lie in [1, 300] (N), got 400" names the option the user typed.
                string m = e.Message;
                int colon = m.IndexOf(':');
                string? option = colon < 0 ? null : m[..colon] switch
                {
                    "rank" => "--ranks", "neurons" => "--neurons", "tau-star" => "--tau-star", "epochs" => "--epochs", "clamp" => "--no-clamp", _ => null,
                };
                throw new UsageException(option is null ? m : $"option {option}:{m[(colon + 1)..]}");
            }
        }
    }

    /// <summary>The options the task and the sweep share: one definition for both.</summary>
    internal sealed class OptionSet
    {
        private readonly Option<int[]> _ranks = SimOptions.IntList("--ranks", "feedback ranks, e.g. 1,34,300 (default: the authors' linspace(1, N, 10))", 1);
        private readonly Option<int> _neurons = SimOptions.Neurons(300);
        private readonly Option<double> _tauStar = SimOptions.TauStar(5);
        private readonly Option<int> _epochs = SimOptions.Epochs("cloning epochs", 250);
        private readonly Option<int> _readoutEpochs = SimOptions.Int("--readout-epochs", "readout epochs (default 250)", 0, 250, "E");
        private readonly Option<string> _feedback = SimOptions.Choice("--feedback", "diagonal: D = I/R on the first R neurons, clamped to their target spikes; random: D = B^T B, B ~ N(0, 1/R) of R x N (implies --no-clamp)", "diagonal", "diagonal", "random");
        private readonly Option<bool> _noClamp = SimOptions.Flag("--no-clamp", "do not clamp the learning neurons");
        private readonly Option<bool> _noHint = SimOptions.Flag("--no-hint", "no phase hint in the target run");
        private readonly Option<int> _testAngles = SimOptions.Int("--test-angles", "K test angles from 30 to 150 degrees (default 120)", 1, 120, "K");
        private readonly Option<string> _engine = SimOptions.Engine("event, dense or dense-cuda: the same results bit for bit", "event", "dense", "dense-cuda");
        private readonly Option<int> _threads = SimOptions.Threads("threads of the event engine, spread over the ranks", 1);
        private readonly Option<int?> _every = SimOptions.Every("E/10");

        /// <summary>Every shared option.</summary>
        public Option[] All => [_ranks, _neurons, _tauStar, _epochs, _readoutEpochs, _feedback, _noClamp, _noHint, _testAngles, _engine, _threads, _every];

        public void AddTo(Command command)
        {
            foreach (var o in All) command.Add(o);
        }

        public Parsed Read(ParseResult r)
        {
            var o = new ButtonFoodOptions() with
            {
                Neurons = r.GetValue(_neurons),
                TauStarMs = r.GetValue(_tauStar),
                Epochs = r.GetValue(_epochs),
                ReadoutEpochs = r.GetValue(_readoutEpochs),
                Hint = !r.GetValue(_noHint),
            };
            if (r.Given(_testAngles)) o = o with { TestAnglesDeg = ButtonFoodOptions.Linspace(30, 150, r.GetValue(_testAngles)) };
            o = r.GetValue(_feedback) == "random" ? o with { Feedback = CloningFeedback.Random, Clamp = false } : o with { Feedback = CloningFeedback.Diagonal };
            if (r.GetValue(_noClamp)) o = o with { Clamp = false };
            return new Parsed
            {
                Options = o,
                Ranks = r.GivenValue(_ranks),
                Engine = r.GetValue(_engine)!,
                Threads = SimOptions.ThreadCount(r.GetValue(_threads)),
                Every = r.GetValue(_every),
            };
        }
    }

    /// <summary>Runs <c>sim task button-food</c>; returns the exit code.</summary>
    internal static int ExecuteTask(Parsed p, TextWriter stdout, TextWriter stderr)
    {
        p.Validate();
        var o = p.Options;
        var ranks = p.RanksOrDefault();
        if (p.Out is { } outDir) OutputFolder.EnsureWritable(outDir, "--out");
        stdout.WriteLine($"button-food: {ButtonFoodPlots.Describe(o)}, ranks {string.Join(",", ranks)}, seed {o.Seed}, engine {p.Engine}");
        using var cts = new Interruption();   // Ctrl-C, SIGTERM, SIGHUP
        ButtonFoodResult result;
        try { result = Run(p, ranks, stdout, cts.Token); }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("sim: interrupted");
            return cts.ExitCode;
        }
        var summary = Summary(result);
        stdout.Write(summary);
        if (p.Out is { } dir) foreach (var f in Write(result, summary, dir)) stdout.WriteLine($"wrote {f}");
        return ExitCodes.Ok;
    }

    internal static ButtonFoodResult Run(Parsed p, int[] ranks, TextWriter stdout, CancellationToken ct)
    {
        var o = p.Options;
        int every = Math.Max(1, p.Every ?? o.Epochs / 10);
        var factory = EngineFactory.GridFactory(p.Engine, new EngineSettings { Threads = p.Threads });
        var task = new ButtonFood(o, factory);
        var line = new double[ranks.Length];
        void Progress(int epoch, int k, double ds)
        {
            line[k] = ds;
            if (k == ranks.Length - 1 && (epoch % every == 0 || epoch == o.Epochs - 1))
                stdout.WriteLine(FormattableString.Invariant($"epoch {epoch,5}: dS {string.Join(" ", line.Select(x => x.ToString("F0", CultureInfo.InvariantCulture)))}"));
        }
        return task.Run(ranks, Progress, ct);
    }

    /// <summary>The summary table: one row per rank.</summary>
    public static string Summary(ButtonFoodResult r)
    {
        var s = new StringBuilder();
        s.AppendLine(FormattableString.Invariant($"expert: mean score {r.ExpertMeanScore:F2} over {r.ExpertScores.Length} test angles (min {r.ExpertScores.Min():F2}); training angles {string.Join(" ", r.ExpertTrainingScores.Select(x => x.ToString("F2", CultureInfo.InvariantCulture)))}"));
        s.AppendLine($"engine: {r.Engine}; optimizer: {r.Optimizer}");
        s.AppendLine(FormattableString.Invariant($"cloning: {r.SecondsPerEpoch * 1000:F0} ms per epoch (all ranks)"));
        s.AppendLine("  rank   mean score   sd(angles)   reached   dS first -> last (clamped)   dS free   readout mse");
        foreach (var k in r.Ranks)
        {
            int reached = k.Scores.Count(x => x >= 1 / r.Options.Geometry.TargetReach);
            s.AppendLine(FormattableString.Invariant(
                $"  {k.Rank,4}   {k.MeanScore,10:F3}   {Statistics.SampleSd(k.Scores),10:F3}   {reached,3}/{k.Scores.Length,-3}   {(k.DeltaS.Length > 0 ? k.DeltaS[0] : double.NaN),8:F0} -> {(k.DeltaS.Length > 0 ? k.DeltaS[^1] : double.NaN),-8:F0}          {k.FreeDeltaS,7:F0}   {k.ReadoutMse,10:G4}"));
        }
        return s.ToString();
    }

    /// <summary>Writes the CSVs, the summary and the figures of one run into <paramref name="dir"/>.</summary>
    public static IReadOnlyList<string> Write(ButtonFoodResult r, string summary, string dir)
    {
        Directory.CreateDirectory(dir);
        var scores = new StringBuilder("seed,rank,angle_deg,score\n");
        for (int a = 0; a < r.ExpertScores.Length; a++)
            scores.Append(CultureInfo.InvariantCulture, $"{r.Options.Seed},expert,{r.Options.TestAnglesDeg[a]:R},{r.ExpertScores[a]:R}\n");
        foreach (var k in r.Ranks)
            for (int a = 0; a < k.Scores.Length; a++)
                scores.Append(CultureInfo.InvariantCulture, $"{r.Options.Seed},{k.Rank},{r.Options.TestAnglesDeg[a]:R},{k.Scores[a]:R}\n");
        var curves = new StringBuilder("seed,rank,epoch,delta_s\n");
        foreach (var k in r.Ranks)
            for (int e = 0; e < k.DeltaS.Length; e++) curves.Append(CultureInfo.InvariantCulture, $"{r.Options.Seed},{k.Rank},{e},{k.DeltaS[e]:R}\n");
        var files = new List<string> { Path.Combine(dir, "scores.csv"), Path.Combine(dir, "curves.csv"), Path.Combine(dir, "summary.txt") };
        File.WriteAllText(files[0], scores.ToString());
        File.WriteAllText(files[1], curves.ToString());
        File.WriteAllText(files[2], summary);
        files.Add(ButtonFoodPlots.RewardPerAngle(r, Path.Combine(dir, "reward-per-angle.png")));
        files.Add(ButtonFoodPlots.Trajectories(r, Path.Combine(dir, "trajectories.png")));
        files.Add(ButtonFoodPlots.RewardVsRank([.. r.Ranks.Select(k => (r.Options.Seed, k.Rank, k.MeanScore))], r.ExpertMeanScore,
            $"Button & Food: mean score vs R (seed {r.Options.Seed}; {ButtonFoodPlots.Describe(r.Options)})", Path.Combine(dir, "reward-vs-rank.png")));
        return files;
    }
}
