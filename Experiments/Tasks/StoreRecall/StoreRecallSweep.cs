using System.Globalization;
using System.Text;
using System.Text.Json;
using Sim.Plasticity;

namespace Sim.Experiments;

/// <summary>
/// The (R, τ⋆) sweep of the store-and-recall task (Capone, Muratore &amp; Paolucci 2022, Fig. 2 D–F; docs/tasks/store_recall.md).
/// <para>Each cell (row, τ⋆, seed) is one <see cref="StoreRecall"/> run, a pure function of the cell and the options (all
/// draws come from the counter RNG keyed by the seed), so the results do not depend on sharding, threads or restarts.
/// A finished cell is written at once to <c>OUT/cells/&lt;key&gt;.json</c> (temp file, then rename); a restarted run
/// skips cells whose file exists and matches the options. <see cref="Merge"/> collects cells of one or more folders into
/// <c>results.csv</c>.</para>
/// <para>Metrics: final MSE and final ΔS are means over the last max(1, round(E/10)) epochs. Epochs to converge
/// T_conv: with w = max(1, round(E/20)) and m_e the mean MSE over epochs e−w+1 … e (e ≥ w−1, 0-based), T_conv is
/// 1 + the first e such that |m_e' − final MSE| ≤ 0.1·final MSE for every e' ≥ e (E when only the last window does).</para>
/// </summary>
public static class StoreRecallSweep
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>logspace(a, b, n): 10^(a + (b−a)·k/(n−1)).</summary>
    public static double[] LogSpace(double a, double b, int n) =>
        [.. Enumerable.Range(0, n).Select(k => n == 1 ? Math.Pow(10, a) : Math.Pow(10, a + (b - a) * k / (n - 1)))];

    /// <summary>τ⋆ label: 5 significant digits, invariant (e.g. 4.6416, 100).</summary>
    public static string TauLabel(double tau) => tau.ToString("G5", CultureInfo.InvariantCulture);

    /// <summary>Mean of the last max(1, round(n/10)) values.</summary>
    public static double FinalMean(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return double.NaN;
        int k = Math.Max(1, (int)Math.Round(values.Count / 10.0, MidpointRounding.AwayFromZero));
        double s = 0;
        for (int i = values.Count - k; i < values.Count; i++) s += values[i];
        return s / k;
    }

    /// <summary>Epochs to converge (see the class summary); 0 for an empty curve.</summary>
    public static int EpochsToConverge(IReadOnlyList<double> mse)
    {
        int n = mse.Count;
        if (n == 0) return 0;
        double final = FinalMean(mse);
        int w = Math.Max(1, (int)Math.Round(n / 20.0, MidpointRounding.AwayFromZero));
        double tol = 0.1 * Math.Abs(final);
        int first = n - 1;
        double sum = 0;
        var running = new double[n];
        for (int e = 0; e < n; e++)
        {
            sum += mse[e];
            if (e >= w) sum -= mse[e - w];
            running[e] = sum / Math.Min(w, e + 1);
        }
        for (int e = n - 1; e >= w - 1; e--)
        {
            if (Math.Abs(running[e] - final) > tol) break;
            first = e;
        }
        return first + 1;
    }

    /// <summary>Runs one cell and summarises it.</summary>
    public static SweepCellResult RunCell(StoreRecallSweepOptions options, SweepCell cell, CancellationToken cancellationToken = default)
    {
        var o = options.CellOptions(cell);
        var task = new StoreRecall(o);
        var r = task.Run(null, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        if (r.Failure is not null) throw new Sim.EventCore.Plasticity.PlasticWeightException($"cell {cell.Key}: {r.Failure}");
        return Summarise(o, r, task.Target, cell.Row.Label);
    }

    /// <summary>A run of one cell (<paramref name="o"/>, its result and target) as a sweep cell: its row label, final means, curves and recall.</summary>
    public static SweepCellResult Summarise(StoreRecallOptions o, StoreRecallResult r, double[][] target, string row)
    {
        var rate = r.Rate;
        return new SweepCellResult
        {
            Row = row,
            Rank = o.Rank,
            TauStarDt = o.TauStarDt,
            Seed = o.Seed,
            Neurons = o.Neurons,
            Steps = o.Steps,
            Epochs = r.Mse.Length,
            EtaName = rate.Name,
            Eta = rate.Eta,
            Feedback = r.Feedback,
            ReadoutLimit = r.ReadoutLimit,
            PerTrial = o.PerTrial,
            TeacherLag = o.TeacherLag,
            InitialRecurrentSd = o.InitialRecurrentSd,
            StepPerFeedbackNorm = o.StepPerFeedbackNorm,
            FeedbackNorm = r.FeedbackNorm,
            FeedbackTrace = r.FeedbackTrace,
            TargetSpikes = r.TargetSpikes,
            FinalMse = FinalMean(r.Mse),
            FinalSpikeError = FinalMean(r.SpikeError),
            EpochsToConverge = EpochsToConverge(r.Mse),
            SecondsPerEpoch = r.SecondsPerEpoch,
            Mse = r.Mse,
            SpikeError = r.SpikeError,
            Target = target,
            FinalOutput = r.FinalOutput,
        };
    }

    /// <summary>Path of a cell's file under <paramref name="outDir"/>.</summary>
    public static string CellPath(string outDir, SweepCell cell) => Path.Combine(outDir, "cells", cell.Key + ".json");

    /// <summary>Reads a cell file.</summary>
    public static SweepCellResult ReadCell(string path) =>
        JsonSerializer.Deserialize<SweepCellResult>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path}: empty cell file");

    /// <summary>
    /// True when a stored cell was made with these options: same N, T, epochs, update mode and learning rate (η itself,
    /// or for η = X/‖D‖₂ the same X, since ‖D‖₂ is known only once the cell is set up).
    /// </summary>
    public static bool Matches(SweepCellResult stored, StoreRecallSweepOptions options, SweepCell cell)
    {
        var o = options.CellOptions(cell);
        bool sameRate = o.StepPerFeedbackNorm is { } step
            ? stored.StepPerFeedbackNorm == step
            : stored.StepPerFeedbackNorm is null && stored.Eta == (o.LearningRate ?? LearningRate.FivePerSqrtN(o.Neurons)).Eta;
        return stored.Neurons == o.Neurons && stored.Steps == o.Steps && stored.Epochs == o.Epochs && sameRate && stored.PerTrial == o.PerTrial
            && stored.TeacherLag == o.TeacherLag && stored.InitialRecurrentSd == o.InitialRecurrentSd
            && stored.Row == cell.Row.Label && stored.TauStarDt == cell.TauStarDt && stored.Seed == cell.Seed;
    }

    /// <summary>
    /// Runs the cells of this shard that are not yet on disk, <see cref="StoreRecallSweepOptions.Threads"/> at a time,
    /// writing each as it finishes. Throws <see cref="InvalidOperationException"/> when a stored cell was made with other
    /// options. Returns the number of cells computed in this run.
    /// </summary>
    public static int Run(StoreRecallSweepOptions options, string outDir, Action<SweepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        string cellDir = Path.Combine(outDir, "cells");
        Directory.CreateDirectory(cellDir);
        var cells = options.ShardCells();
        var todo = new List<SweepCell>();
        foreach (var cell in cells)
        {
            string path = CellPath(outDir, cell);
            if (!File.Exists(path)) { todo.Add(cell); continue; }
            if (!Matches(ReadCell(path), options, cell))
                throw new InvalidOperationException($"{path} was made with other options (N, T, epochs, eta, per-trial updates, teacher lag or initial W_rec); use another output folder");
        }
        int done = cells.Count - todo.Count, computed = 0, claimed = 0, next = -1;
        int limit = options.MaxNewCells ?? int.MaxValue;
        progress?.Invoke(new SweepProgress(done, cells.Count, 0, null));
        var gate = new object();
        Exception? failure = null;
        void Worker()
        {
            while (true)
            {
                if (cancellationToken.IsCancellationRequested || Volatile.Read(ref failure) is not null) return;
                int k = Interlocked.Increment(ref next);
                if (k >= todo.Count) return;
                if (Interlocked.Increment(ref claimed) > limit) return;
                var cell = todo[k];
                try
                {
                    var result = RunCell(options, cell, cancellationToken);
                    WriteAtomically(CellPath(outDir, cell), JsonSerializer.Serialize(result, Json));
                    lock (gate)
                    {
                        done++; computed++;
                        progress?.Invoke(new SweepProgress(done, cells.Count, computed, cell.Key));
                    }
                }
                catch (OperationCanceledException) { return; }
                catch (Exception e) { Interlocked.CompareExchange(ref failure, e, null); return; }
            }
        }
        var threads = Enumerable.Range(0, Math.Min(options.Threads, Math.Max(1, todo.Count)))
            .Select(_ => new Thread(Worker) { IsBackground = true }).ToList();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        if (failure is not null) throw new InvalidOperationException($"a sweep cell failed: {failure.Message}", failure);
        return computed;
    }

    /// <summary>True when every cell of the whole grid (all shards) is in <paramref name="outDir"/>.</summary>
    public static bool IsComplete(StoreRecallSweepOptions options, string outDir) =>
        options.AllCells().All(c => File.Exists(CellPath(outDir, c)));

    /// <summary>Writes <paramref name="text"/> to a temp file beside <paramref name="path"/>, then renames it.</summary>
    public static void WriteAtomically(string path, string text)
    {
        string tmp = path + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "." + Environment.CurrentManagedThreadId.ToString(CultureInfo.InvariantCulture) + ".tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Every cell file under <c>DIR/cells</c> of the given folders, sorted canonically (R ascending then LTTS,
    /// τ⋆ ascending, seed ascending); a key found twice is read once (the first folder wins).</summary>
    public static IReadOnlyList<SweepCellResult> Collect(IEnumerable<string> dirs)
    {
        var byKey = new Dictionary<string, SweepCellResult>(StringComparer.Ordinal);
        foreach (string dir in dirs)
        {
            string cellDir = Path.Combine(dir, "cells");
            if (!Directory.Exists(cellDir)) throw new DirectoryNotFoundException($"{cellDir}: no cells folder");
            foreach (string f in Directory.GetFiles(cellDir, "*.json").Order(StringComparer.Ordinal))
                byKey.TryAdd(Path.GetFileNameWithoutExtension(f), ReadCell(f));
        }
        return [.. byKey.Values.OrderBy(c => c.GridRow.SortKey).ThenBy(c => c.TauStarDt).ThenBy(c => c.Seed)];
    }

    /// <summary>Header of results.csv.</summary>
    public const string CsvHeader = "r,tau_star_dt,seed,n,t,epochs,eta_scaling,eta,readout_limit,final_mse,final_delta_s,t_conv,target_spikes";

    /// <summary>
    /// results.csv: one row per cell and seed, then one row per (R, τ⋆) with seed = "mean" (means over seeds of the readout
    /// limit, final MSE, final ΔS, T_conv and target spikes). Numbers in round-trip invariant form.
    /// </summary>
    public static string ResultsCsv(IReadOnlyList<SweepCellResult> cells)
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var sb = new StringBuilder(CsvHeader).Append('\n');
        foreach (var c in cells)
            sb.Append(CultureInfo.InvariantCulture, $"{c.Row},{F(c.TauStarDt)},{c.Seed},{c.Neurons},{c.Steps},{c.Epochs},{Quote(c.EtaName)},{F(c.Eta)},{F(c.ReadoutLimit)},{F(c.FinalMse)},{F(c.FinalSpikeError)},{c.EpochsToConverge},{c.TargetSpikes}\n");
        foreach (var g in MeanOverSeeds(cells))
            sb.Append(CultureInfo.InvariantCulture, $"{g.Row},{F(g.TauStarDt)},mean,{g.Neurons},{g.Steps},{g.Epochs},{Quote(g.EtaName)},{F(g.Eta)},{F(g.ReadoutLimit)},{F(g.FinalMse)},{F(g.FinalSpikeError)},{F(g.EpochsToConverge)},{F(g.TargetSpikes)}\n");
        return sb.ToString();
    }

    private static string Quote(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;

    /// <summary>Per (row, τ⋆) means over seeds, in canonical order.</summary>
    public static IReadOnlyList<SweepMean> MeanOverSeeds(IReadOnlyList<SweepCellResult> cells) =>
        [.. cells.GroupBy(c => (c.Row, c.TauStarDt))
            .Select(g => new SweepMean(g.Key.Row, g.Key.TauStarDt, g.Count(), g.First().Neurons, g.First().Steps, g.First().Epochs, g.First().EtaName, g.First().Eta,
                g.Average(c => c.ReadoutLimit), g.Average(c => c.FinalMse), g.Average(c => c.FinalSpikeError), g.Average(c => (double)c.EpochsToConverge), g.Average(c => (double)c.TargetSpikes))
            {
                Log10FinalMseSd = Statistics.SampleSd([.. g.Select(c => Math.Log10(c.FinalMse))]),
                FinalSpikeErrorSd = Statistics.SampleSd([.. g.Select(c => c.FinalSpikeError)]),
                EpochsToConvergeSd = Statistics.SampleSd([.. g.Select(c => (double)c.EpochsToConverge)]),
            })
            .OrderBy(m => SweepRow.Parse(m.Row).SortKey).ThenBy(m => m.TauStarDt)];

    /// <summary>Merges the cells of <paramref name="dirs"/> into <c>OUT/results.csv</c>; returns the cells.</summary>
    public static IReadOnlyList<SweepCellResult> Merge(IEnumerable<string> dirs, string outDir)
    {
        var cells = Collect(dirs);
        if (cells.Count == 0) throw new InvalidOperationException("no cells to merge");
        Directory.CreateDirectory(outDir);
        WriteAtomically(Path.Combine(outDir, "results.csv"), ResultsCsv(cells));
        return cells;
    }
}

/// <summary>Mean over seeds of one (R, τ⋆) cell.</summary>
/// <param name="Row">"3" … or "ltts".</param>
/// <param name="TauStarDt">τ⋆/dt.</param>
/// <param name="SeedCount">Seeds averaged.</param>
/// <param name="Neurons">N.</param>
/// <param name="Steps">T.</param>
/// <param name="Epochs">Epochs.</param>
/// <param name="EtaName">η scaling.</param>
/// <param name="Eta">η.</param>
/// <param name="ReadoutLimit">Mean readout limit.</param>
/// <param name="FinalMse">Mean final MSE.</param>
/// <param name="FinalSpikeError">Mean final ΔS.</param>
/// <param name="EpochsToConverge">Mean T_conv.</param>
/// <param name="TargetSpikes">Mean Σ z*.</param>
public sealed record SweepMean(string Row, double TauStarDt, int SeedCount, int Neurons, int Steps, int Epochs, string EtaName, double Eta,
    double ReadoutLimit, double FinalMse, double FinalSpikeError, double EpochsToConverge, double TargetSpikes)
{
    /// <summary>Standard deviation over seeds of log10 of the final MSE (0 for one seed).</summary>
    public double Log10FinalMseSd { get; init; }
    /// <summary>Standard deviation over seeds of the final ΔS.</summary>
    public double FinalSpikeErrorSd { get; init; }
    /// <summary>Standard deviation over seeds of T_conv.</summary>
    public double EpochsToConvergeSd { get; init; }
}
