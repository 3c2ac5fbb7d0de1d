using System.CommandLine;
using System.Globalization;
using Sim.Cli.Commands;
using System.Text;
using ScottPlot;
using Sim.Experiments;

namespace Sim.Cli;

/// <summary><c>sim task rank-estimation</c>: the feedback-rank estimation protocol over true ranks, seeds and noise levels.</summary>
public static class RankEstimationCommand
{
    /// <summary>The definition of <c>sim task rank-estimation</c>.</summary>
    internal static Command Build(CliIO io)
    {
        var neurons = SimOptions.Neurons(60);
        var steps = SimOptions.Steps(60);
        var epochs = SimOptions.Epochs("learning epochs before probing", 20);
        var ranks = SimOptions.IntList("--ranks", "true ranks, e.g. 3,10,60 (default 3,5,10,20,40,N); each must lie in [3, N]", 1);
        var ltts = SimOptions.Flag("--ltts", "also the LTTS feedback (D = c I, true rank N)");
        var seeds = SimOptions.Seeds(3);
        var probes = SimOptions.OptionalInt("--probes", "probed neurons (default N)", 1, "P");
        var noise = SimOptions.PositiveList("--noise", "recording noise, s.d. relative to the r.m.s. probe response (default 0,0.1,1)", allowZero: true);
        var outDir = SimOptions.Out("write DIR/rank-estimation.csv, DIR/summary.txt and DIR/spectra.png");
        var cmd = new SimCommand("rank-estimation", "Estimate the rank R of the feedback that drove learning in store-and-recall networks trained with known R (docs/tasks/rank_estimation.md).", """
            After E epochs of online rank-R learning, one tick of a learning trial is run from a checkpoint unperturbed and
            with each probed neuron's spike flipped; the recorded weight changes give one response vector per probe, and
            the estimate counts their singular values above the noise floor. The passive estimate (no perturbation,
            per-tick weight changes of one trial) is printed beside it.
            Exit codes: 0 ok, 2 bad arguments, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.
            """) { neurons, steps, epochs, ranks, ltts, seeds, probes, noise, outDir };
        return cmd.Does(r => Execute(r.GetValue(neurons), r.GetValue(steps), r.GetValue(epochs), r.GivenValue(ranks), r.GetValue(ltts), r.GetValue(seeds),
            r.GetValue(probes), r.GivenValue(noise) ?? [0, 0.1, 1], r.GetValue(outDir), io.Out, io.Err));
    }

    /// <summary>Runs the protocol over the true ranks, seeds and noise levels; returns the exit code.</summary>
    public static int Execute(int n, int t, int epochs, int[]? ranks, bool ltts, int seeds, int? probes, double[] noise, string? outDir, TextWriter stdout, TextWriter stderr)
    {
        ranks ??= [.. new[] { 3, 5, 10, 20, 40, n }.Where(r => r <= n).Distinct()];
        var rows = new List<(string Feedback, int True, ulong Seed, double Noise, RankEstimate E)>();
        var cells = new List<RankEstimationOptions>();
        var labels = new List<string>();
        try
        {
            foreach (var (label, rank, isLtts) in ranks.Select(r => ($"R={r}", r, false)).Concat(ltts ? [("LTTS", n, true)] : []))
                for (ulong s = 1; s <= (ulong)seeds; s++)
                    foreach (double nz in noise)
                    {
                        var o = new RankEstimationOptions
                        {
                            Cell = new StoreRecallOptions { Neurons = n, Steps = t, Epochs = epochs, Rank = rank, Ltts = isLtts, Seed = s, ReadoutIterations = 1000 },
                            Probes = probes ?? n, RelativeNoise = nz,
                        };
                        o.Validate();
                        cells.Add(o); labels.Add(label);
                    }
        }
        catch (ArgumentException e) { throw StoreRecallOptionSet.Usage(e, lists: true); }
        if (outDir is not null) OutputFolder.EnsureWritable(outDir, "--out");

        using var cts = new Interruption();   // Ctrl-C, SIGTERM, SIGHUP
        try
        {
            stdout.WriteLine($"rank-estimation: N = {n}, T = {t}, {epochs} epochs, ranks {string.Join(",", ranks)}{(ltts ? ", LTTS" : "")}, seeds 1..{seeds}, noise {string.Join(",", noise.Select(x => x.ToString(CultureInfo.InvariantCulture)))}, {probes ?? n} probes");
            stdout.WriteLine("  feedback  seed  noise   true R  estimate  participation  passive (PR)");
            for (int c = 0; c < cells.Count; c++)
            {
                var e = new RankEstimation(cells[c]).Run(cts.Token);
                rows.Add((labels[c], e.TrueRank, cells[c].Cell.Seed, cells[c].RelativeNoise, e));
                stdout.WriteLine(FormattableString.Invariant($"  {labels[c],-8}  {cells[c].Cell.Seed,4}  {cells[c].RelativeNoise,5:G3}   {e.TrueRank,6}  {e.Estimated,8}  {e.ParticipationRatio,13:F1}  {e.PassiveEstimate,7} ({e.PassiveParticipationRatio:F1})"));
            }
        }
        catch (OperationCanceledException) { stderr.WriteLine("sim: interrupted"); return cts.ExitCode; }

        var summary = new StringBuilder("noise   mean |estimate - R|   exact   mean |passive - R|\n");
        foreach (double nz in noise)
        {
            var r = rows.Where(x => x.Noise == nz).ToList();
            summary.Append(CultureInfo.InvariantCulture,
                $"{nz,5:G3}   {r.Average(x => Math.Abs(x.E.Estimated - x.True)),19:F2}   {r.Count(x => x.E.Estimated == x.True),2}/{r.Count,-3}   {r.Average(x => Math.Abs(x.E.PassiveEstimate - x.True)),18:F2}\n");
        }
        stdout.Write(summary);
        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            var csv = new StringBuilder("feedback,true_rank,seed,noise,estimate,participation_ratio,passive_estimate,passive_participation_ratio,floor\n");
            foreach (var x in rows)
                csv.Append(CultureInfo.InvariantCulture, $"{x.Feedback},{x.True},{x.Seed},{x.Noise:R},{x.E.Estimated},{x.E.ParticipationRatio:R},{x.E.PassiveEstimate},{x.E.PassiveParticipationRatio:R},{x.E.Floor:R}\n");
            File.WriteAllText(Path.Combine(outDir, "rank-estimation.csv"), csv.ToString());
            File.WriteAllText(Path.Combine(outDir, "summary.txt"), summary.ToString());
            stdout.WriteLine($"wrote {Path.Combine(outDir, "rank-estimation.csv")}");
            stdout.WriteLine($"wrote {Spectra(rows.Where(x => x.Seed == 1).ToList(), noise.Max(), Path.Combine(outDir, "spectra.png"))}");
        }
        return ExitCodes.Ok;
    }

    /// <summary>The normalised singular values of the probe responses per true R (seed 1), without noise and at the largest noise.</summary>
    private static string Spectra(List<(string Feedback, int True, ulong Seed, double Noise, RankEstimate E)> rows, double noisiest, string path)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int c = 0;
        foreach (var g in rows.GroupBy(x => x.Feedback))
        {
            var color = palette.GetColor(c++);
            foreach (var x in g.Where(x => x.Noise == 0 || x.Noise == noisiest))
            {
                var ys = x.E.SingularValues.Select(v => Math.Log10(Math.Max(v, 1e-18))).ToArray();
                var s = plot.Add.Scatter(Enumerable.Range(1, ys.Length).Select(k => (double)k).ToArray(), ys);
                s.Color = color; s.MarkerSize = 3; s.LineWidth = 1;
                s.LinePattern = x.Noise == 0 ? LinePattern.Solid : LinePattern.Dashed;
                s.LegendText = x.Noise == 0 ? $"{g.Key} (no noise)" : FormattableString.Invariant($"{g.Key} (noise {x.Noise:G3})");
            }
        }
        plot.XLabel("singular value index");
        plot.YLabel("log10 singular value / largest");
        plot.Title("Probe responses: singular values per true R (seed 1); the estimate counts those above the floor");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 1000, 680);
        return path;
    }
}
