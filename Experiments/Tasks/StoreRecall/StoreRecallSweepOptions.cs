using System.Globalization;
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

/// <summary>Options of a store-and-recall sweep (docs/tasks/store_recall.md). Defaults: the paper's grid, 1 seed.</summary>
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
    /// <summary>The authors' one-step teacher lag (<see cref="StoreRecallOptions.TeacherLag"/>) in every cell.</summary>
    public bool TeacherLag { get; init; }
    /// <summary>σ of the initial W_rec in every cell (<see cref="StoreRecallOptions.InitialRecurrentSd"/>; 0: W_rec starts at 0).</summary>
    public double InitialRecurrentSd { get; init; }
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
            TeacherLag = TeacherLag,
            InitialRecurrentSd = InitialRecurrentSd,
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
    /// <summary>The teacher lag of the cell (absent in cells made before the option: false).</summary>
    public bool TeacherLag { get; init; }
    /// <summary>σ of the initial W_rec of the cell (absent in cells made before the option: 0).</summary>
    public double InitialRecurrentSd { get; init; }
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
