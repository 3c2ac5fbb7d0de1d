using System.Globalization;
using System.Text;

namespace Sim.Experiments;

/// <summary>
/// The Button &amp; Food sweep over seeds (each seed: every rank as one batch, <see cref="ButtonFood.Run"/>), resumable
/// and shardable: seed k of 1…S belongs to shard (k − 1) mod n; each finished seed is written at once to
/// OUT/cells/seed-&lt;s&gt;.csv (written to a temporary name, then renamed: a cell is complete or absent) with its
/// configuration on the first line; a run skips the seeds already there, and refuses cells of another configuration.
/// <see cref="Merge"/> gathers the cells of several folders.
/// </summary>
public static class ButtonFoodSweep
{
    /// <summary>One seed's mean score per rank, and the expert's.</summary>
    public sealed record Cell(ulong Seed, string Config, IReadOnlyDictionary<int, double[]> Scores, double[] ExpertScores);

    /// <summary>The configuration line of a cell (every option that changes the result, but not the seed).</summary>
    public static string Config(ButtonFoodOptions o, IReadOnlyList<int> ranks) => string.Create(CultureInfo.InvariantCulture,
        $"# config: N={o.Neurons} ranks={string.Join(",", ranks)} tau*={o.TauStarMs:R} epochs={o.Epochs} readout-epochs={o.ReadoutEpochs} feedback={o.Feedback} clamp={o.Clamp} hint={o.Hint} test-angles={o.TestAnglesDeg.Count} train={string.Join(",", o.TrainAnglesDeg)}");

    /// <summary>The seeds of shard <paramref name="shard"/> of <paramref name="shards"/> among 1…<paramref name="seeds"/>.</summary>
    public static IEnumerable<ulong> ShardSeeds(int seeds, int shard, int shards) => Enumerable.Range(1, seeds).Where(k => (k - 1) % shards == shard).Select(k => (ulong)k);

    /// <summary>The cell file of a seed.</summary>
    public static string CellPath(string outDir, ulong seed) => Path.Combine(outDir, "cells", $"seed-{seed}.csv");

    /// <summary>Writes a finished seed (atomically).</summary>
    public static void WriteCell(string outDir, ButtonFoodResult r, IReadOnlyList<int> ranks)
    {
        Directory.CreateDirectory(Path.Combine(outDir, "cells"));
        var s = new StringBuilder(Config(r.Options, ranks)).Append('\n').Append("seed,rank,angle_deg,score\n");
        for (int a = 0; a < r.ExpertScores.Length; a++) s.Append(CultureInfo.InvariantCulture, $"{r.Options.Seed},expert,{r.Options.TestAnglesDeg[a]:R},{r.ExpertScores[a]:R}\n");
        foreach (var k in r.Ranks)
            for (int a = 0; a < k.Scores.Length; a++) s.Append(CultureInfo.InvariantCulture, $"{r.Options.Seed},{k.Rank},{r.Options.TestAnglesDeg[a]:R},{k.Scores[a]:R}\n");
        string path = CellPath(outDir, r.Options.Seed), tmp = path + ".tmp";
        File.WriteAllText(tmp, s.ToString());
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Reads a cell; errors name the file and line.</summary>
    public static Cell ReadCell(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length < 2 || !lines[0].StartsWith("# config: ", StringComparison.Ordinal) || lines[1] != "seed,rank,angle_deg,score")
            throw new InvalidDataException($"{path}: line 1–2: not a button-food cell (expected the config line and the header seed,rank,angle_deg,score)");
        var scores = new Dictionary<int, List<double>>();
        var expert = new List<double>();
        ulong seed = 0;
        for (int i = 2; i < lines.Length; i++)
        {
            var f = lines[i].Split(',');
            if (f.Length != 4 || !ulong.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out seed)
                || !double.TryParse(f[3], NumberStyles.Float, CultureInfo.InvariantCulture, out double score) || !double.IsFinite(score))
                throw new InvalidDataException($"{path}: line {i + 1}: expected seed,rank,angle_deg,score with a finite score");
            if (f[1] == "expert") expert.Add(score);
            else if (int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out int rank)) (scores.TryGetValue(rank, out var l) ? l : scores[rank] = []).Add(score);
            else throw new InvalidDataException($"{path}: line {i + 1}: field rank: '{f[1]}' is not a rank or 'expert'");
        }
        return new Cell(seed, lines[0], scores.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()), [.. expert]);
    }

    /// <summary>
    /// Runs the seeds of the shard that are not on disk yet; <paramref name="progress"/> sees each finished seed's
    /// result. Throws <see cref="InvalidDataException"/> when a cell on disk has another configuration.
    /// </summary>
    public static void Run(ButtonFoodOptions options, IReadOnlyList<int> ranks, int seeds, int shard, int shards, string outDir,
        Func<ButtonFoodOptions, ButtonFoodResult> runSeed, Action<ButtonFoodResult>? progress, CancellationToken ct)
    {
        string config = Config(options, ranks);
        foreach (ulong seed in ShardSeeds(seeds, shard, shards))
        {
            ct.ThrowIfCancellationRequested();
            string path = CellPath(outDir, seed);
            if (File.Exists(path))
            {
                var cell = ReadCell(path);
                if (cell.Config != config) throw new InvalidDataException($"{path}: line 1: made with another configuration ({cell.Config[10..]}); use another --out or the same options");
                continue;
            }
            var r = runSeed(options with { Seed = seed });
            WriteCell(outDir, r, ranks);
            progress?.Invoke(r);
        }
    }

    /// <summary>All cells under OUT/cells of the folders, one configuration (else an error naming the file).</summary>
    public static List<Cell> Merge(IReadOnlyList<string> folders)
    {
        var cells = new List<Cell>();
        foreach (string f in folders)
        {
            string dir = Path.Combine(f, "cells");
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{f}: no cells/ folder (not a button-food sweep output)");
            foreach (string path in Directory.GetFiles(dir, "seed-*.csv").Order(StringComparer.Ordinal))
            {
                var c = ReadCell(path);
                if (cells.Count > 0 && c.Config != cells[0].Config) throw new InvalidDataException($"{path}: line 1: another configuration than the first cell's");
                if (cells.Any(x => x.Seed == c.Seed)) throw new InvalidDataException($"{path}: seed {c.Seed} appears twice");
                cells.Add(c);
            }
        }
        return [.. cells.OrderBy(c => c.Seed)];
    }

    /// <summary>Writes results.csv and summary.txt (mean ± s.d. over seeds per rank) and reward-vs-rank.png; returns the paths.</summary>
    public static IReadOnlyList<string> Report(IReadOnlyList<Cell> cells, string outDir)
    {
        if (cells.Count == 0) throw new ArgumentException("no finished seeds to report", nameof(cells));
        Directory.CreateDirectory(outDir);
        var csv = new StringBuilder("seed,rank,mean_score,sd_over_angles,angles\n");
        foreach (var c in cells)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{c.Seed},expert,{c.ExpertScores.Average():R},{Statistics.SampleSd(c.ExpertScores):R},{c.ExpertScores.Length}\n");
            foreach (var (rank, s) in c.Scores.OrderBy(kv => kv.Key))
                csv.Append(CultureInfo.InvariantCulture, $"{c.Seed},{rank},{s.Average():R},{Statistics.SampleSd(s):R},{s.Length}\n");
        }
        var summary = new StringBuilder(cells[0].Config[2..]).Append('\n')
            .Append(CultureInfo.InvariantCulture, $"seeds: {string.Join(",", cells.Select(c => c.Seed))}\n")
            .Append("  rank   mean score over seeds   s.d. over seeds   per seed\n");
        double expertMean = cells.Average(c => c.ExpertScores.Average());
        summary.Append(CultureInfo.InvariantCulture, $"  expert {expertMean,12:F3}\n");
        foreach (int rank in cells.SelectMany(c => c.Scores.Keys).Distinct().Order())
        {
            var per = cells.Where(c => c.Scores.ContainsKey(rank)).Select(c => c.Scores[rank].Average()).ToArray();
            summary.Append(CultureInfo.InvariantCulture, $"  {rank,4}   {per.Average(),18:F3}   {Statistics.SampleSd(per),15:F3}   {string.Join(" ", per.Select(x => x.ToString("F2", CultureInfo.InvariantCulture)))}\n");
        }
        var files = new List<string> { Path.Combine(outDir, "results.csv"), Path.Combine(outDir, "summary.txt") };
        File.WriteAllText(files[0], csv.ToString());
        File.WriteAllText(files[1], summary.ToString());
        var points = cells.SelectMany(c => c.Scores.Select(kv => (c.Seed, kv.Key, kv.Value.Average()))).ToList();
        string brief = System.Text.RegularExpressions.Regex.Replace(cells[0].Config[10..], @" ?(ranks|train|test-angles)=\S+", "");
        files.Add(ButtonFoodPlots.RewardVsRank(points, expertMean, $"Button & Food: mean score vs R, {cells.Count} seeds\n{brief}", Path.Combine(outDir, "reward-vs-rank.png")));
        return files;
    }
}
