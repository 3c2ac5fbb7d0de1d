using System.CommandLine;
using System.Globalization;
using Sim.Cli.Commands;
using Sim.Experiments;
using Sim.Plasticity.Perturbation;

namespace Sim.Cli;

/// <summary>
/// <c>sim task perturbation</c>: weight, node, WP0 and hybrid perturbation of a linear readout on the analytic task of
/// Züge, Klos &amp; Memmesheimer (PRX 2023), with the learning curves against their closed form
/// (docs/tasks/perturbation.md, docs/rules/perturbation.md).
/// </summary>
public static class PerturbationCommand
{
    private static readonly string[] RuleNames = [.. PerturbationRules.All.Select(PerturbationRules.Name)];

    /// <summary>The definition of <c>sim task perturbation</c>.</summary>
    internal static Command Build(CliIO io)
    {
        var d = new PerturbationTaskOptions();
        var rules = SimOptions.Make<string[]>("--rule", $"rules, comma-separated: {string.Join(", ", RuleNames)} (default wp,np)", "LIST", s =>
        {
            var parts = s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) return (null, $"is not a comma-separated list of {string.Join(", ", RuleNames)}");
            foreach (var p in parts)
                if (PerturbationRules.Parse(p) is null) return (null, $"holds '{p}', which is not one of {string.Join(", ", RuleNames)}");
            return parts.Distinct().Count() == parts.Length ? (parts, null) : (null, "repeats a value");
        }, aliases: "--rules");
        var task = SimOptions.Choice("--task", "the task: analytic (the analytically tractable task) or reservoir (a readout of 500 tanh units onto a 2-D butterfly)", "analytic", "analytic", "reservoir");
        var trials = SimOptions.Int("--trials", $"trials per run (default {d.Trials}); the final error averages the last 10 %", 1, d.Trials, "T");
        var sigma = SimOptions.Positive("--sigma", FormattableString.Invariant($"equalised perturbation strength sigma_eff, the s.d. of the output perturbation per output and time bin: NP sigma = sigma_eff, WP sigma_W = sigma_eff/sqrt(alpha^2 N_trial) (default {d.Sigma:G3}: the sigma -> 0 limit)"), "X", d.Sigma);
        var eta = SimOptions.OptionalPositive("--eta", "learning rate of every rule (default: each rule's optimal one, 1/(alpha^2 (D + 2)))", "X", allowZero: true);
        var duration = SimOptions.OptionalInt("--duration", $"task duration T in time bins (default {d.Task.Duration} on the analytic task, at least task-dim + 2; {d.Reservoir.Duration} on the reservoir)", 1, "BINS");
        var durations = SimOptions.IntList("--durations", "durations T of the duration study (each rule at each T; adds DIR/final-vs-duration.png)", 1);
        var decay = SimOptions.Make("--decay", "multiplicative weight decay lambda, W <- (1 - lambda)(W + dW), in [0, 1) (default 0)", "X",
            s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= 0 && v < 1 ? (v, (string?)null) : (0, "is not a number in [0, 1)"), 0.0, hasDefault: true);
        var inputs = SimOptions.Int("--inputs", $"N, inputs (default {d.Task.Inputs})", 1, d.Task.Inputs);
        var outputs = SimOptions.Int("--outputs", $"M, outputs (default {d.Task.Outputs})", 1, d.Task.Outputs, "M");
        var taskDim = SimOptions.Int("--task-dim", $"N_task, latent inputs of the task (default {d.Task.TaskDimension})", 1, d.Task.TaskDimension, "K");
        var trialDim = SimOptions.Int("--trial-dim", $"N_trial, latent inputs active in one trial (default {d.Task.TrialDimension})", 1, d.Task.TrialDimension, "n");
        var irreducible = SimOptions.Positive("--irreducible-error", FormattableString.Invariant($"E_opt, the error no weights can remove (default {d.Task.IrreducibleError})"), "X", d.Task.IrreducibleError, allowZero: true);
        var units = SimOptions.Int("--units", $"reservoir units N (reservoir task; default {d.Reservoir.Units})", 2, d.Reservoir.Units);
        var seed = SimOptions.Seed("seed of the reservoir's random weights (reservoir task; default 1)");
        var seeds = SimOptions.Seeds(d.Seeds);
        var threads = SimOptions.Threads("worker threads; the result is the same for any count", 1);
        var noPlot = SimOptions.NoPlot("the figures");
        var outDir = SimOptions.Out("write DIR/perturbation.csv (per-trial curves), DIR/summary.csv, DIR/summary.txt and the figures DIR/curves.png (and DIR/final-vs-duration.png with --durations)");
        var cmd = new SimCommand("perturbation", "Weight (wp), node (np), WP0 and hybrid perturbation of a linear readout on the analytic task or the reservoir task of Zuege, Klos & Memmesheimer (PRX 2023; docs/tasks/perturbation.md): two runs per trial, the update from their reward difference. Prints each rule's final error against its closed-form prediction and the largest deviation of the measured mean curve from it.", """
            Every rule sees the same trial inputs for a seed. The result is a pure function of the options: the same bits
            for any --threads.
            Exit codes: 0 ok, 2 bad arguments, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.
            """)
        { rules, task, trials, sigma, eta, duration, durations, decay, inputs, outputs, taskDim, trialDim, irreducible, units, seed, seeds, threads, noPlot, outDir };
        SimOptions.Exclusive(cmd, duration, durations);
        Option[] analyticOnly = [durations, inputs, outputs, taskDim, trialDim, irreducible], reservoirOnly = [units, seed];
        cmd.Validators.Add(r =>
        {
            // The token, not the value: a bad --task is reported by its own parser.
            bool reservoir = r.GetResult(task) is { Tokens: [.., { Value: "reservoir" }] };
            foreach (var o in reservoir ? analyticOnly : reservoirOnly)
                if (r.GetResult(o) is { Implicit: false })
                {
                    r.AddError($"option {o.Name} applies to --task {(reservoir ? "analytic" : "reservoir")} only");
                    return;
                }
        });
        return cmd.Does(r =>
        {
            bool reservoir = r.GetValue(task) == "reservoir";
            var o = new PerturbationTaskOptions
            {
                Kind = reservoir ? PerturbationTaskKind.Reservoir : PerturbationTaskKind.Analytic,
                Reservoir = d.Reservoir with { Units = r.GetValue(units), Duration = r.GetValue(duration) ?? d.Reservoir.Duration, Seed = r.GetValue(seed) ?? d.Reservoir.Seed },
                Rules = r.GivenValue(rules) is { } rs ? [.. rs.Select(x => PerturbationRules.Parse(x)!.Value)] : d.Rules,
                Task = new AnalyticTaskOptions
                {
                    Inputs = r.GetValue(inputs),
                    Outputs = r.GetValue(outputs),
                    Duration = r.GetValue(duration) ?? d.Task.Duration,
                    TaskDimension = r.GetValue(taskDim),
                    TrialDimension = r.GetValue(trialDim),
                    IrreducibleError = r.GetValue(irreducible),
                },
                Durations = r.GivenValue(durations) ?? [],
                Trials = r.GetValue(trials),
                Sigma = r.GetValue(sigma),
                LearningRate = r.GetValue(eta),
                WeightDecay = r.GetValue(decay),
                Seeds = r.GetValue(seeds),
                Threads = SimOptions.ThreadCount(r.GetValue(threads)),
            };
            return Execute(o, r.GetValue(noPlot), r.GetValue(outDir), io.Out, io.Err);
        });
    }

    /// <summary>Runs the task; returns the exit code.</summary>
    public static int Execute(PerturbationTaskOptions o, bool noPlot, string? outDir, TextWriter stdout, TextWriter stderr)
    {
        try { o.Validate(); }
        catch (ArgumentException e)
        {
            // "duration: must be at least …" names the option the user typed.
            string m = e.Message;
            int colon = m.IndexOf(':');
            string? option = colon < 0 ? null : m[..colon] switch
            {
                "duration" => o.Durations.Count > 0 ? "--durations" : "--duration",
                "units" => "--units", "seed" => "--seed",
                "inputs" or "outputs" or "task-dim" or "trial-dim" or "irreducible-error" or "trials" or "sigma" or "eta" or "decay" or "seeds" or "threads" or "durations" or "rule" => "--" + m[..colon],
                _ => null,
            };
            throw new UsageException(option is null ? m : $"option {option}:{m[(colon + 1)..]}");
        }
        if (outDir is not null) OutputFolder.EnsureWritable(outDir, "--out");
        stdout.WriteLine(FormattableString.Invariant(
            $"perturbation: {(o.Kind == PerturbationTaskKind.Reservoir ? "reservoir" : "analytic")} task, rules {string.Join(",", o.Rules.Select(PerturbationRules.Name))}, T = {string.Join(",", o.DurationsRun)}, {o.Trials} trials, {o.Seeds} seeds, sigma_eff {o.Sigma:G3}, eta {(o.LearningRate is { } lr ? lr.ToString("G4", CultureInfo.InvariantCulture) : "optimal")}, {o.Threads} thread(s)"));
        using var cts = new Interruption();   // Ctrl-C, SIGTERM, SIGHUP
        PerturbationResult result;
        try { result = PerturbationTask.Run(o, cts.Token); }
        catch (OperationCanceledException) { stderr.WriteLine("sim: interrupted"); return cts.ExitCode; }
        string table = result.Table();
        stdout.Write(table);
        stdout.WriteLine(FormattableString.Invariant($"time: {result.Seconds:F2} s"));
        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            File.WriteAllText(Path.Combine(outDir, "perturbation.csv"), result.CurvesCsv());
            File.WriteAllText(Path.Combine(outDir, "summary.csv"), result.SummaryCsv());
            File.WriteAllText(Path.Combine(outDir, "summary.txt"), table);
            stdout.WriteLine($"wrote {Path.Combine(outDir, "perturbation.csv")}, {Path.Combine(outDir, "summary.csv")}, {Path.Combine(outDir, "summary.txt")}");
            if (!noPlot)
            {
                stdout.WriteLine($"wrote {PerturbationPlots.Curves(result, Path.Combine(outDir, "curves.png"))}");
                if (o.Durations.Count > 1) stdout.WriteLine($"wrote {PerturbationPlots.FinalVersusDuration(result, Path.Combine(outDir, "final-vs-duration.png"))}");
            }
        }
        return ExitCodes.Ok;
    }
}
