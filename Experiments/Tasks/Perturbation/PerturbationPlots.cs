using System.Globalization;
using ScottPlot;

namespace Sim.Experiments;

/// <summary>
/// PNG figures of the perturbation task: the learning curves (measured mean ± s.d. over seeds, the closed-form
/// prediction dashed over them, E_opt and 2·E_opt as guides), one panel per duration, and the final error against the
/// task duration T.
/// </summary>
public static class PerturbationPlots
{
    /// <summary>At most this many points per drawn curve (every k-th trial).</summary>
    public const int MaxPoints = 1500;

    /// <summary>The learning curves, one panel per duration.</summary>
    public static string Curves(PerturbationResult r, string path)
    {
        var palette = new ScottPlot.Palettes.Category10();
        var plots = new List<Plot>();
        int n = r.Options.Trials, stride = Math.Max(1, (n + MaxPoints - 1) / MaxPoints);
        int[] idx = [.. Enumerable.Range(0, (n + stride - 1) / stride).Select(i => i * stride)];
        if (idx[^1] != n - 1) idx = [.. idx, n - 1];
        double[] xs = [.. idx.Select(i => (double)i)];
        // The reservoir's error falls over orders of magnitude: a log scale there (the band's lower edge kept above 0).
        bool reservoir = r.Options.Kind == PerturbationTaskKind.Reservoir;
        double Y(double v) => reservoir ? Math.Log10(Math.Max(v, 1e-300)) : v;
        foreach (int duration in r.Options.DurationsRun)
        {
            var p = new Plot();
            int k = 0;
            double low = double.PositiveInfinity;
            foreach (var c in r.Cells.Where(c => c.Duration == duration))
            {
                var color = palette.GetColor(k++);
                foreach (int i in idx) low = Math.Min(low, Math.Min(c.Mean[i], c.Predicted[i]));
                var band = p.Add.FillY(xs, [.. idx.Select(i => Y(reservoir ? Math.Max(c.Mean[i] - c.Sd[i], 0.1 * c.Mean[i]) : c.Mean[i] - c.Sd[i]))], [.. idx.Select(i => Y(c.Mean[i] + c.Sd[i]))]);
                band.FillColor = color.WithAlpha(0.25);
                band.LineColor = Colors.Transparent;
                var m = p.Add.ScatterLine(xs, [.. idx.Select(i => Y(c.Mean[i]))], color);
                m.LineWidth = 2;
                m.LegendText = FormattableString.Invariant($"{c.RuleName}: measured (mean +- s.d., {r.Options.Seeds} seeds), eta = {c.LearningRate:G3}");
                var pr = p.Add.ScatterLine(xs, [.. idx.Select(i => Y(c.Predicted[i]))], Colors.Black);
                pr.LineWidth = 1.5f;
                pr.LinePattern = LinePattern.Dashed;
                pr.LegendText = $"{c.RuleName}: closed form";
            }
            if (r.IrreducibleError > 0 && (!reservoir || r.IrreducibleError > 0.5 * low))
            {
                var h1 = p.Add.HorizontalLine(Y(r.IrreducibleError));
                h1.LinePattern = LinePattern.Dotted; h1.Color = Colors.Gray;
                h1.LegendText = FormattableString.Invariant($"{(reservoir ? "least-squares error" : "E_opt")} = {r.IrreducibleError:G3}");
                if (!reservoir)
                {
                    var h2 = p.Add.HorizontalLine(2 * r.IrreducibleError);
                    h2.LinePattern = LinePattern.Dotted; h2.Color = Colors.DarkGray; h2.LegendText = "2 E_opt";
                }
            }
            p.XLabel("trial");
            p.YLabel(reservoir ? "error -R (unperturbed run, log scale)" : "error -R (unperturbed run)");
            p.Title(FormattableString.Invariant($"{(reservoir ? "reservoir" : "analytic")} task, T = {duration}, sigma_eff = {r.Options.Sigma:G3}{(r.Options.WeightDecay > 0 ? $", decay {r.Options.WeightDecay:G3}" : "")}"));
            if (reservoir)
            {
                p.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
                {
                    MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                    IntegerTicksOnly = true,
                    LabelFormatter = v => Math.Pow(10, v).ToString("G3", CultureInfo.InvariantCulture),
                };
                p.Axes.SetLimitsY(Y(low) - 0.3, Y(r.InitialError) + 0.1);
            }
            else p.Axes.SetLimitsY(0, r.InitialError * 1.1);
            p.ShowLegend(Edge.Right);
            plots.Add(p);
        }
        return Save(plots, path, 420);
    }

    /// <summary>The final error (mean of the last trials, mean ± s.d. over seeds) and its prediction against the task duration T, one line per rule.</summary>
    public static string FinalVersusDuration(PerturbationResult r, string path)
    {
        var palette = new ScottPlot.Palettes.Category10();
        var p = new Plot();
        double[] ts = [.. r.Options.DurationsRun.Select(t => (double)t)];
        int k = 0;
        foreach (var rule in r.Options.Rules)
        {
            var color = palette.GetColor(k++);
            var cells = r.Options.DurationsRun.Select(t => r.Cell(rule, t)).ToArray();
            string name = cells[0].RuleName;
            var band = p.Add.FillY(ts, [.. cells.Select(c => c.Final.Mean - c.Final.Sd)], [.. cells.Select(c => c.Final.Mean + c.Final.Sd)]);
            band.FillColor = color.WithAlpha(0.25);
            band.LineColor = Colors.Transparent;
            var m = p.Add.Scatter(ts, [.. cells.Select(c => c.Final.Mean)], color);
            m.LineWidth = 2; m.MarkerSize = 8;
            m.LegendText = $"{name}: measured final error (+- s.d.)";
            var pr = p.Add.ScatterLine(ts, [.. cells.Select(c => c.PredictedFinal)], color);
            pr.LinePattern = LinePattern.Dashed; pr.LineWidth = 1.5f;
            pr.LegendText = $"{name}: closed form";
        }
        if (r.IrreducibleError > 0)
        {
            var h1 = p.Add.HorizontalLine(r.IrreducibleError);
            h1.LinePattern = LinePattern.Dotted; h1.Color = Colors.Gray; h1.LegendText = "E_opt";
            var h2 = p.Add.HorizontalLine(2 * r.IrreducibleError);
            h2.LinePattern = LinePattern.Dotted; h2.Color = Colors.DarkGray; h2.LegendText = "2 E_opt";
        }
        p.Axes.Bottom.SetTicks(ts, [.. r.Options.DurationsRun.Select(t => t.ToString(CultureInfo.InvariantCulture))]);
        p.XLabel("task duration T (time bins)");
        p.YLabel(FormattableString.Invariant($"final error (last {r.Options.EndTrials} of {r.Options.Trials} trials)"));
        p.Title(FormattableString.Invariant($"final error against T, sigma_eff = {r.Options.Sigma:G3}, {r.Options.Seeds} seeds"));
        p.Axes.Margins(bottom: 0);
        p.ShowLegend(Edge.Right);
        return Save([p], path, 450);
    }

    private static string Save(List<Plot> plots, string path, int height)
    {
        var figure = new Multiplot();
        figure.Reset(plots[0]);
        foreach (var p in plots.Skip(1)) figure.AddPlot(p);
        figure.SavePng(path, 1350, height * plots.Count);
        return path;
    }
}
