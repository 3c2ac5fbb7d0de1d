using System.CommandLine;
using System.Diagnostics;
using Sim.Cli.Commands;
using System.Globalization;
using Sim.Experiments;

namespace Sim.Cli;

/// <summary>
/// <c>sim sweep store-recall</c>: the (R, τ⋆) grid of the store-and-recall task (Capone et al. 2022, Fig. 2 D–F;
/// docs/tasks/store_recall.md), resumable and shardable (<see cref="StoreRecallSweep"/>), with results.csv and PNG figures.
/// </summary>
public static class SweepCommand
{
    /// <summary>The definition of <c>sim sweep</c> and its sweeps.</summary>
    internal static Command Build(CliIO io)
    {
        var sweep = new SimCommand("sweep", "Run a task over a grid of settings and seeds: resumable, shardable, mergeable, with results.csv and figures.");
        sweep.Add(BuildStoreRecall(io));
        sweep.Add(ButtonFoodCommand.BuildSweep(io));
        return sweep;
    }

    private static Command BuildStoreRecall(CliIO io)
    {
        var common = new StoreRecallOptionSet(epochsDefault: 100, epochsMin: 1);
        var seeds = SimOptions.Seeds(1);
        var ranks = SimOptions.IntList("--ranks", "comma-separated feedback ranks R (default 3,19,35,52,68,84,101,117,133,150, with the LTTS row)", 1);
        var ltts = SimOptions.Flag("--ltts", "also the LTTS row (D = c I); the default grid has it, a --ranks list only with --ltts");
        var taus = SimOptions.PositiveList("--tau-stars", "comma-separated tau*/dt values (default logspace(0, 2, 10))");
        var shard = SimOptions.Shard("cells with index % n == i, i.e. the cells");
        var threads = SimOptions.Threads("cells run in parallel", 1);
        var maxCells = SimOptions.OptionalInt("--max-cells", "stop after computing K cells in this run (resume later)", 1, "K");
        var outDir = SimOptions.Out("output folder (default sweep-store-recall)");
        var merge = SimOptions.Merge();
        var noPlot = SimOptions.NoPlot("the figures");
        var noProgress = SimOptions.NoProgress();
        var cmd = new SimCommand("store-recall", "The (R, tau*) grid of the store-and-recall task (Capone, Muratore & Paolucci 2022, Fig. 2 D-F; docs/tasks/store_recall.md). Each cell (R or LTTS, tau*, seed) is one 'sim task store-recall' run, written to OUT/cells/<key>.json when it finishes.", """
            A restarted sweep skips finished cells; shards split the cells by index in a fixed order, and results do not
            depend on sharding or threads. When every cell of the grid is in OUT, OUT/results.csv and the figures
            (heatmap-mse.png, heatmap-delta-s.png, heatmap-tconv.png, curves.png, recall.png) are written.
            With --merge DIR...: the cells of those folders are merged into OUT/results.csv and the figures; nothing runs.
            Ctrl-C abandons the running cells; finished cells stay on disk (exit 130; SIGTERM 143, SIGHUP 129).
            """);
        common.AddTo(cmd);
        foreach (var o in new Option[] { seeds, ranks, ltts, taus, shard, threads, maxCells, outDir, merge, noPlot, noProgress }) cmd.Add(o);
        SimOptions.Without(cmd, merge, "runs nothing", common.Neurons, common.Steps, common.Epochs, common.EtaScaled, common.EtaPerNorm, common.PerTrial,
            common.Authors, common.TeacherLag, common.InitialRecSd, seeds, ranks, ltts, taus, shard, threads, maxCells, noProgress);
        SimOptions.Exclusive(cmd, common.EtaScaled, common.EtaPerNorm);
        return cmd.Does(r =>
        {
            var o = common.Apply(new StoreRecallSweepOptions(), r) with
            {
                Seeds = r.GetValue(seeds),
                Threads = SimOptions.ThreadCount(r.GetValue(threads)),
                MaxNewCells = r.GetValue(maxCells),
                ShardIndex = r.GetValue(shard).Index,
                ShardCount = r.GetValue(shard).Count,
            };
            if (r.GivenValue(ranks) is { } rows) o = o with { Rows = [.. rows.Select(k => new SweepRow(k)), .. r.GetValue(ltts) ? [SweepRow.Ltts] : Array.Empty<SweepRow>()] };
            if (r.GivenValue(taus) is { } t) o = o with { TauValues = t };
            return Execute(o, r.GetValue(outDir) ?? "sweep-store-recall", r.Given(merge) ? [.. r.GetValue(merge)!] : null, !r.GetValue(noPlot), !r.GetValue(noProgress), io.Out, io.Err);
        });
    }

    /// <summary>Runs (or with <paramref name="merge"/> only merges) the sweep; returns the exit code.</summary>
    public static int Execute(StoreRecallSweepOptions o, string outDir, List<string>? merge, bool plot, bool showProgress, TextWriter stdout, TextWriter stderr)
    {
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
        catch (ArgumentException e) { throw StoreRecallOptionSet.Usage(e, lists: true); }

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
