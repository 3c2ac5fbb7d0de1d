using System.Globalization;
using ScottPlot;

namespace Sim.Experiments;

/// <summary>
/// PNG figures of a store-and-recall sweep (ScottPlot 5, headless), after Capone et al. 2022 Fig. 2 B–F:
/// heat maps of final MSE (log10), final ΔS and T_conv over rows (R ascending upwards, LTTS on top) and τ⋆ columns;
/// MSE and ΔS against epoch for the lowest and highest R (and LTTS) at the τ⋆ nearest 4.64 dt; the recalled
/// trajectories of the best cell against the target.
/// </summary>
public static class StoreRecallSweepPlots
{
    /// <summary>Writes every figure into <paramref name="outDir"/>; returns the paths.</summary>
    public static IReadOnlyList<string> SaveAll(IReadOnlyList<SweepCellResult> cells, string outDir)
    {
        if (cells.Count == 0) throw new ArgumentException("no cells", nameof(cells));
        Directory.CreateDirectory(outDir);
        var means = StoreRecallSweep.MeanOverSeeds(cells);
        string seeds = SeedNote(cells);
        var paths = new List<string>
        {
            HeatMap(means, m => Math.Log10(m.FinalMse), "log10 final MSE", $"Final MSE (log10, mean of last 10% of epochs){seeds}", Path.Combine(outDir, "heatmap-mse.png"), "F2", lowIsGood: true, m => m.Log10FinalMseSd),
            HeatMap(means, m => m.FinalSpikeError, "final dS", $"Final spike error dS = sum |z* - z|{seeds}", Path.Combine(outDir, "heatmap-delta-s.png"), "F0", lowIsGood: true, m => m.FinalSpikeErrorSd),
            HeatMap(means, m => m.EpochsToConverge, "epochs", $"Epochs to converge T_conv{seeds}", Path.Combine(outDir, "heatmap-tconv.png"), "F0", lowIsGood: true, m => m.EpochsToConvergeSd),
            Curves(cells, Path.Combine(outDir, "curves.png")),
            Recall(cells, means, Path.Combine(outDir, "recall.png")),
        };
        return paths;
    }

    private static string SeedNote(IReadOnlyList<SweepCellResult> cells)
    {
        int seeds = cells.Select(c => c.Seed).Distinct().Count();
        var c0 = cells[0];
        return FormattableString.Invariant($"\nN = {c0.Neurons}, T = {c0.Steps}, {c0.Epochs} epochs, {(seeds == 1 ? "1 seed" : $"mean of {seeds} seeds")}");
    }

    private static List<string> RowsTopDown(IEnumerable<string> rows) =>
        [.. rows.Distinct().OrderByDescending(r => SweepRow.Parse(r).SortKey)];

    /// <summary>
    /// A heat map: rows (LTTS on top, then R descending), τ⋆ columns, each cell annotated with its value and, when the
    /// cells hold several seeds and <paramref name="spread"/> is given, "± s.d. over seeds" below it (log10 units for the MSE).
    /// </summary>
    public static string HeatMap(IReadOnlyList<SweepMean> means, Func<SweepMean, double> value, string colorLabel, string title, string path, string format, bool lowIsGood,
        Func<SweepMean, double>? spread = null)
    {
        var spreads = new Dictionary<(string, double), double>();
        if (spread is not null) foreach (var m in means) if (m.SeedCount > 1) spreads[(m.Row, m.TauStarDt)] = spread(m);
        var rows = RowsTopDown(means.Select(m => m.Row));
        var taus = means.Select(m => m.TauStarDt).Distinct().Order().ToList();
        var grid = new double[rows.Count, taus.Count];
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < taus.Count; j++) grid[i, j] = double.NaN;
        foreach (var m in means) grid[rows.IndexOf(m.Row), taus.IndexOf(m.TauStarDt)] = value(m);

        var plot = new Plot();
        // ScottPlot draws no colours for a grid one cell wide or tall: such a dimension is drawn as two equal halves.
        int gr = rows.Count == 1 ? 2 : rows.Count, gc = taus.Count == 1 ? 2 : taus.Count;
        var drawn = new double[gr, gc];
        for (int i = 0; i < gr; i++)
            for (int j = 0; j < gc; j++) drawn[i, j] = grid[Math.Min(i, rows.Count - 1), Math.Min(j, taus.Count - 1)];
        var hm = plot.Add.Heatmap(drawn);
        hm.Colormap = lowIsGood ? new ScottPlot.Colormaps.Viridis().Reversed() : new ScottPlot.Colormaps.Viridis();
        hm.Rectangle = new CoordinateRect(-0.5, taus.Count - 0.5, -0.5, rows.Count - 0.5);
        var bar = plot.Add.ColorBar(hm);
        bar.Label = colorLabel;
        var finite = Enumerable.Range(0, rows.Count * taus.Count).Select(k => grid[k / taus.Count, k % taus.Count]).Where(double.IsFinite).ToList();
        double mid = finite.Count > 0 ? (finite.Min() + finite.Max()) / 2 : 0;
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < taus.Count; j++)
            {
                double v = grid[i, j];
                if (!double.IsFinite(v)) continue;
                string label = v.ToString(format, CultureInfo.InvariantCulture);
                if (spreads.TryGetValue((rows[i], taus[j]), out double sd)) label += "\n±" + sd.ToString(format, CultureInfo.InvariantCulture);
                var text = plot.Add.Text(label, j, rows.Count - 1 - i);
                text.LabelFontSize = spreads.Count > 0 ? 9 : 11;
                text.LabelAlignment = Alignment.MiddleCenter;
                // Viridis reversed: low values are yellow (dark text), high values dark (light text).
                bool darkCell = lowIsGood ? v > mid : v < mid;
                text.LabelFontColor = darkCell ? Colors.White : Colors.Black;
            }
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, taus.Count).Select(j => (double)j)], [.. taus.Select(t => t.ToString("G3", CultureInfo.InvariantCulture))]);
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, rows.Count).Select(i => (double)(rows.Count - 1 - i))], [.. rows.Select(r => r == "ltts" ? "LTTS" : r)]);
        plot.Axes.SetLimits(-0.5, taus.Count - 0.5, -0.5, rows.Count - 0.5);
        plot.XLabel("tau* / dt (log-spaced)");
        plot.YLabel("rank R");
        plot.Title(title);
        plot.SavePng(path, 1000, 760);
        return path;
    }

    private static double NearestTau(IEnumerable<double> taus, double want) => taus.MinBy(t => Math.Abs(Math.Log(t / want)));

    private static double[] MeanCurve(IEnumerable<SweepCellResult> cells, Func<SweepCellResult, double[]> curve)
    {
        var list = cells.Select(curve).ToList();
        int n = list.Min(c => c.Length);
        return [.. Enumerable.Range(0, n).Select(e => list.Average(c => c[e]))];
    }

    /// <summary>MSE (log10) and ΔS against epoch for the lowest and highest R and LTTS at the τ⋆ nearest 4.64 dt (means over seeds).</summary>
    public static string Curves(IReadOnlyList<SweepCellResult> cells, string path)
    {
        double tau = NearestTau(cells.Select(c => c.TauStarDt).Distinct(), 4.64);
        var at = cells.Where(c => c.TauStarDt == tau).ToList();
        var ranks = at.Where(c => c.Row != "ltts").Select(c => c.Rank).Distinct().Order().ToList();
        var rows = new List<string>();
        if (ranks.Count > 0) rows.Add(ranks[0].ToString(CultureInfo.InvariantCulture));
        if (ranks.Count > 1) rows.Add(ranks[^1].ToString(CultureInfo.InvariantCulture));
        if (at.Any(c => c.Row == "ltts")) rows.Add("ltts");
        var mse = new Plot();
        var ds = new Plot();
        double limit = at.Average(c => c.ReadoutLimit);
        for (int s = 0; s < rows.Count; s++)
        {
            var group = at.Where(c => c.Row == rows[s]).ToList();
            string label = rows[s] == "ltts" ? "LTTS" : $"R = {rows[s]}";
            var m = MeanCurve(group, c => c.Mse);
            var d = MeanCurve(group, c => c.SpikeError);
            double[] x = [.. Enumerable.Range(1, m.Length).Select(e => (double)e)];
            var color = mse.Add.Palette.GetColor(s);
            var lm = mse.Add.ScatterLine(x, [.. m.Select(v => Math.Log10(v))], color);
            lm.LegendText = label; lm.LineWidth = 2;
            var ld = ds.Add.ScatterLine(x, d, color);
            ld.LegendText = label; ld.LineWidth = 2;
        }
        var hl = mse.Add.HorizontalLine(Math.Log10(limit));
        hl.LinePattern = LinePattern.Dashed; hl.Color = Colors.Gray; hl.LegendText = FormattableString.Invariant($"readout limit {limit:G2}");
        mse.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = v => Math.Pow(10, v).ToString("G3", CultureInfo.InvariantCulture),
        };
        string tauText = tau.ToString("G3", CultureInfo.InvariantCulture);
        mse.Title($"MSE vs epoch, tau*/dt = {tauText}{SeedNote(at)}");
        mse.XLabel("epoch"); mse.YLabel("MSE (log scale)");
        mse.ShowLegend(Alignment.LowerLeft);
        ds.Title($"Spike error dS vs epoch, tau*/dt = {tauText}");
        ds.XLabel("epoch"); ds.YLabel("dS = sum |z* - z|");
        ds.Axes.AutoScale();
        ds.Axes.SetLimitsY(0, ds.Axes.GetLimits().Top);
        ds.ShowLegend(Alignment.LowerLeft);
        var figure = new Multiplot();
        figure.Reset(mse);
        figure.AddPlot(ds);
        figure.SavePng(path, 900, 900);
        return path;
    }

    /// <summary>Target and recalled trajectories (3 outputs) of the best cell: lowest mean final MSE, its best seed.</summary>
    public static string Recall(IReadOnlyList<SweepCellResult> cells, IReadOnlyList<SweepMean> means, string path)
    {
        var bestMean = means.MinBy(m => m.FinalMse)!;
        var best = cells.Where(c => c.Row == bestMean.Row && c.TauStarDt == bestMean.TauStarDt).MinBy(c => c.FinalMse)!;
        int outputs = best.Target.Length > 0 ? best.Target[0].Length : 0;
        var plots = new List<Plot>();
        for (int k = 0; k < outputs; k++)
        {
            var p = new Plot();
            double[] t = [.. Enumerable.Range(0, best.Target.Length).Select(i => (double)i)];
            var target = p.Add.ScatterLine(t, [.. best.Target.Select(r => r[k])], Colors.Black);
            target.LegendText = "target y*"; target.LineWidth = 2; target.LinePattern = LinePattern.Dashed;
            if (best.FinalOutput.Length == t.Length)
            {
                var y = p.Add.ScatterLine(t, [.. best.FinalOutput.Select(r => r[k])], p.Add.Palette.GetColor(0));
                y.LegendText = "recalled y (last epoch)"; y.LineWidth = 2;
            }
            p.YLabel($"output {k + 1}");
            if (k == 0)
                p.Title(FormattableString.Invariant($"Best cell: {(best.Row == "ltts" ? "LTTS" : $"R = {best.Row}")}, tau*/dt = {best.TauStarDt:G3}, seed {best.Seed}: final MSE {best.FinalMse:G3} (readout limit {best.ReadoutLimit:G2})"));
            if (k == outputs - 1) p.XLabel("time step (dt = 1 ms)");
            p.ShowLegend(Alignment.UpperRight);
            plots.Add(p);
        }
        var figure = new Multiplot();
        figure.Reset(plots[0]);
        foreach (var p in plots.Skip(1)) figure.AddPlot(p);
        figure.SavePng(path, 900, 300 * Math.Max(1, outputs));
        return path;
    }
}
