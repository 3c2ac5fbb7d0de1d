using System.CommandLine;
using System.Globalization;
using Sim.Cli.Commands;
using Sim.Experiments;
using Sim.Plasticity.Controllers;

namespace Sim.Cli;

/// <summary>
/// <c>sim task volatility</c>: the 2×2 design of Piray &amp; Daw (2021) (true volatility × true stochasticity) with the
/// particle-filter controller, its two lesions and optionally the volatile Kalman filter (docs/tasks/volatility.md).
/// </summary>
public static class VolatilityCommand
{
    private static readonly string[] ModelNames = [.. Enum.GetValues<VolatilityModel>().Select(VolatilityTask.ModelName)];

    /// <summary>The definition of <c>sim task volatility</c>.</summary>
    internal static Command Build(CliIO io)
    {
        var d = new VolatilityTaskOptions();
        var simulations = SimOptions.Int("--simulations", $"simulated sequences per condition (default {d.Simulations}; the paper: 10000)", 1, d.Simulations);
        var trials = SimOptions.Int("--trials", $"trials per sequence (default {d.Trials}); the summary averages the last 10 %", 2, d.Trials, "T");
        var seed = SimOptions.Seed("seed of the sequences and of the particles (default 1)");
        var threads = SimOptions.Threads("worker threads; the result is the same for any count", 1);
        var models = SimOptions.Make<string[]>("--models", $"controllers, comma-separated: {string.Join(", ", ModelNames)} (default healthy,stochasticity-lesion,volatility-lesion)", "LIST", s =>
        {
            var parts = s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) return (null, $"is not a comma-separated list of {string.Join(", ", ModelNames)}");
            foreach (var p in parts)
                if (!ModelNames.Contains(p)) return (null, $"holds '{p}', which is not one of {string.Join(", ", ModelNames)}");
            return parts.Distinct().Count() == parts.Length ? (parts, null) : (null, "repeats a value");
        });
        var vols = SimOptions.PositiveList("--volatilities", "true volatilities (variance of the random-walk step; default 0.5,1.5)");
        var stcs = SimOptions.PositiveList("--stochasticities", "true stochasticities (variance of the observation noise; default 1,3)");
        var particles = SimOptions.Int("--particles", $"particles of the filter (default {d.Filter.Particles})", 2, d.Filter.Particles, "P");
        var lambdaV = Rate("--lambda-v", "volatility update rate lambda_v of the filter", d.Filter.VolatilityRate);
        var lambdaS = Rate("--lambda-s", "stochasticity update rate lambda_s of the filter", d.Filter.StochasticityRate);
        var v0 = SimOptions.Positive("--v0", FormattableString.Invariant($"initial volatility of the filter, the fixed one of the volatility lesion (default {d.Filter.InitialVolatility})"), "X", d.Filter.InitialVolatility);
        var s0 = SimOptions.Positive("--s0", FormattableString.Invariant($"initial stochasticity of the filter, the fixed one of the stochasticity lesion (default {d.Filter.InitialStochasticity})"), "X", d.Filter.InitialStochasticity);
        var w0 = SimOptions.Positive("--w0", FormattableString.Invariant($"prior variance of the hidden state (default {d.Filter.InitialUncertainty})"), "X", d.Filter.InitialUncertainty);
        var vkfLambda = SimOptions.Make("--vkf-lambda", FormattableString.Invariant($"volatility learning rate lambda of the VKF, in [0, 1] (default {d.VkfLambda})"), "X",
            s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= 0 && v <= 1 ? (v, (string?)null) : (0, "is not a number in [0, 1]"), d.VkfLambda, hasDefault: true);
        var vkfV0 = SimOptions.Positive("--vkf-v0", FormattableString.Invariant($"initial volatility of the VKF (default {d.VkfV0})"), "X", d.VkfV0);
        var vkfOmega = SimOptions.Positive("--vkf-omega", FormattableString.Invariant($"noise variance omega of the VKF, its fixed stochasticity (default {d.VkfOmega})"), "X", d.VkfOmega);
        var noPlot = SimOptions.NoPlot("the figures");
        var outDir = SimOptions.Out("write DIR/volatility.csv (per-trial curves), DIR/summary.csv, DIR/summary.txt and the figures DIR/learning-rate.png, DIR/estimates-volatility.png, DIR/estimates-stochasticity.png, DIR/curves.png");
        var cmd = new SimCommand("volatility", "Learning-rate controllers in the 2x2 design of Piray & Daw (2021): true volatility x true stochasticity, a random walk observed in noise, the particle filter that infers both, its stochasticity and volatility lesions, and the volatile Kalman filter (docs/tasks/volatility.md). Prints the learning rate and the estimated volatility and stochasticity per condition (means over the last 10 % of trials +- standard errors over simulations).", """
            Every model sees the same outcome sequences. The result is a pure function of the options and the seed: the
            same bits for any --threads.
            Exit codes: 0 ok, 2 bad arguments, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.
            """)
        { simulations, trials, seed, threads, models, vols, stcs, particles, lambdaV, lambdaS, v0, s0, w0, vkfLambda, vkfV0, vkfOmega, noPlot, outDir };
        return cmd.Does(r =>
        {
            var o = new VolatilityTaskOptions
            {
                Simulations = r.GetValue(simulations),
                Trials = r.GetValue(trials),
                Seed = r.GetValue(seed) ?? 1,
                Threads = SimOptions.ThreadCount(r.GetValue(threads)),
                Models = r.GivenValue(models) is { } ms ? [.. ms.Select(m => VolatilityTask.ParseModel(m)!.Value)] : d.Models,
                Volatilities = r.GivenValue(vols) ?? d.Volatilities,
                Stochasticities = r.GivenValue(stcs) ?? d.Stochasticities,
                Filter = new VolatilityStochasticityOptions
                {
                    Particles = r.GetValue(particles),
                    VolatilityRate = r.GetValue(lambdaV),
                    StochasticityRate = r.GetValue(lambdaS),
                    InitialVolatility = r.GetValue(v0),
                    InitialStochasticity = r.GetValue(s0),
                    InitialUncertainty = r.GetValue(w0),
                },
                VkfLambda = r.GetValue(vkfLambda),
                VkfV0 = r.GetValue(vkfV0),
                VkfOmega = r.GetValue(vkfOmega),
            };
            return Execute(o, r.GetValue(noPlot), r.GetValue(outDir), io.Out, io.Err);
        });
    }

    private static Option<double> Rate(string name, string description, double defaultValue) =>
        SimOptions.Make(name, FormattableString.Invariant($"{description}, in (0, 1) (default {defaultValue})"), "X",
            s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && v < 1 ? (v, (string?)null) : (0, "is not a number in (0, 1)"),
            defaultValue, hasDefault: true);

    /// <summary>Runs the design; returns the exit code.</summary>
    public static int Execute(VolatilityTaskOptions o, bool noPlot, string? outDir, TextWriter stdout, TextWriter stderr)
    {
        try { o.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }   // the option parsers catch every value first
        if (outDir is not null) OutputFolder.EnsureWritable(outDir, "--out");
        stdout.WriteLine(FormattableString.Invariant(
            $"volatility: {o.Volatilities.Count}x{o.Stochasticities.Count} design (v {string.Join(",", o.Volatilities)} x s {string.Join(",", o.Stochasticities)}), {o.Trials} trials, {o.Simulations} simulations, seed {o.Seed}, models {string.Join(",", o.Models.Select(VolatilityTask.ModelName))}, {o.Threads} thread(s)"));
        using var cts = new Interruption();   // Ctrl-C, SIGTERM, SIGHUP
        VolatilityResult result;
        try { result = VolatilityTask.Run(o, cts.Token); }
        catch (OperationCanceledException) { stderr.WriteLine("sim: interrupted"); return cts.ExitCode; }
        string controllers = string.Join(Environment.NewLine, result.Cells.Select(c => c.Controller).Distinct().Select(n => "controller: " + n));
        string table = result.Table();
        stdout.WriteLine(controllers);
        stdout.Write(table);
        stdout.WriteLine(FormattableString.Invariant($"time: {result.Seconds:F2} s"));
        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            File.WriteAllText(Path.Combine(outDir, "volatility.csv"), result.CurvesCsv());
            File.WriteAllText(Path.Combine(outDir, "summary.csv"), result.SummaryCsv());
            File.WriteAllText(Path.Combine(outDir, "summary.txt"), controllers + Environment.NewLine + table);
            stdout.WriteLine($"wrote {Path.Combine(outDir, "volatility.csv")}, {Path.Combine(outDir, "summary.csv")}, {Path.Combine(outDir, "summary.txt")}");
            if (!noPlot)
            {
                stdout.WriteLine($"wrote {VolatilityPlots.EndBars(result, Path.Combine(outDir, "learning-rate.png"))}");
                stdout.WriteLine($"wrote {VolatilityPlots.EndBars(result, Path.Combine(outDir, "estimates-volatility.png"), "estimated volatility")}");
                stdout.WriteLine($"wrote {VolatilityPlots.EndBars(result, Path.Combine(outDir, "estimates-stochasticity.png"), "estimated stochasticity")}");
                stdout.WriteLine($"wrote {VolatilityPlots.Curves(result, Path.Combine(outDir, "curves.png"))}");
            }
        }
        return ExitCodes.Ok;
    }
}
