using Sim.Cli;
using Sim.Experiments;
using Xunit;

namespace Sim.Specs.Plasticity;

/// <summary>The store-and-recall sweep (<see cref="StoreRecallSweep"/>, <c>sim sweep store-recall</c>) on a tiny grid:
/// sharding, resuming, merge, metrics and figures.</summary>
public sealed class SweepTests : IDisposable
{
    private static readonly StoreRecallSweepOptions Tiny = new()
    {
        Rows = [new SweepRow(3), new SweepRow(20)],
        TauValues = [2.0, 8.0],
        Neurons = 20,
        Steps = 40,
        Epochs = 5,
        Threads = 2,
    };

    private readonly string _root = Directory.CreateTempSubdirectory("sim-sweep-").FullName;

    private string Dir(string name) => Path.Combine(_root, name);

    /// <summary>A per-trial sweep cell records its mode and has the curve of the same cell run alone.</summary>
    [Fact]
    public void PerTrialCellsRecordTheirModeAndMatchTheSingleCell()
    {
        var options = Tiny with { PerTrial = true, Rows = [new SweepRow(20)], TauValues = [8.0], Threads = 1 };
        var cell = options.AllCells().Single();
        var result = StoreRecallSweep.RunCell(options, cell);
        Assert.True(result.PerTrial);
        var alone = new StoreRecall(options.CellOptions(cell)).Run();
        Assert.True(options.CellOptions(cell).PerTrial);
        Assert.Equal(alone.Mse, result.Mse);
        Assert.False(StoreRecallSweep.RunCell(Tiny, Tiny.AllCells()[0]).PerTrial);
    }

    /// <summary>Deletes the temporary folders.</summary>
    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private static byte[] Csv(string dir) => File.ReadAllBytes(Path.Combine(dir, "results.csv"));

    [Fact]
    public void FullRunEqualsMergedShards()
    {
        Assert.Equal(4, StoreRecallSweep.Run(Tiny, Dir("full")));
        Assert.True(StoreRecallSweep.IsComplete(Tiny, Dir("full")));
        StoreRecallSweep.Merge([Dir("full")], Dir("full"));

        Assert.Equal(2, StoreRecallSweep.Run(Tiny with { ShardIndex = 0, ShardCount = 2, Threads = 1 }, Dir("s0")));
        Assert.Equal(2, StoreRecallSweep.Run(Tiny with { ShardIndex = 1, ShardCount = 2, Threads = 1 }, Dir("s1")));
        Assert.False(StoreRecallSweep.IsComplete(Tiny, Dir("s0")));
        var merged = StoreRecallSweep.Merge([Dir("s0"), Dir("s1")], Dir("merged"));

        Assert.Equal(4, merged.Count);
        Assert.Equal(Csv(Dir("full")), Csv(Dir("merged")));
        var lines = File.ReadAllLines(Path.Combine(Dir("full"), "results.csv"));
        Assert.Equal(StoreRecallSweep.CsvHeader, lines[0]);
        Assert.Equal(1 + 4 + 4, lines.Length); // header, 4 cells × 1 seed, 4 means
        Assert.StartsWith("3,2,1,20,40,5,", lines[1]);
        Assert.Contains(",mean,", lines[^1]);
    }

    [Fact]
    public void InterruptedRunResumesAndSkipsFinishedCells()
    {
        var reference = Dir("reference");
        StoreRecallSweep.Run(Tiny, reference);
        StoreRecallSweep.Merge([reference], reference);

        var dir = Dir("resumed");
        Assert.Equal(1, StoreRecallSweep.Run(Tiny with { MaxNewCells = 1, Threads = 1 }, dir));
        var first = Directory.GetFiles(Path.Combine(dir, "cells"), "*.json").Single();
        Assert.Equal(Tiny.AllCells()[0].Key + ".json", Path.GetFileName(first));
        var stamp = File.GetLastWriteTimeUtc(first);
        Assert.False(StoreRecallSweep.IsComplete(Tiny, dir));

        var seen = new List<SweepProgress>();
        Assert.Equal(3, StoreRecallSweep.Run(Tiny, dir, seen.Add));
        Assert.Equal(1, seen[0].Done); // the finished cell was found on disk
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(first));
        Assert.Equal(0, StoreRecallSweep.Run(Tiny, dir)); // nothing left
        StoreRecallSweep.Merge([dir], dir);
        Assert.Equal(Csv(reference), Csv(dir));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "cells"), "*.tmp"));
    }

    [Fact]
    public void CellsMadeWithOtherOptionsAreRefused()
    {
        var dir = Dir("other");
        StoreRecallSweep.Run(Tiny with { MaxNewCells = 1 }, dir);
        Assert.Throws<InvalidOperationException>(() => StoreRecallSweep.Run(Tiny with { Epochs = 6 }, dir));
        Assert.Throws<InvalidOperationException>(() => StoreRecallSweep.Run(Tiny with { PerTrial = true }, dir));
        Assert.Throws<InvalidOperationException>(() => StoreRecallSweep.Run(Tiny with { StepPerFeedbackNorm = 20 }, dir));
    }

    [Fact]
    public void ASweepWithTheRatePerFeedbackNormResumes()
    {
        // η = X/‖D‖₂ differs per cell; a stored cell matches by X (and the mode), not by an η computed without ‖D‖₂.
        string dir = Dir("per-norm");
        var options = Tiny with { StepPerFeedbackNorm = 20 };
        Assert.Equal(1, StoreRecallSweep.Run(options with { MaxNewCells = 1, Threads = 1 }, dir));
        Assert.Equal(3, StoreRecallSweep.Run(options, dir));
        Assert.Equal(0, StoreRecallSweep.Run(options, dir));
        Assert.Throws<InvalidOperationException>(() => StoreRecallSweep.Run(options with { StepPerFeedbackNorm = 10 }, dir));
        Assert.Throws<InvalidOperationException>(() => StoreRecallSweep.Run(Tiny, dir));
    }

    [Fact]
    public void FiguresArePngs()
    {
        var dir = Dir("plots");
        var options = Tiny with { Rows = [new SweepRow(3), SweepRow.Ltts], TauValues = [1.0, 4.64] };
        StoreRecallSweep.Run(options, dir);
        var cells = StoreRecallSweep.Merge([dir], dir);
        Assert.All(cells, c => Assert.Equal(40, c.FinalOutput.Length));
        var paths = StoreRecallSweepPlots.SaveAll(cells, dir);
        foreach (string name in new[] { "heatmap-mse.png", "heatmap-delta-s.png", "heatmap-tconv.png", "curves.png", "recall.png" })
        {
            string path = Path.Combine(dir, name);
            Assert.Contains(path, paths);
            var head = File.ReadAllBytes(path).Take(8).ToArray();
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, head);
        }
    }

    /// <summary>A grid one τ⋆ wide (e.g. --tau-stars 4.64) still gets coloured cells (ScottPlot draws none for a 1-wide grid).</summary>
    [Fact]
    public void AOneColumnHeatMapIsColoured()
    {
        var dir = Dir("one-column");
        var options = Tiny with { Rows = [new SweepRow(3), SweepRow.Ltts], TauValues = [4.64] };
        StoreRecallSweep.Run(options, dir);
        var cells = StoreRecallSweep.Merge([dir], dir);
        StoreRecallSweepPlots.SaveAll(cells, dir);
        using var image = SkiaSharp.SKBitmap.Decode(Path.Combine(dir, "heatmap-mse.png"));
        // A point inside the plot area, away from the labels: not the white background.
        var pixel = image.GetPixel(image.Width / 4, image.Height / 3);
        Assert.False(pixel.Red > 240 && pixel.Green > 240 && pixel.Blue > 240, $"pixel {pixel} is white");
    }

    [Fact]
    public void MetricsFollowTheirDefinitions()
    {
        // 20 epochs: final = mean of the last 2; window w = 1.
        double[] curve = [10, 8, 6, 4, 2, 1.05, 0.95, 1.2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
        Assert.Equal(1.0, StoreRecallSweep.FinalMean(curve));
        // Epoch index 7 (1.2) is outside 10 %, so T_conv = 1 + 8.
        Assert.Equal(9, StoreRecallSweep.EpochsToConverge(curve));
        Assert.Equal(1, StoreRecallSweep.EpochsToConverge([5.0, 5.0, 5.0]));
        Assert.Equal(0, StoreRecallSweep.EpochsToConverge([]));
        var taus = StoreRecallSweep.LogSpace(0, 2, 10);
        Assert.Equal(1.0, taus[0]);
        Assert.Equal(100.0, taus[^1], 12);
        Assert.Equal(4.6416, taus[3], 4);
        Assert.Equal("r019_tau4.6416_s1", new SweepCell(new SweepRow(19), taus[3], 1).Key);
        Assert.Equal("ltts_tau100_s2", new SweepCell(SweepRow.Ltts, 100, 2).Key);
        Assert.Equal(110, new StoreRecallSweepOptions().AllCells().Count);
    }

    [Fact]
    public void CommandLineRunsAndMerges()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        string[] grid = ["--neurons", "20", "--steps", "40", "--epochs", "3", "--ranks", "3", "--ltts", "--tau-stars", "2", "--no-plot", "--no-progress"];
        int code = CommandLine.Run(["sweep", "store-recall", .. grid, "--shard", "0/2", "--out", Dir("c0")], stdout, stderr);
        Assert.True(code == ExitCodes.Ok, stderr.ToString());
        code = CommandLine.Run(["sweep", "store-recall", .. grid, "--shard", "1/2", "--out", Dir("c1")], stdout, stderr);
        Assert.True(code == ExitCodes.Ok, stderr.ToString());
        code = CommandLine.Run(["sweep", "store-recall", "--merge", Dir("c0"), Dir("c1"), "--out", Dir("cm"), "--no-plot"], stdout, stderr);
        Assert.True(code == ExitCodes.Ok, stderr.ToString());
        Assert.Equal(1 + 2 + 2, File.ReadAllLines(Path.Combine(Dir("cm"), "results.csv")).Length);
        Assert.Equal(ExitCodes.Ok, CommandLine.Run(["sweep", "store-recall", "--help"], stdout, stderr));
        Assert.Contains("--shard i/n", stdout.ToString());
        Assert.Equal(ExitCodes.Usage, CommandLine.Run(["sweep", "store-recall", "--shard", "2/2"], new StringWriter(), new StringWriter()));
        Assert.Equal(ExitCodes.Usage, CommandLine.Run(["sweep", "store-recall", "--ranks", "3,x"], new StringWriter(), new StringWriter()));
    }
}
