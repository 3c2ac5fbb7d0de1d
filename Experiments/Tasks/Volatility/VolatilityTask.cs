using System.Globalization;
using System.Text;
using Sim.Plasticity;
using Sim.Plasticity.Controllers;

namespace Sim.Experiments;

/// <summary>The learning-rate controllers compared in the volatility task.</summary>
public enum VolatilityModel
{
    /// <summary>The particle filter inferring volatility and stochasticity jointly (Piray &amp; Daw 2021).</summary>
    Healthy,
    /// <summary>The same with the stochasticity fixed at s_0.</summary>
    StochasticityLesion,
    /// <summary>The same with the volatility fixed at v_0.</summary>
    VolatilityLesion,
    /// <summary>The volatile Kalman filter (Piray &amp; Daw 2020): volatility learned, stochasticity fixed at ω.</summary>
    Vkf,
}

/// <summary>
/// The volatility task (docs/tasks/volatility.md): the 2×2 design of Piray &amp; Daw (2021, Fig. 2 and the lesion figure)
/// with true volatility × true stochasticity, many simulated outcome sequences per condition, one controller per model.
/// </summary>
public sealed record VolatilityTaskOptions
{
    /// <summary>True volatilities v (variance of the random-walk step).</summary>
    public IReadOnlyList<double> Volatilities { get; init; } = [0.5, 1.5];
    /// <summary>True stochasticities s (variance of the observation noise).</summary>
    public IReadOnlyList<double> Stochasticities { get; init; } = [1, 3];
    /// <summary>Trials per sequence.</summary>
    public int Trials { get; init; } = 200;
    /// <summary>Simulated sequences per condition (the paper: 10 000).</summary>
    public int Simulations { get; init; } = 1000;
    /// <summary>Seed of the outcome sequences and of the particles.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>The controllers run on every sequence.</summary>
    public IReadOnlyList<VolatilityModel> Models { get; init; } = [VolatilityModel.Healthy, VolatilityModel.StochasticityLesion, VolatilityModel.VolatilityLesion];
    /// <summary>Parameters of the particle filter (its lesion is set per model).</summary>
    public VolatilityStochasticityOptions Filter { get; init; } = new();
    /// <summary>λ of the VKF.</summary>
    public double VkfLambda { get; init; } = 0.1;
    /// <summary>v_0 of the VKF.</summary>
    public double VkfV0 { get; init; } = 1;
    /// <summary>ω of the VKF (its fixed stochasticity; the default equals the filter's s_0).</summary>
    public double VkfOmega { get; init; } = 2;
    /// <summary>Worker threads (the result does not depend on them).</summary>
    public int Threads { get; init; } = 1;
    /// <summary>The summary averages the last <see cref="EndFraction"/> of the trials (the paper: 10 %).</summary>
    public double EndFraction { get; init; } = 0.1;

    /// <summary>The trials the summary averages (at least one).</summary>
    public int EndTrials => Math.Max(1, (int)Math.Round(EndFraction * Trials));

    /// <summary>Throws an <see cref="ArgumentException"/> whose message starts with the property at fault ("Trials: …").</summary>
    public void Validate()
    {
        if (Volatilities.Count == 0 || Volatilities.Any(v => !(v > 0) || !double.IsFinite(v))) throw new ArgumentException($"{nameof(Volatilities)}: give at least one finite volatility > 0");
        if (Stochasticities.Count == 0 || Stochasticities.Any(v => !(v > 0) || !double.IsFinite(v))) throw new ArgumentException($"{nameof(Stochasticities)}: give at least one finite stochasticity > 0");
        if (Volatilities.Distinct().Count() != Volatilities.Count) throw new ArgumentException($"{nameof(Volatilities)}: repeats a value");
        if (Stochasticities.Distinct().Count() != Stochasticities.Count) throw new ArgumentException($"{nameof(Stochasticities)}: repeats a value");
        if (Trials < 2) throw new ArgumentException($"{nameof(Trials)}: must be at least 2 (got {Trials})");
        if (Simulations < 1) throw new ArgumentException($"{nameof(Simulations)}: must be at least 1 (got {Simulations})");
        if (Models.Count == 0 || Models.Distinct().Count() != Models.Count || Models.Any(m => !Enum.IsDefined(m))) throw new ArgumentException($"{nameof(Models)}: give distinct known models");
        if (Threads < 1) throw new ArgumentException($"{nameof(Threads)}: must be at least 1 (got {Threads})");
        if (!(EndFraction > 0 && EndFraction <= 1)) throw new ArgumentException($"{nameof(EndFraction)}: must lie in (0, 1]");
        Filter.Validate();
        _ = new VolatileKalmanFilter(VkfLambda, VkfV0, VkfOmega);   // its own checks
    }
}

/// <summary>One condition of the design.</summary>
public sealed record VolatilityCondition(double Volatility, double Stochasticity)
{
    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"v={Volatility:G4}, s={Stochasticity:G4}");
}

/// <summary>A mean over simulations and its standard error (sample s.d./√n).</summary>
public readonly record struct MeanSe(double Mean, double Se)
{
    /// <summary>Mean and standard error of <paramref name="x"/>.</summary>
    public static MeanSe Of(ReadOnlySpan<double> x)
    {
        double m = 0;
        foreach (double v in x) m += v;
        m /= x.Length;
        if (x.Length < 2) return new(m, 0);
        double ss = 0;
        foreach (double v in x) ss += (v - m) * (v - m);
        return new(m, Math.Sqrt(ss / (x.Length - 1) / x.Length));
    }
}

/// <summary>
/// One model in one condition: per-trial means over simulations (with standard errors) of the learning rate and the
/// estimated volatility and stochasticity, and their means over the last trials (per simulation, then over simulations).
/// </summary>
public sealed record VolatilityCell(VolatilityModel Model, VolatilityCondition Condition, string Controller,
    MeanSe[] LearningRate, MeanSe[] Volatility, MeanSe[] Stochasticity, MeanSe EndLearningRate, MeanSe EndVolatility, MeanSe EndStochasticity);

/// <summary>The result of the volatility task.</summary>
public sealed record VolatilityResult(VolatilityTaskOptions Options, IReadOnlyList<VolatilityCondition> Conditions, IReadOnlyList<VolatilityCell> Cells, double Seconds)
{
    /// <summary>The cell of a model and condition.</summary>
    public VolatilityCell Cell(VolatilityModel model, VolatilityCondition c) => Cells.First(x => x.Model == model && x.Condition == c);

    /// <summary>
    /// The effect of true volatility and of true stochasticity on a model's end learning rate: η at the largest minus η at
    /// the smallest level of one factor, averaged over the levels of the other.
    /// </summary>
    public (double OfVolatility, double OfStochasticity) Effects(VolatilityModel model)
    {
        double vLo = Options.Volatilities.Min(), vHi = Options.Volatilities.Max(), sLo = Options.Stochasticities.Min(), sHi = Options.Stochasticities.Max();
        double Eta(double v, double s) => Cell(model, new(v, s)).EndLearningRate.Mean;
        double ofV = Options.Stochasticities.Average(s => Eta(vHi, s) - Eta(vLo, s));
        double ofS = Options.Volatilities.Average(v => Eta(v, sHi) - Eta(v, sLo));
        return (ofV, ofS);
    }

    /// <summary>The summary table: one row per model and condition (means over the last trials ± standard errors).</summary>
    public string Table()
    {
        var sb = new StringBuilder();
        sb.AppendLine(FormattableString.Invariant($"means over the last {Options.EndTrials} of {Options.Trials} trials, +- standard error over {Options.Simulations} simulations"));
        sb.AppendLine("model                 true v  true s   learning rate          est. volatility        est. stochasticity");
        foreach (var m in Options.Models)
            foreach (var c in Conditions)
            {
                var x = Cell(m, c);
                sb.AppendLine(FormattableString.Invariant(
                    $"{VolatilityTask.ModelName(m),-20}  {c.Volatility,6:G4}  {c.Stochasticity,6:G4}   {x.EndLearningRate.Mean,8:F4} +- {x.EndLearningRate.Se,-8:F4}   {x.EndVolatility.Mean,8:F4} +- {x.EndVolatility.Se,-8:F4}   {x.EndStochasticity.Mean,8:F4} +- {x.EndStochasticity.Se,-8:F4}"));
            }
        if (Options.Volatilities.Count > 1 && Options.Stochasticities.Count > 1)
        {
            sb.AppendLine("effect on the learning rate (largest minus smallest level, averaged over the other factor):");
            foreach (var m in Options.Models)
            {
                var (ofV, ofS) = Effects(m);
                sb.AppendLine(FormattableString.Invariant(
                    $"{VolatilityTask.ModelName(m),-20}  volatility {ofV,8:+0.0000;-0.0000} ({(ofV > 0 ? "rises" : "falls")}),  stochasticity {ofS,8:+0.0000;-0.0000} ({(ofS > 0 ? "rises" : "falls")})"));
            }
        }
        return sb.ToString();
    }

    /// <summary>The summary as CSV: model, condition, the three end means and their standard errors.</summary>
    public string SummaryCsv()
    {
        var sb = new StringBuilder("model,true_volatility,true_stochasticity,learning_rate,learning_rate_se,volatility,volatility_se,stochasticity,stochasticity_se,simulations,end_trials\n");
        foreach (var x in Cells)
            sb.Append(CultureInfo.InvariantCulture,
                $"{VolatilityTask.ModelName(x.Model)},{x.Condition.Volatility:R},{x.Condition.Stochasticity:R},{x.EndLearningRate.Mean:R},{x.EndLearningRate.Se:R},{x.EndVolatility.Mean:R},{x.EndVolatility.Se:R},{x.EndStochasticity.Mean:R},{x.EndStochasticity.Se:R},{Options.Simulations},{Options.EndTrials}\n");
        return sb.ToString();
    }

    /// <summary>The per-trial curves as CSV: model, condition, trial (1-based), means over simulations and standard errors.</summary>
    public string CurvesCsv()
    {
        var sb = new StringBuilder("model,true_volatility,true_stochasticity,trial,learning_rate,learning_rate_se,volatility,volatility_se,stochasticity,stochasticity_se\n");
        foreach (var x in Cells)
            for (int t = 0; t < Options.Trials; t++)
                sb.Append(CultureInfo.InvariantCulture,
                    $"{VolatilityTask.ModelName(x.Model)},{x.Condition.Volatility:R},{x.Condition.Stochasticity:R},{t + 1},{x.LearningRate[t].Mean:R},{x.LearningRate[t].Se:R},{x.Volatility[t].Mean:R},{x.Volatility[t].Se:R},{x.Stochasticity[t].Mean:R},{x.Stochasticity[t].Se:R}\n");
        return sb.ToString();
    }
}

/// <summary>
/// Runs the volatility task: for every condition (v, s) and simulation i the outcome sequence x_1 = 0,
/// x_t = x_{t−1} + √v·ε_t, o_t = x_t + √s·ε'_t (the authors' <c>sim_2x2.m</c>), drawn from the counter-based RNG under
/// (seed, <see cref="PlasticityRandom.VolatilityTaskPurpose"/>, condition, i), so that every model sees the same
/// sequences; each model's controller has its own key (seed, <see cref="PlasticityRandom.ControllerPurpose"/>, model,
/// condition, i). Simulations are split into fixed blocks whose partial sums are added in block order: the result is
/// the same bits for any thread count.
/// </summary>
public static class VolatilityTask
{
    /// <summary>Simulations per block of the reduction (fixed: the sums do not depend on the thread count).</summary>
    public const int Block = 64;

    /// <summary>The command-line name of a model.</summary>
    public static string ModelName(VolatilityModel m) => m switch
    {
        VolatilityModel.Healthy => "healthy",
        VolatilityModel.StochasticityLesion => "stochasticity-lesion",
        VolatilityModel.VolatilityLesion => "volatility-lesion",
        VolatilityModel.Vkf => "vkf",
        _ => throw new ArgumentOutOfRangeException(nameof(m)),
    };

    /// <summary>The model of a command-line name, or null.</summary>
    public static VolatilityModel? ParseModel(string name) =>
        Enum.GetValues<VolatilityModel>().Cast<VolatilityModel?>().FirstOrDefault(m => ModelName(m!.Value) == name);

    /// <summary>The conditions of the design, volatility-major.</summary>
    public static VolatilityCondition[] Conditions(VolatilityTaskOptions o) =>
        [.. o.Volatilities.SelectMany(v => o.Stochasticities.Select(s => new VolatilityCondition(v, s)))];

    /// <summary>The outcomes of simulation <paramref name="sim"/> in condition number <paramref name="condition"/>.</summary>
    public static double[] Outcomes(ulong seed, int condition, int sim, VolatilityCondition c, int trials)
    {
        ulong key = PlasticityRandom.Key(seed, PlasticityRandom.VolatilityTaskPurpose, ((ulong)(uint)condition << 32) | (uint)sim);
        var o = new double[trials];
        double x = 0, sv = Math.Sqrt(c.Volatility), ss = Math.Sqrt(c.Stochasticity);
        for (int t = 0; t < trials; t++)
        {
            if (t > 0) x += sv * PlasticityRandom.Normal(key, t);
            o[t] = x + ss * PlasticityRandom.Normal(key, trials + t);
        }
        return o;
    }

    /// <summary>The controller of a model for one simulation.</summary>
    public static ILearningRateController Controller(VolatilityTaskOptions o, VolatilityModel model, int condition, int sim)
    {
        ulong key = PlasticityRandom.Key(o.Seed, PlasticityRandom.ControllerPurpose, ((ulong)model << 48) | ((ulong)(uint)condition << 32) | (uint)sim);
        return model switch
        {
            VolatilityModel.Healthy => new VolatilityStochasticityFilter(o.Filter with { Lesion = FilterLesion.None }, key),
            VolatilityModel.StochasticityLesion => new VolatilityStochasticityFilter(o.Filter with { Lesion = FilterLesion.Stochasticity }, key),
            VolatilityModel.VolatilityLesion => new VolatilityStochasticityFilter(o.Filter with { Lesion = FilterLesion.Volatility }, key),
            VolatilityModel.Vkf => new VolatileKalmanFilter(o.VkfLambda, o.VkfV0, o.VkfOmega),
            _ => throw new ArgumentOutOfRangeException(nameof(model)),
        };
    }

    /// <summary>Runs every model on every condition's simulations.</summary>
    public static VolatilityResult Run(VolatilityTaskOptions o, CancellationToken cancellationToken = default)
    {
        o.Validate();
        var start = System.Diagnostics.Stopwatch.StartNew();
        var conditions = Conditions(o);
        int nm = o.Models.Count, nc = conditions.Length, nb = (o.Simulations + Block - 1) / Block, t = o.Trials, end = o.EndTrials;
        // Per block: sums and sums of squares over its simulations of lr, vol, stc per trial (6·T).
        var sums = new double[nm * nc * nb][];
        // Per simulation: its means over the last trials.
        var endLr = new double[nm * nc][];
        var endVol = new double[nm * nc][];
        var endStc = new double[nm * nc][];
        for (int i = 0; i < nm * nc; i++) { endLr[i] = new double[o.Simulations]; endVol[i] = new double[o.Simulations]; endStc[i] = new double[o.Simulations]; }
        var names = new string[nm];
        for (int m = 0; m < nm; m++) names[m] = Controller(o, o.Models[m], 0, 0).Name;

        void Work(int item)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int b = item % nb, mc = item / nb, c = mc % nc, m = mc / nc;
            var s = new double[6 * t];
            for (int sim = b * Block; sim < Math.Min(o.Simulations, (b + 1) * Block); sim++)
            {
                var outcomes = Outcomes(o.Seed, c, sim, conditions[c], t);
                var ctl = Controller(o, o.Models[m], c, sim);
                double el = 0, ev = 0, es = 0;
                for (int k = 0; k < t; k++)
                {
                    var step = ctl.Observe(outcomes[k]);
                    s[k] += step.LearningRate; s[t + k] += step.LearningRate * step.LearningRate;
                    s[2 * t + k] += step.Volatility; s[3 * t + k] += step.Volatility * step.Volatility;
                    s[4 * t + k] += step.Stochasticity; s[5 * t + k] += step.Stochasticity * step.Stochasticity;
                    if (k >= t - end) { el += step.LearningRate; ev += step.Volatility; es += step.Stochasticity; }
                }
                endLr[mc][sim] = el / end; endVol[mc][sim] = ev / end; endStc[mc][sim] = es / end;
            }
            sums[item] = s;
        }

        int items = nm * nc * nb;
        if (o.Threads == 1) for (int i = 0; i < items; i++) Work(i);
        else Parallel.For(0, items, new ParallelOptions { MaxDegreeOfParallelism = o.Threads, CancellationToken = cancellationToken }, Work);

        var cells = new List<VolatilityCell>();
        int n = o.Simulations;
        MeanSe Curve(double sum, double sq)
        {
            double mean = sum / n;
            double var = n > 1 ? Math.Max(0, (sq - n * mean * mean) / (n - 1)) : 0;
            return new(mean, Math.Sqrt(var / n));
        }
        for (int m = 0; m < nm; m++)
            for (int c = 0; c < nc; c++)
            {
                int mc = m * nc + c;
                var tot = new double[6 * t];
                for (int b = 0; b < nb; b++)
                {
                    var s = sums[mc * nb + b];
                    for (int k = 0; k < tot.Length; k++) tot[k] += s[k];
                }
                MeanSe[] Series(int which) => [.. Enumerable.Range(0, t).Select(k => Curve(tot[2 * which * t + k], tot[(2 * which + 1) * t + k]))];
                cells.Add(new VolatilityCell(o.Models[m], conditions[c], names[m], Series(0), Series(1), Series(2),
                    MeanSe.Of(endLr[mc]), MeanSe.Of(endVol[mc]), MeanSe.Of(endStc[mc])));
            }
        return new VolatilityResult(o, conditions, cells, start.Elapsed.TotalSeconds);
    }
}
