using System.CommandLine;
using System.Globalization;
using System.Text;
using Sim.Cli.Commands;
using Sim.Experiments;

namespace Sim.Cli;

/// <summary>
/// <c>sim task rflo</c>: RFLO's periodic-output task (Murray 2019, eLife 8:e43299, Fig. 2; docs/tasks/rflo.md) over
/// seeds 1..S, with the untrained network as the baseline (BPTT is not built).
/// </summary>
public static class RfloCommand
{
    /// <summary>The definition of <c>sim task rflo</c>.</summary>
    internal static Command Build(CliIO io)
    {
        var d = new RfloPeriodicOptions();
        var iterations = SimOptions.Int("--iterations", $"learning trials, one period each (default {d.Iterations})", 0, d.Iterations, "K");
        var period = SimOptions.Int("--period", $"target period in units of tau, the paper 20-160 (default {d.PeriodTau})", 1, d.PeriodTau, "P");
        var neurons = SimOptions.Neurons(d.Neurons);
        var seeds = SimOptions.Seeds(3);
        var etaRec = SimOptions.Positive("--eta-rec", FormattableString.Invariant($"learning rate of W_rec, 0 = readout only (default {d.EtaRec})"), "X", d.EtaRec, allowZero: true);
        var etaOut = SimOptions.Positive("--eta-out", FormattableString.Invariant($"learning rate of W_out (default {d.EtaOut})"), "X", d.EtaOut, allowZero: true);
        var engine = SimOptions.Engine("event, dense (TorchSharp, cpu) or dense-cuda: the same curves bit for bit", "event", "dense", "dense-cuda");
        var noProgress = SimOptions.NoProgress();
        var noPlot = SimOptions.NoPlot("the figures");
        var outDir = SimOptions.Out("write DIR/rflo.csv (seed, iteration, loss, alignment), DIR/summary.txt and the figures DIR/loss.png (log-log) and DIR/alignment.png");
        var cmd = new SimCommand("rflo", "RFLO's periodic output (Murray 2019, Fig. 2; docs/tasks/rflo.md): a rate_tanh network (tau = 10 steps, W_rec ~ 1.5 N(0,1)/sqrt(N)) learns one period of sin + 0.5 sin(2.) + 0.25 sin(4.) with the RFLO rule, per-trial updates of W_rec and W_out with a fixed random B. Prints the loss at the first and last iteration, the untrained network's loss and the W_out-B alignment (median and quartiles over seeds).", """
            BPTT, the paper's other comparison, is not built; the baseline is the untrained network.
            Exit codes: 0 ok, 1 learning failed (a weight left the grid or the loss diverged), 2 bad arguments, 130/143/129 interrupted.
            """)
        { iterations, period, neurons, seeds, etaRec, etaOut, engine, noProgress, noPlot, outDir };
        return cmd.Does(r =>
        {
            var o = d with
            {
                Iterations = r.GetValue(iterations), PeriodTau = r.GetValue(period), Neurons = r.GetValue(neurons),
                EtaRec = r.GetValue(etaRec), EtaOut = r.GetValue(etaOut),
            };
            return Execute(o, r.GetValue(seeds), r.GetValue(engine)!, !r.GetValue(noProgress), r.GetValue(noPlot), r.GetValue(outDir), io.Out, io.Err);
        });
    }

    /// <summary>Runs seeds 1..<paramref name="seeds"/>; returns the exit code.</summary>
    public static int Execute(RfloPeriodicOptions o, int seeds, string engine, bool progress, bool noPlot, string? outDir, TextWriter stdout, TextWriter stderr)
    {
        try { o.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        if (outDir is not null) OutputFolder.EnsureWritable(outDir, "--out");
        stdout.WriteLine(FormattableString.Invariant($"rflo: N = {o.Neurons}, tau = {o.TauSteps} steps, period {o.PeriodTau} tau = {o.Steps} steps, {o.Iterations} iterations, seeds 1..{seeds}, eta_rec {o.EtaRec}, eta_out {o.EtaOut}, engine {engine}"));
        var factory = EngineFactory.GridFactory(engine, new EngineSettings { Threads = 1 });
        using var cts = new Interruption();
        var runs = ProgressDisplay.Run(stderr, progress, "rflo", report =>
        {
            var list = new List<RfloPeriodicResult>();
            for (int s = 1; s <= seeds && !cts.Token.IsCancellationRequested; s++)
            {
                int seed = s;
                list.Add(RfloPeriodic.Run(o with { Seed = seed }, factory, (it, _, _) =>
                    report(((seed - 1) * (double)Math.Max(1, o.Iterations) + it + 1) / (seeds * (double)Math.Max(1, o.Iterations)), $"seed {seed}, iteration {it + 1}/{o.Iterations}"), cts.Token));
            }
            return list;
        });
        var summary = new StringBuilder();
        string Q(IEnumerable<double> v)
        {
            var a = v.Order().ToArray();
            return a.Length == 0 ? "n/a" : FormattableString.Invariant($"{RfloPeriodicPlots.Quantile(a, 0.5):G4} [{RfloPeriodicPlots.Quantile(a, 0.25):G4}, {RfloPeriodicPlots.Quantile(a, 0.75):G4}]");
        }
        summary.AppendLine("median [quartiles] over seeds:");
        summary.AppendLine($"untrained loss (MSE): {Q(runs.Select(r => r.UntrainedLoss))}");
        summary.AppendLine($"loss at iteration 1: {Q(runs.Where(r => r.Loss.Length > 0).Select(r => r.Loss[0]))}");
        summary.AppendLine($"loss at the last iteration: {Q(runs.Where(r => r.Loss.Length > 0).Select(r => r.Loss[^1]))}");
        summary.AppendLine($"alignment cos(W_out, B^T) at the last iteration: {Q(runs.Where(r => r.Alignment.Length > 0).Select(r => r.Alignment[^1]))}");
        summary.AppendLine(FormattableString.Invariant($"time: {runs.Sum(r => r.Seconds):F1} s"));
        foreach (var (r, i) in runs.Select((r, i) => (r, i)))
            if (r.Failure is not null) summary.AppendLine($"seed {i + 1} failed: {r.Failure}");
        stdout.Write(summary.ToString());
        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            var csv = new StringBuilder("seed,iteration,loss,alignment\n");
            for (int s = 0; s < runs.Count; s++)
                for (int i = 0; i < runs[s].Loss.Length; i++) csv.Append(CultureInfo.InvariantCulture, $"{s + 1},{i},{runs[s].Loss[i]:R},{runs[s].Alignment[i]:R}\n");
            File.WriteAllText(Path.Combine(outDir, "rflo.csv"), csv.ToString());
            File.WriteAllText(Path.Combine(outDir, "summary.txt"), summary.ToString());
            stdout.WriteLine($"wrote {Path.Combine(outDir, "rflo.csv")}, {Path.Combine(outDir, "summary.txt")}");
            if (!noPlot && runs.Count > 0 && runs.All(r => r.Loss.Length > 0))
            {
                string t = FormattableString.Invariant($"RFLO, period {o.PeriodTau} tau, N = {o.Neurons}, {runs.Count} seeds");
                stdout.WriteLine($"wrote {RfloPeriodicPlots.Loss(runs, t, Path.Combine(outDir, "loss.png"))}");
                stdout.WriteLine($"wrote {RfloPeriodicPlots.Alignment(runs, t, Path.Combine(outDir, "alignment.png"))}");
            }
        }
        if (runs.Any(r => r.Failure is not null)) { stderr.WriteLine("sim: learning failed for a seed (see above)"); return ExitCodes.Failure; }
        return cts.Token.IsCancellationRequested ? cts.ExitCode : ExitCodes.Ok;
    }
}
