using System.Globalization;
using System.Text;
using Sim.Plasticity;
using Sim.Plasticity.Perturbation;

namespace Sim.Experiments;

/// <summary>The tasks of <c>sim task perturbation</c>.</summary>
public enum PerturbationTaskKind
{
    /// <summary>The analytically tractable task (<see cref="AnalyticPerturbationTask"/>).</summary>
    Analytic,
    /// <summary>The reservoir task (<see cref="ReservoirPerturbationTask"/>).</summary>
    Reservoir,
}

/// <summary>
/// The options of the perturbation task (docs/tasks/perturbation.md): rules, the analytic task, trials, the equalised
/// perturbation strength σ_eff, the learning rate (default: each rule's optimal one), weight decay, seeds and the task
/// durations T of the duration study.
/// </summary>
public sealed record PerturbationTaskOptions
{
    /// <summary>The task: the analytic one (<see cref="Task"/>) or the reservoir (<see cref="Reservoir"/>).</summary>
    public PerturbationTaskKind Kind { get; init; } = PerturbationTaskKind.Analytic;
    /// <summary>The reservoir task, for <see cref="PerturbationTaskKind.Reservoir"/>.</summary>
    public ReservoirTaskOptions Reservoir { get; init; } = new();
    /// <summary>The rules compared (each sees the same trial inputs for a seed).</summary>
    public IReadOnlyList<PerturbationRule> Rules { get; init; } = [PerturbationRule.Wp, PerturbationRule.Np];
    /// <summary>The analytic task (its <see cref="AnalyticTaskOptions.Duration"/> is replaced by each of <see cref="Durations"/> when given).</summary>
    public AnalyticTaskOptions Task { get; init; } = new();
    /// <summary>Task durations T of the duration study; empty: only <see cref="AnalyticTaskOptions.Duration"/>.</summary>
    public IReadOnlyList<int> Durations { get; init; } = [];
    /// <summary>Trials per run.</summary>
    public int Trials { get; init; } = 10_000;
    /// <summary>σ_eff &gt; 0, the s.d. of the output perturbation per output and time bin (equalised: NP σ = σ_eff, WP σ_W = σ_eff/√(α²n)); 1e-10 is the σ → 0 limit.</summary>
    public double Sigma { get; init; } = 1e-10;
    /// <summary>η ≥ 0 for every rule; null: each rule's optimal η (<see cref="AnalyticPerturbationTask.OptimalLearningRate"/>).</summary>
    public double? LearningRate { get; init; }
    /// <summary>λ ∈ [0, 1): W ← (1 − λ)(W + ΔW).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Seeds 1..S.</summary>
    public int Seeds { get; init; } = 20;
    /// <summary>Worker threads; the result is the same bits for any count.</summary>
    public int Threads { get; init; } = 1;
    /// <summary>The final error is the mean over the last <see cref="EndFraction"/> of the trials.</summary>
    public double EndFraction { get; init; } = 0.1;

    /// <summary>The trials the final error averages (at least one).</summary>
    public int EndTrials => Math.Max(1, (int)Math.Round(EndFraction * Trials));

    /// <summary>The durations run: <see cref="Durations"/>, or the task's one duration.</summary>
    public IReadOnlyList<int> DurationsRun => Kind == PerturbationTaskKind.Reservoir ? [Reservoir.Duration] : Durations.Count > 0 ? Durations : [Task.Duration];

    /// <summary>The tasks run, one per duration.</summary>
    public IPerturbationTask[] BuildTasks() => Kind == PerturbationTaskKind.Reservoir
        ? [new ReservoirPerturbationTask(Reservoir)]
        : [.. DurationsRun.Select(t => new AnalyticPerturbationTask(Task with { Duration = t }))];

    /// <summary>Throws an <see cref="ArgumentException"/> whose message starts with the quantity at fault ("sigma: …").</summary>
    public void Validate()
    {
        if (Rules.Count == 0 || Rules.Distinct().Count() != Rules.Count || Rules.Any(r => !Enum.IsDefined(r))) throw new ArgumentException("rule: give distinct known rules");
        if (Trials < 1) throw new ArgumentException($"trials: must be at least 1 (got {Trials})");
        if (!(Sigma > 0) || !double.IsFinite(Sigma)) throw new ArgumentException($"sigma: must be finite and > 0 (got {Sigma})");
        if (LearningRate is { } e && (!(e >= 0) || !double.IsFinite(e))) throw new ArgumentException($"eta: must be finite and >= 0 (got {e})");
        if (!(WeightDecay >= 0 && WeightDecay < 1)) throw new ArgumentException($"decay: must lie in [0, 1) (got {WeightDecay})");
        if (Seeds < 1) throw new ArgumentException($"seeds: must be at least 1 (got {Seeds})");
        if (Threads < 1) throw new ArgumentException($"threads: must be at least 1 (got {Threads})");
        if (!(EndFraction > 0 && EndFraction <= 1)) throw new ArgumentException("end-fraction: must lie in (0, 1]");
        if (Durations.Distinct().Count() != Durations.Count) throw new ArgumentException("durations: repeats a value");
        if (!Enum.IsDefined(Kind)) throw new ArgumentException("task: unknown task");
        if (Kind == PerturbationTaskKind.Reservoir)
        {
            if (Durations.Count > 0) throw new ArgumentException("durations: the duration study runs on the analytic task only");
            Reservoir.Validate();
        }
        else foreach (int t in DurationsRun) (Task with { Duration = t }).Validate();
    }
}

/// <summary>A mean over seeds and its sample standard deviation.</summary>
public readonly record struct MeanSd(double Mean, double Sd)
{
    /// <summary>Mean and sample s.d. (0 for one value) of <paramref name="x"/>.</summary>
    public static MeanSd Of(ReadOnlySpan<double> x)
    {
        double m = 0;
        foreach (double v in x) m += v;
        m /= x.Length;
        if (x.Length < 2) return new(m, 0);
        double ss = 0;
        foreach (double v in x) ss += (v - m) * (v - m);
        return new(m, Math.Sqrt(ss / (x.Length - 1)));
    }
}

/// <summary>
/// One rule at one duration: the error per trial (mean and s.d. over seeds), the closed-form prediction, the final
/// error (per seed the mean of the last trials, then mean ± s.d. over seeds) and the deviations of the seed-mean curve
/// from the prediction: the largest relative one max_t |mean_t − pred_t|/pred_t (at trial <c>MaxDeviationTrial</c>),
/// the largest in standard errors of the mean, max_t |mean_t − pred_t|/(sd_t/√S), and the largest relative one of the
/// means over windows of <see cref="PerturbationTask.Window"/> trials (which averages out the trial-to-trial noise of
/// the randomly drawn subtasks).
/// </summary>
public sealed record PerturbationCell(PerturbationRule Rule, int Duration, double LearningRate, double Sigma, double[] Mean, double[] Sd, double[] Predicted,
    MeanSd Final, double PredictedFinal, double PredictedLimit, double MaxRelativeDeviation, int MaxDeviationTrial, double MaxStandardDeviation, double MaxWindowDeviation)
{
    /// <summary>The rule's name.</summary>
    public string RuleName => PerturbationRules.Name(Rule);
}

/// <summary>The result of the perturbation task.</summary>
public sealed record PerturbationResult(PerturbationTaskOptions Options, IReadOnlyList<PerturbationCell> Cells, double InitialError, double IrreducibleError, string Description, double Seconds)
{

    /// <summary>The cell of a rule and duration.</summary>
    public PerturbationCell Cell(PerturbationRule rule, int duration) => Cells.First(c => c.Rule == rule && c.Duration == duration);

    /// <summary>The summary table, one row per rule and duration.</summary>
    public string Table()
    {
        var sb = new StringBuilder();
        var o = Options;
        sb.AppendLine(Description);
        sb.AppendLine(FormattableString.Invariant($"sigma_eff = {o.Sigma:G3}, decay {o.WeightDecay:G3}"));
        sb.AppendLine(FormattableString.Invariant($"final error: mean of the last {o.EndTrials} of {o.Trials} trials, mean +- s.d. over {o.Seeds} seeds"));
        sb.AppendLine(FormattableString.Invariant($"max dev: largest |mean - predicted|/predicted over trials (at trial), in standard errors of the mean, and over means of {PerturbationTask.Window(o.Trials)}-trial windows"));
        sb.AppendLine("rule       T        eta        sigma   final error            predicted  limit      final/E_opt  max dev (trial)      in s.e.  windows");
        foreach (var c in Cells)
            sb.AppendLine(FormattableString.Invariant(
                $"{c.RuleName,-7} {c.Duration,4}  {c.LearningRate,10:G4}  {c.Sigma,10:G3}   {c.Final.Mean,9:G5} +- {c.Final.Sd,-9:G3}  {c.PredictedFinal,9:G5}  {c.PredictedLimit,9:G5}  {(IrreducibleError > 1e-6 * InitialError ? (c.Final.Mean / IrreducibleError).ToString("F3", CultureInfo.InvariantCulture) : "-"),8}     {c.MaxRelativeDeviation * 100,6:F2} % ({c.MaxDeviationTrial,6})  {c.MaxStandardDeviation,6:F2}  {c.MaxWindowDeviation * 100,6:F2} %"));
        return sb.ToString();
    }

    /// <summary>The curves as CSV: rule, duration, trial (0-based), mean and s.d. of the error over seeds, the prediction.</summary>
    public string CurvesCsv()
    {
        var sb = new StringBuilder("rule,duration,trial,error_mean,error_sd,predicted\n");
        foreach (var c in Cells)
            for (int t = 0; t < c.Mean.Length; t++)
                sb.Append(CultureInfo.InvariantCulture, $"{c.RuleName},{c.Duration},{t},{c.Mean[t]:R},{c.Sd[t]:R},{c.Predicted[t]:R}\n");
        return sb.ToString();
    }

    /// <summary>The summary as CSV, one row per rule and duration.</summary>
    public string SummaryCsv()
    {
        var sb = new StringBuilder("rule,duration,eta,sigma,sigma_eff,decay,trials,seeds,end_trials,final_mean,final_sd,predicted_final,predicted_limit,irreducible_error,max_relative_deviation,max_deviation_trial,max_deviation_se,max_window_deviation,window\n");
        foreach (var c in Cells)
            sb.Append(CultureInfo.InvariantCulture,
                $"{c.RuleName},{c.Duration},{c.LearningRate:R},{c.Sigma:R},{Options.Sigma:R},{Options.WeightDecay:R},{Options.Trials},{Options.Seeds},{Options.EndTrials},{c.Final.Mean:R},{c.Final.Sd:R},{c.PredictedFinal:R},{c.PredictedLimit:R},{IrreducibleError:R},{c.MaxRelativeDeviation:R},{c.MaxDeviationTrial},{c.MaxStandardDeviation:R},{c.MaxWindowDeviation:R},{PerturbationTask.Window(Options.Trials)}\n");
        return sb.ToString();
    }
}

/// <summary>
/// Runs WP, NP, WP0 and hybrid perturbation on the analytic or the reservoir task (docs/tasks/perturbation.md): per
/// rule, duration and seed s a readout from W = 0 through the trials, trial k's inputs from (s, <see cref="PlasticityRandom.PerturbationTaskPurpose"/>, k)
/// on the analytic task (the same for every rule; the reservoir's are the same in every trial) and its perturbation from (s, <see cref="PlasticityRandom.PerturbationPurpose"/>, k). Each
/// run writes its own curve; the reduction over seeds runs in seed order, so the result is the same bits for any
/// thread count.
/// </summary>
public static class PerturbationTask
{
    /// <summary>The window of the windowed deviation: 1 % of the trials (at least 1).</summary>
    public static int Window(int trials) => Math.Max(1, trials / 100);

    /// <summary>The learning rate a rule runs with: the given one or the rule's optimal one.</summary>
    public static double LearningRate(PerturbationTaskOptions o, IPerturbationTask task, PerturbationRule rule) => o.LearningRate ?? task.OptimalLearningRate(rule);

    /// <summary>One run: the unperturbed error of every trial of seed <paramref name="seed"/>.</summary>
    public static double[] Errors(IPerturbationTask task, PerturbationRule rule, double eta, double sigma, double decay, ulong seed, int trials, CancellationToken cancellationToken = default)
    {
        var readout = new LinearPerturbationReadout(rule, task.Outputs, task.Inputs, task.Duration, eta, sigma, decay);
        var x = new double[task.Inputs * task.Duration];
        var y = new double[task.Outputs * task.Duration];
        var e = new double[trials];
        for (int k = 0; k < trials; k++)
        {
            if ((k & 255) == 0) cancellationToken.ThrowIfCancellationRequested();
            task.Trial(seed, k, x, y);
            e[k] = readout.Trial(x, y, PlasticityRandom.Key(seed, PlasticityRandom.PerturbationPurpose, (ulong)k)).Error;
        }
        return e;
    }

    /// <summary>Runs every rule at every duration over the seeds.</summary>
    public static PerturbationResult Run(PerturbationTaskOptions o, CancellationToken cancellationToken = default)
    {
        o.Validate();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var durations = o.DurationsRun;
        var tasks = o.BuildTasks();
        int nr = o.Rules.Count, nd = durations.Count, ns = o.Seeds;
        var runs = new double[nd * nr * ns][];
        void Work(int item)
        {
            int s = item % ns, rd = item / ns, r = rd % nr, d = rd / nr;
            var task = tasks[d];
            var rule = o.Rules[r];
            runs[item] = Errors(task, rule, LearningRate(o, task, rule), task.PerturbationStrength(rule, o.Sigma), o.WeightDecay, (ulong)(s + 1), o.Trials, cancellationToken);
        }
        int items = runs.Length;
        if (o.Threads == 1) for (int i = 0; i < items; i++) Work(i);
        else Parallel.For(0, items, new ParallelOptions { MaxDegreeOfParallelism = o.Threads, CancellationToken = cancellationToken }, Work);

        var cells = new List<PerturbationCell>();
        int end = o.EndTrials, n = o.Trials;
        for (int d = 0; d < nd; d++)
            for (int r = 0; r < nr; r++)
            {
                var task = tasks[d];
                var rule = o.Rules[r];
                double eta = LearningRate(o, task, rule), sigma = task.PerturbationStrength(rule, o.Sigma);
                var mean = new double[n];
                var sd = new double[n];
                var finals = new double[ns];
                var column = new double[ns];
                for (int t = 0; t < n; t++)
                {
                    for (int s = 0; s < ns; s++) column[s] = runs[(d * nr + r) * ns + s][t];
                    (mean[t], sd[t]) = MeanSd.Of(column);
                }
                for (int s = 0; s < ns; s++) finals[s] = runs[(d * nr + r) * ns + s].AsSpan(n - end).ToArray().Average();
                var predicted = task.PredictedError(rule, eta, sigma, o.WeightDecay, n);
                double dev = 0, devSe = 0, devWindow = 0;
                int at = 0, w = Window(n);
                for (int t = 0; t < n; t++)
                {
                    double rel = Math.Abs(mean[t] - predicted[t]) / predicted[t];
                    if (rel > dev) { dev = rel; at = t; }
                    double se = sd[t] / Math.Sqrt(ns);
                    if (se > 1e-9 * predicted[t]) devSe = Math.Max(devSe, Math.Abs(mean[t] - predicted[t]) / se);   // not where every seed has the same error (trial 0)
                }
                for (int t0 = 0; t0 + w <= n; t0 += w)
                {
                    double sm = 0, sp = 0;
                    for (int t = t0; t < t0 + w; t++) { sm += mean[t]; sp += predicted[t]; }
                    devWindow = Math.Max(devWindow, Math.Abs(sm - sp) / sp);
                }
                double limit = o.WeightDecay > 0 ? double.NaN : task.PredictedFinalError(rule, eta, sigma);
                cells.Add(new PerturbationCell(rule, durations[d], eta, sigma, mean, sd, predicted, MeanSd.Of(finals), predicted.AsSpan(n - end).ToArray().Average(), limit, dev, at, devSe, devWindow));
            }
        return new PerturbationResult(o, cells, tasks[0].InitialError, tasks[0].IrreducibleError, string.Join(Environment.NewLine, tasks.Select(t => t.Description).Distinct()), clock.Elapsed.TotalSeconds);
    }
}
