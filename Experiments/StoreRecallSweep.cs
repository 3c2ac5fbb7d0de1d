using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sim.Plasticity;

namespace Sim.Experiments;

/// <summary>One row of the (R, τ⋆) grid: a feedback rank R, or the LTTS feedback.</summary>
/// <param name="Rank">R, or null for LTTS.</param>
public readonly record struct SweepRow(int? Rank)
{
    /// <summary>The LTTS row.</summary>
    public static SweepRow Ltts => new(null);
    /// <summary>True for the LTTS row.</summary>
    public bool IsLtts => Rank is null;
    /// <summary>"3", "150" or "ltts" (the CSV and file-name form).</summary>
    public string Label => Rank is { } r ? r.ToString(CultureInfo.InvariantCulture) : "ltts";
    /// <summary>Order of rows: R ascending, LTTS last.</summary>
    public int SortKey => Rank ?? int.MaxValue;
    /// <summary>Parses "ltts" or an integer R.</summary>
    public static SweepRow Parse(string text) =>
        text.Equals("ltts", StringComparison.OrdinalIgnoreCase) ? Ltts
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int r) ? new SweepRow(r)
        : throw new ArgumentException($"'{text}' is neither an integer R nor 'ltts'");
}

/// <summary>One cell of the sweep: a row, a τ⋆ and a seed.</summary>
/// <param name="Row">R or LTTS.</param>
/// <param name="TauStarDt">τ⋆/dt.</param>
/// <param name="Seed">Seed of the task instance (target, teacher, readout, B).</param>
public readonly record struct SweepCell(SweepRow Row, double TauStarDt, ulong Seed)
{
    /// <summary>File-name key, e.g. <c>r019_tau4.6416_s1</c> or <c>ltts_tau100_s2</c>.</summary>
    public string Key => $"{(Row.Rank is { } r ? "r" + r.ToString("D3", CultureInfo.InvariantCulture) : "ltts")}_tau{StoreRecallSweep.TauLabel(TauStarDt)}_s{Seed.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>Options of a store-and-recall sweep (MODELS.md §4.1). Defaults: the paper's grid, 1 seed.</summary>
public sealed record StoreRecallSweepOptions
{
    /// <summary>The paper's R values, linspace(3, 150, 10) rounded.</summary>
    public static readonly int[] PaperRanks = [3, 19, 35, 52, 68, 84, 101, 117, 133, 150];

    /// <summary>Grid rows in canonical order (R ascending, then LTTS).</summary>
    public IReadOnlyList<SweepRow> Rows { get; init; } = [.. PaperRanks.Select(r => new SweepRow(r)), SweepRow.Ltts];
    /// <summary>τ⋆/dt values; default logspace(0, 2, 10).</summary>
    public IReadOnlyList<double> TauValues { get; init; } = StoreRecallSweep.LogSpace(0, 2, 10);
    /// <summary>Seeds per cell: 1 … <see cref="Seeds"/>.</summary>
    public int Seeds { get; init; } = 1;
    /// <summary>Epochs per cell.</summary>
    public int Epochs { get; init; } = 100;
    /// <summary>N.</summary>
    public int Neurons { get; init; } = 150;
    /// <summary>T (steps per trial).</summary>
    public int Steps { get; init; } = 150;
    /// <summary>η: null = 5/√N (the default of <see cref="StoreRecall"/>); a value X = X·√(N/R) (R = N for LTTS).</summary>
    public double? EtaScaled { get; init; }
    /// <summary>η = X/‖D‖₂ in every cell (equal largest step for every feedback); null: see <see cref="EtaScaled"/>.</summary>
    public double? StepPerFeedbackNorm { get; init; }
    /// <summary>Per-trial updates in every cell (<see cref="StoreRecallOptions.PerTrial"/>); false: online, as in the paper.</summary>
    public bool PerTrial { get; init; }
    /// <summary>Worker threads (one cell per thread).</summary>
    public int Threads { get; init; } = 1;
    /// <summary>This run takes the cells with canonical index % <see cref="ShardCount"/> == <see cref="ShardIndex"/>.</summary>
    public int ShardIndex { get; init; }
    /// <summary>Number of shards.</summary>
    public int ShardCount { get; init; } = 1;
    /// <summary>Stop after computing this many cells in this run (null: no limit); for tests of resuming.</summary>
    public int? MaxNewCells { get; init; }

    /// <summary>Checks the options; throws <see cref="ArgumentException"/>.</summary>
    public void Validate()
    {
        if (Rows.Count == 0 || TauValues.Count == 0) throw new ArgumentException("the grid needs at least one R (or ltts) and one tau*");
        if (Rows.Distinct().Count() != Rows.Count || TauValues.Distinct().Count() != TauValues.Count) throw new ArgumentException("R and tau* values must not repeat");
        if (Seeds < 1) throw new ArgumentException("Seeds must be ≥ 1");
        if (Threads < 1) throw new ArgumentException("Threads must be ≥ 1");
        if (ShardCount < 1 || ShardIndex < 0 || ShardIndex >= ShardCount) throw new ArgumentException($"shard {ShardIndex}/{ShardCount}: need 0 ≤ i < n");
        if (Epochs < 1) throw new ArgumentException("Epochs must be ≥ 1");
        if (EtaScaled is { } e && !(e > 0 && double.IsFinite(e))) throw new ArgumentException("EtaScaled must be finite and > 0");
        if (StepPerFeedbackNorm is { } st && !(st > 0 && double.IsFinite(st))) throw new ArgumentException("StepPerFeedbackNorm must be finite and > 0");
        if (EtaScaled is not null && StepPerFeedbackNorm is not null) throw new ArgumentException("EtaScaled and StepPerFeedbackNorm exclude each other");
        foreach (var cell in AllCells()) CellOptions(cell).Validate();
    }

    /// <summary>Every cell in canonical order: rows as given, then τ⋆ as given, then seeds ascending.</summary>
    public IReadOnlyList<SweepCell> AllCells() =>
        [.. from row in Rows from tau in TauValues from s in Enumerable.Range(1, Seeds) select new SweepCell(row, tau, (ulong)s)];

    /// <summary>The cells of this shard (canonical index % n == i).</summary>
    public IReadOnlyList<SweepCell> ShardCells() => [.. AllCells().Where((_, i) => i % ShardCount == ShardIndex)];

    /// <summary>The options of one cell: a pure function of (row, τ⋆, seed) and these options.</summary>
    public StoreRecallOptions CellOptions(SweepCell cell)
    {
        int r = cell.Row.Rank ?? Neurons;
        return new StoreRecallOptions
        {
            Neurons = Neurons,
            Steps = Steps,
            Rank = r,
            Ltts = cell.Row.IsLtts,
            TauStarDt = cell.TauStarDt,
            Epochs = Epochs,
            Seed = cell.Seed,
            LearningRate = EtaScaled is { } x ? LearningRate.SqrtNOverR(x, Neurons, r) : null,
            StepPerFeedbackNorm = StepPerFeedbackNorm,
            PerTrial = PerTrial,
        };
    }
}

/// <summary>The stored result of one sweep cell (<c>cells/&lt;key&gt;.json</c>).</summary>
public sealed record SweepCellResult
{
    /// <summary>"3" … or "ltts".</summary>
    public required string Row { get; init; }
    /// <summary>R (N for LTTS).</summary>
    public required int Rank { get; init; }
    /// <summary>τ⋆/dt.</summary>
    public required double TauStarDt { get; init; }
    /// <summary>Seed.</summary>
    public required ulong Seed { get; init; }
    /// <summary>N.</summary>
    public required int Neurons { get; init; }
    /// <summary>T.</summary>
    public required int Steps { get; init; }
    /// <summary>Epochs run.</summary>
    public required int Epochs { get; init; }
    /// <summary>Name of the learning-rate scaling.</summary>
    public required string EtaName { get; init; }
    /// <summary>η.</summary>
    public required double Eta { get; init; }
    /// <summary>Feedback name.</summary>
    public required string Feedback { get; init; }
    /// <summary>Readout limit (MSE of the trained readout on ŝ*).</summary>
    public required double ReadoutLimit { get; init; }
    /// <summary>True when the cell used per-trial updates (false: online; also in cells written before it was recorded).</summary>
    public bool PerTrial { get; init; }
    /// <summary>X of η = X/‖D‖₂ when the cell used that rate (<see cref="StoreRecallOptions.StepPerFeedbackNorm"/>), else null.</summary>
    public double? StepPerFeedbackNorm { get; init; }
    /// <summary>‖D‖₂ of the feedback (0 in cells written before it was recorded).</summary>
    public double FeedbackNorm { get; init; }
    /// <summary>tr D (0 in cells written before it was recorded).</summary>
    public double FeedbackTrace { get; init; }
    /// <summary>Σ z*.</summary>
    public required long TargetSpikes { get; init; }
    /// <summary>Mean MSE over the last 10 % of epochs (at least one).</summary>
    public required double FinalMse { get; init; }
    /// <summary>Mean ΔS over the last 10 % of epochs (at least one).</summary>
    public required double FinalSpikeError { get; init; }
    /// <summary>Epochs to converge, see <see cref="StoreRecallSweep.EpochsToConverge"/>.</summary>
    public required int EpochsToConverge { get; init; }
    /// <summary>Wall seconds per epoch (informative; not in results.csv).</summary>
    public required double SecondsPerEpoch { get; init; }
    /// <summary>MSE per epoch.</summary>
    public required double[] Mse { get; init; }
    /// <summary>ΔS per epoch.</summary>
    public required double[] SpikeError { get; init; }
    /// <summary>Target y*[t][k].</summary>
    public required double[][] Target { get; init; }
    /// <summary>Recalled y[t][k] of the last epoch.</summary>
    public required double[][] FinalOutput { get; init; }

    /// <summary>The grid row.</summary>
    [JsonIgnore] public SweepRow GridRow => SweepRow.Parse(Row);
}

/// <summary>Progress of a sweep run.</summary>
/// <param name="Done">Cells finished (including those found on disk).</param>
/// <param name="Total">Cells of this shard.</param>
/// <param name="Computed">Cells computed in this run.</param>
/// <param name="Last">Key of the cell just finished (null at the start).</param>
public readonly record struct SweepProgress(int Done, int Total, int Computed, string? Last);

/// <summary>
/// The (R, τ⋆) sweep of the store-and-recall task (Capone, Muratore &amp; Paolucci 2022, Fig. 2 D–F; MODELS.md §4.1).
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
        var rate = r.Rate;
        return new SweepCellResult
        {
            Row = cell.Row.Label,
            Rank = o.Rank,
            TauStarDt = cell.TauStarDt,
            Seed = cell.Seed,
            Neurons = o.Neurons,
            Steps = o.Steps,
            Epochs = r.Mse.Length,
            EtaName = rate.Name,
            Eta = rate.Eta,
            Feedback = r.Feedback,
            ReadoutLimit = r.ReadoutLimit,
            PerTrial = o.PerTrial,
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
            Target = task.Target,
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
                throw new InvalidOperationException($"{path} was made with other options (N, T, epochs, eta or per-trial updates); use another output folder");
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
                g.Average(c => c.ReadoutLimit), g.Average(c => c.FinalMse), g.Average(c => c.FinalSpikeError), g.Average(c => (double)c.EpochsToConverge), g.Average(c => (double)c.TargetSpikes)))
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
    double ReadoutLimit, double FinalMse, double FinalSpikeError, double EpochsToConverge, double TargetSpikes);
