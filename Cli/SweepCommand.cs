using System.Diagnostics;
using System.Globalization;
using Sim.Experiments;

namespace Sim.Cli;

/// <summary>
/// <c>sim sweep store-recall</c>: the (R, τ⋆) grid of the store-and-recall task (Capone et al. 2022, Fig. 2 D–F;
/// docs/tasks/store_recall.md), resumable and shardable (<see cref="StoreRecallSweep"/>), with results.csv and PNG figures.
/// </summary>
public static class SweepCommand
{
    /// <summary>Help text of <c>sim sweep</c>.</summary>
    public const string Help = """
        usage: sim sweep store-recall [options]
               sim sweep button-food [options]     (see sim sweep button-food --help)
               sim sweep store-recall --merge DIR... [--out DIR]

        The (R, tau*) grid of the store-and-recall task (Capone, Muratore & Paolucci 2022, Fig. 2 D-F). Each cell
        (R or LTTS, tau*, seed) is one 'sim task store-recall' run, written to OUT/cells/<key>.json when it finishes.
        A restarted sweep skips finished cells; shards split the cells by index in a fixed order, and results do not
        depend on sharding or threads. When every cell of the grid is in OUT, OUT/results.csv and the figures
        (heatmap-mse.png, heatmap-delta-s.png, heatmap-tconv.png, curves.png, recall.png) are written.

          --epochs E           epochs per cell (default 100)
          --seeds S            seeds 1..S per cell (default 1)
          --r-values LIST      comma-separated R values and/or 'ltts'
                               (default 3,19,35,52,68,84,101,117,133,150,ltts)
          --tau-values LIST    comma-separated tau*/dt values (default logspace(0, 2, 10))
          --n N                neurons (default 150)
          --t T                steps per trial (default 150)
          --eta-scaled X       learning rate X*sqrt(N/R) (default 5/sqrt(N) for every R)
          --eta-per-norm X     learning rate X/||D||_2: the same largest step for every feedback D
          --per-trial          sum each cell's updates over an epoch, apply them at its end (default: online)
          --authors            every cell with the authors' conventions (--teacher-lag, --initial-rec-sd 1)
          --teacher-lag        the teacher drive of tick t is W_teach y*[t-1] (docs/tasks/store_recall.md)
          --initial-rec-sd X   initial W_rec ~ N(0, X^2) (default 0)
          --shard i/n          run only the cells with index % n == i
          --threads T          cells run in parallel (default 1; 0: one per core, as in sim run)
          --max-cells K        stop after computing K cells in this run (resume later)
          --out DIR            output folder (default sweep-store-recall)
          --merge DIR...       merge the cells of these folders into OUT/results.csv and the figures, run nothing
          --no-plot            no figures
          --no-progress        no progress line
          -h, --help           this text

        Ctrl-C stops after the running cells are abandoned; finished cells stay on disk (exit 130; SIGTERM 143, SIGHUP 129).
        """;

    /// <summary>Parses <paramref name="args"/> (the words after <c>sweep</c>), runs, returns the exit code.</summary>
    public static int Execute(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0) throw new UsageException("sim sweep needs a sweep name: store-recall or button-food");
        if (args[0] is "-h" or "--help") throw new HelpRequested(Help);
        if (args[0] == "button-food") return ButtonFoodCommand.ExecuteSweep(args[1..], stdout, stderr);
        if (args[0] != "store-recall") throw new UsageException($"unknown sweep '{args[0]}': expected store-recall or button-food");
        var o = new StoreRecallSweepOptions();
        string outDir = "sweep-store-recall";
        List<string>? merge = null;
        bool plot = true, showProgress = true;
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => OptionParsing.Next(args, ref i);
            int Int(int min)
            {
                int v = OptionParsing.NonNegativeInt(a, Next());
                return v >= min ? v : throw new UsageException($"option {a}: must be ≥ {min}");
            }
            switch (a)
            {
                case "-h" or "--help": throw new HelpRequested(Help);
                case "--epochs": o = o with { Epochs = Int(1) }; break;
                case "--seeds": o = o with { Seeds = Int(1) }; break;
                case "--n": o = o with { Neurons = Int(2) }; break;
                case "--t": o = o with { Steps = Int(2) }; break;
                case "--threads": o = o with { Threads = OptionParsing.Threads(Int(0)) }; break;
                case "--max-cells": o = o with { MaxNewCells = Int(1) }; break;
                case "--eta-scaled": o = o with { EtaScaled = OptionParsing.Positive(a, Next()) }; break;
                case "--eta-per-norm": o = o with { StepPerFeedbackNorm = OptionParsing.Positive(a, Next()) }; break;
                case "--per-trial": o = o with { PerTrial = true }; break;
                case "--authors": o = o with { TeacherLag = true, InitialRecurrentSd = 1.0 }; break;
                case "--teacher-lag": o = o with { TeacherLag = true }; break;
                case "--initial-rec-sd": o = o with { InitialRecurrentSd = OptionParsing.Positive(a, Next(), allowZero: true) }; break;
                case "--tau-values": o = o with { TauValues = OptionParsing.PositiveList(a, Next()) }; break;
                case "--r-values":
                    try { o = o with { Rows = [.. Next().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(SweepRow.Parse)] }; }
                    catch (ArgumentException e) { throw new UsageException($"option {a}: {e.Message}"); }
                    break;
                case "--shard":
                    {
                        string s = Next();
                        var parts = s.Split('/');
                        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int si)
                            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int sn) || sn < 1 || si >= sn)
                            throw new UsageException($"option --shard: '{s}' is not i/n with 0 <= i < n");
                        o = o with { ShardIndex = si, ShardCount = sn };
                        break;
                    }
                case "-o" or "--out": outDir = Next(); break;
                case "--merge":
                    merge = [];
                    while (i + 1 < args.Length && !args[i + 1].StartsWith('-')) merge.Add(args[++i]);
                    if (merge.Count == 0) throw new UsageException("--merge needs at least one folder");
                    break;
                case "--no-plot": plot = false; break;
                case "--no-progress": showProgress = false; break;
                default: throw new UsageException($"unknown option '{a}'");
            }
        }

        if (merge is not null) OutputFolder.EnsureSweepFolders(merge);
        OutputFolder.EnsureWritable(outDir, "--out");
        if (merge is not null)
        {
            var merged = StoreRecallSweep.Merge(merge, outDir);
            stdout.WriteLine($"merged {merged.Count} cells into {Path.Combine(outDir, "results.csv")}");
            if (plot) foreach (string p in StoreRecallSweepPlots.SaveAll(merged, outDir)) stdout.WriteLine($"wrote {p}");
            return ExitCodes.Ok;
        }

        try { o.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }

        using var cts = new Interruption();   // Ctrl-C, SIGTERM, SIGHUP
        var clock = Stopwatch.StartNew();
        int total = o.ShardCells().Count;
        stdout.WriteLine(FormattableString.Invariant(
            $"sweep store-recall: {o.Rows.Count} rows x {o.TauValues.Count} tau* x {o.Seeds} seeds = {o.AllCells().Count} cells, shard {o.ShardIndex}/{o.ShardCount}: {total} cells; N = {o.Neurons}, T = {o.Steps}, {o.Epochs} epochs, {o.Threads} threads -> {outDir}"));
        try
        {
            StoreRecallSweep.Run(o, outDir, p =>
            {
                if (!showProgress) return;
                double elapsed = clock.Elapsed.TotalSeconds;
                int left = p.Total - p.Done;
                string eta = p.Computed > 0 ? FormattableString.Invariant($"{elapsed / p.Computed * left:F0} s") : "?";
                stdout.WriteLine(FormattableString.Invariant($"[{p.Done}/{p.Total}] {(p.Last ?? "start")}  elapsed {elapsed:F0} s, eta {eta}"));
            }, cts.Token);
        }
        catch (InvalidOperationException e) { stderr.WriteLine($"sim: {e.Message}"); return ExitCodes.Failure; }

        if (cts.IsCancellationRequested) { stdout.WriteLine("interrupted; finished cells are kept, run again to resume"); return cts.ExitCode; }
        if (!StoreRecallSweep.IsComplete(o, outDir))
        {
            stdout.WriteLine(o.ShardCount > 1
                ? $"shard done; when all shards are done: sim sweep store-recall --merge DIR... --out DIR"
                : "not all cells are done yet; run again to resume");
            return ExitCodes.Ok;
        }
        var cells = StoreRecallSweep.Merge([outDir], outDir);
        stdout.WriteLine($"wrote {Path.Combine(outDir, "results.csv")} ({cells.Count} cells, {clock.Elapsed.TotalSeconds:F0} s)");
        if (plot) foreach (string p in StoreRecallSweepPlots.SaveAll(cells, outDir)) stdout.WriteLine($"wrote {p}");
        return ExitCodes.Ok;
    }
}
