using System.Globalization;
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
    /// <summary>Help text of <c>sim task button-food</c>.</summary>
    public const string TaskHelp = """
        usage: sim task button-food [options]

        Button & Food (Capone, Muratore & Paolucci 2022, Fig. 3): an expert walks to a button, which unlocks the food,
        then to the food; a spiking network clones it from 5 demonstrations with the rank-R / tau* rule and then acts
        closed loop on 120 test angles. All ranks of a seed learn side by side as one batch.

          --ranks LIST       feedback ranks, e.g. 1,34,300 (default: the authors' linspace(1, N, 10))
          --neurons N        recurrent neurons (default 300)
          --tau-star X       tau* in ms (default 5)
          --epochs E         cloning epochs (default 250)
          --readout-epochs E readout epochs (default 250)
          --seed S           seed of every random draw (default 1)
          --feedback F       diagonal (default: D = I/R on the first R neurons, clamped to their target spikes)
                             or random (D = B^T B, B ~ N(0, 1/R) of R x N; implies --no-clamp)
          --no-clamp         do not clamp the learning neurons
          --no-hint          no phase hint in the target run
          --test-angles K    K test angles from 30 to 150 degrees (default 120)
          --engine E         event (default), dense or dense-cuda: the same results bit for bit
          --threads K        threads of the event engine (spread over the ranks; default 1; 0: one per core)
          --every K          print every K epochs (default E/10)
          -o, --out DIR      write DIR/scores.csv, DIR/curves.csv, DIR/summary.txt and the figures
                             (reward-per-angle.png, trajectories.png, reward-vs-rank.png)
          -h, --help         this text

        Ctrl-C stops after the current trial (exit 130; SIGTERM 143, SIGHUP 129; nothing is written for an unfinished run).
        Exit codes: 0 ok, 1 failed, 2 bad arguments, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.
        """;

    /// <summary>Help text of <c>sim sweep button-food</c>.</summary>
    public const string SweepHelp = """
        usage: sim sweep button-food [options]
               sim sweep button-food --merge DIR... [--out DIR]

        Button & Food over seeds 1..S: each seed is one 'sim task button-food' run (every rank as one batch), written to
        OUT/cells/seed-<s>.csv when it finishes. Run it again to resume (seeds on disk are skipped; cells made with other
        options are refused). With --shard i/n this process runs the seeds k with (k - 1) mod n = i; merge the shards'
        folders with --merge. When all seeds are done: OUT/results.csv, OUT/summary.txt (mean score per rank, mean and
        s.d. over seeds) and OUT/reward-vs-rank.png; each seed's own figures go to OUT/seed-<s>/.

          --seeds S            seeds 1..S (default 3)
          --shard i/n          run only shard i of n (0 <= i < n)
          --out DIR            output folder (default sweep-button-food)
          --merge DIR...       only gather the finished cells of these folders and report
          and every option of sim task button-food except --seed and -o (see sim task button-food --help)

        Ctrl-C abandons the running seed; finished seeds stay on disk (exit 130; SIGTERM 143, SIGHUP 129).
        Exit codes: 0 ok, 1 failed, 2 bad arguments or a cell of another configuration, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.
        """;

    /// <summary>Runs <c>sim sweep button-food</c> (args after the sweep name).</summary>
    public static int ExecuteSweep(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var p = new Parsed();
        int seeds = 3, shard = 0, shards = 1;
        string outDir = "sweep-button-food";
        List<string>? merge = null;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            switch (a)
            {
                case "-h" or "--help": throw new HelpRequested(SweepHelp);
                case "--seed": throw new UsageException("option --seed: the sweep runs seeds 1..S; give --seeds S");
                case "--seeds":
                    seeds = OptionParsing.NonNegativeInt(a, OptionParsing.Next(args, ref i));
                    if (seeds < 1) throw new UsageException("option --seeds: needs at least 1");
                    break;
                case "--shard":
                    {
                        string v = OptionParsing.Next(args, ref i);
                        var parts = v.Split('/');
                        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out shard)
                            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out shards) || shards < 1 || shard >= shards)
                            throw new UsageException($"option --shard: '{v}' is not i/n with 0 <= i < n");
                        break;
                    }
                case "-o" or "--out": outDir = OptionParsing.Next(args, ref i); break;
                case "--merge":
                    merge = [];
                    while (i + 1 < args.Length && !args[i + 1].StartsWith('-')) merge.Add(args[++i]);
                    if (merge.Count == 0) throw new UsageException("option --merge: needs at least one folder");
                    break;
                default:
                    if (!p.Take(args, ref i)) throw new UsageException($"unknown option '{a}' (see sim sweep button-food --help)");
                    break;
            }
        }
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

    /// <summary>Options shared by the task and the sweep, parsed from one argument.</summary>
    internal sealed class Parsed
    {
        public ButtonFoodOptions Options = new();
        public int[]? Ranks;
        public string Engine = "event";
        public int Threads = 1;
        public int? Every;
        public string? Out;

        /// <summary>Parses args[i] (and its value); false when it is not one of the shared options.</summary>
        public bool Take(string[] args, ref int i)
        {
            string a = args[i];
            int j = i;
            string Next() => OptionParsing.Next(args, ref j);
            int Int() => OptionParsing.NonNegativeInt(a, Next());
            switch (a)
            {
                case "--ranks":
                    Ranks = [.. Next().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                        .Select(x => int.TryParse(x, NumberStyles.None, CultureInfo.InvariantCulture, out int r) && r > 0 ? r : throw new UsageException($"option --ranks: '{x}' is not a positive integer"))];
                    if (Ranks.Length == 0) throw new UsageException("option --ranks: give a comma-separated list, e.g. 1,34,300");
                    if (Ranks.Distinct().Count() != Ranks.Length) throw new UsageException("option --ranks: a rank is repeated");
                    break;
                case "--neurons": Options = Options with { Neurons = Int() }; break;
                case "--tau-star": Options = Options with { TauStarMs = OptionParsing.Positive(a, Next()) }; break;
                case "--epochs": Options = Options with { Epochs = Int() }; break;
                case "--readout-epochs": Options = Options with { ReadoutEpochs = Int() }; break;
                case "--seed":
                    Options = Options with { Seed = ulong.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong s) ? s : throw new UsageException("option --seed: needs a non-negative integer") };
                    break;
                case "--feedback":
                    string f = Next();
                    Options = f switch
                    {
                        "diagonal" => Options with { Feedback = CloningFeedback.Diagonal },
                        "random" => Options with { Feedback = CloningFeedback.Random, Clamp = false },
                        _ => throw new UsageException($"option --feedback: '{f}' is not diagonal or random"),
                    };
                    break;
                case "--no-clamp": Options = Options with { Clamp = false }; break;
                case "--no-hint": Options = Options with { Hint = false }; break;
                case "--test-angles":
                    int k = Int();
                    if (k < 1) throw new UsageException("option --test-angles: needs at least 1");
                    Options = Options with { TestAnglesDeg = ButtonFoodOptions.Linspace(30, 150, k) };
                    break;
                case "--engine":
                    Engine = Next();
                    if (Engine is not ("event" or "dense" or "dense-cuda")) throw new UsageException($"option --engine: must be event, dense or dense-cuda, not '{Engine}'");
                    break;
                case "--threads":
                    Threads = Int();
                    if (Threads < 0) throw new UsageException("option --threads: must be ≥ 0 (0: one per core)");
                    Threads = OptionParsing.Threads(Threads);
                    break;
                case "--every": Every = Int(); break;
                case "-o" or "--out": Out = Next(); break;
                default: return false;
            }
            i = j;
            return true;
        }

        public int[] RanksOrDefault() => Ranks ?? ButtonFoodOptions.DefaultRanks(Options.Neurons);

        public void Validate()
        {
            try
            {
                Options.Validate();
                foreach (int r in RanksOrDefault()) Options.ValidateRank(r);
            }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
        }
    }

    /// <summary>Runs <c>sim task button-food</c> (args after the task name).</summary>
    public static int ExecuteTask(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var p = new Parsed();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "-h" or "--help") throw new HelpRequested(TaskHelp);
            if (!p.Take(args, ref i)) throw new UsageException($"unknown option '{args[i]}' (see sim task button-food --help)");
        }
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
