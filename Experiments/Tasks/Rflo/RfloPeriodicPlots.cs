using ScottPlot;

namespace Sim.Experiments;

/// <summary>PNG figures of RFLO's periodic task (ScottPlot 5, headless): median and quartiles over seeds, as Murray 2019 Fig. 2 plots them.</summary>
public static class RfloPeriodicPlots
{
    /// <summary>Per iteration: the quartiles (25, 50, 75 %) of the curves over the runs (runs that stopped early drop out).</summary>
    public static (double[] Q1, double[] Median, double[] Q3) Quartiles(IReadOnlyList<double[]> curves)
    {
        int n = curves.Max(c => c.Length);
        var q1 = new double[n]; var m = new double[n]; var q3 = new double[n];
        for (int i = 0; i < n; i++)
        {
            var v = curves.Where(c => c.Length > i).Select(c => c[i]).Order().ToArray();
            q1[i] = Quantile(v, 0.25); m[i] = Quantile(v, 0.5); q3[i] = Quantile(v, 0.75);
        }
        return (q1, m, q3);
    }

    /// <summary>Linear interpolation between order statistics (numpy's default).</summary>
    public static double Quantile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>Loss against iteration, log-log, with the untrained network's loss (median over seeds) as a dashed line.</summary>
    public static string Loss(IReadOnlyList<RfloPeriodicResult> runs, string title, string path)
    {
        var plot = new Plot();
        var (q1, m, q3) = Quartiles([.. runs.Select(r => r.Loss)]);
        double[] x = [.. Enumerable.Range(1, m.Length).Select(i => Math.Log10(i))];
        Band(plot, x, [.. q1.Select(Math.Log10)], [.. m.Select(Math.Log10)], [.. q3.Select(Math.Log10)], "RFLO (median, quartiles)");
        double untrained = Quantile([.. runs.Select(r => r.UntrainedLoss).Order()], 0.5);
        var hl = plot.Add.HorizontalLine(Math.Log10(untrained));
        hl.LinePattern = LinePattern.Dashed; hl.Color = Colors.Gray; hl.LegendText = "untrained network";
        LogTicks(plot.Axes.Left); LogTicks(plot.Axes.Bottom);
        plot.Title(title); plot.XLabel("iteration (log scale)"); plot.YLabel("MSE (log scale)");
        plot.ShowLegend(ScottPlot.Alignment.LowerLeft);
        plot.SavePng(path, 800, 550);
        return path;
    }

    /// <summary>cos ∠(W_out, Bᵀ) against iteration.</summary>
    public static string Alignment(IReadOnlyList<RfloPeriodicResult> runs, string title, string path)
    {
        var plot = new Plot();
        var (q1, m, q3) = Quartiles([.. runs.Select(r => r.Alignment)]);
        double[] x = [.. Enumerable.Range(1, m.Length).Select(i => (double)i)];
        Band(plot, x, q1, m, q3, "RFLO (median, quartiles)");
        var zero = plot.Add.HorizontalLine(0);
        zero.LinePattern = LinePattern.Dashed; zero.Color = Colors.Gray;
        plot.Title(title); plot.XLabel("iteration"); plot.YLabel("cos angle(W_out, B^T)");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(path, 800, 550);
        return path;
    }

    private static void Band(Plot plot, double[] x, double[] lo, double[] mid, double[] hi, string label)
    {
        var color = plot.Add.Palette.GetColor(0);
        var a = plot.Add.ScatterLine(x, lo, color.WithAlpha(0.5)); a.LineWidth = 1;
        var b = plot.Add.ScatterLine(x, hi, color.WithAlpha(0.5)); b.LineWidth = 1;
        var m = plot.Add.ScatterLine(x, mid, color); m.LineWidth = 2; m.LegendText = label;
    }

    private static void LogTicks(IAxis axis) => axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
    {
        MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = v => Math.Pow(10, v).ToString("G3", System.Globalization.CultureInfo.InvariantCulture),
    };
}
