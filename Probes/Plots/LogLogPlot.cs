using ScottPlot;

namespace Sim.Probes.Plots;

/// <summary>One line of a <see cref="LogLogPlot"/> panel: y against x, with a legend label.</summary>
/// <param name="Label">Legend text.</param>
/// <param name="X">x values (&gt; 0).</param>
/// <param name="Y">y values; points with y ≤ 0 or NaN are left out (they have no logarithm).</param>
public sealed record LogLogSeries(string Label, double[] X, double[] Y);

/// <summary>A panel of a <see cref="LogLogPlot"/> figure.</summary>
/// <param name="Title">Panel title.</param>
/// <param name="XLabel">x axis label.</param>
/// <param name="YLabel">y axis label.</param>
/// <param name="Series">The lines.</param>
public sealed record LogLogPanel(string Title, string XLabel, string YLabel, IReadOnlyList<LogLogSeries> Series);

/// <summary>
/// A PNG figure of one or more stacked log-log panels (ScottPlot, headless): the data are plotted as log10 values on
/// axes whose major ticks are labelled in powers of ten with logarithmic minor ticks (ScottPlot's documented recipe).
/// </summary>
public static class LogLogPlot
{
    /// <summary>Draws the panels top to bottom and writes the PNG.</summary>
    /// <param name="path">PNG file to write (its folder is created).</param>
    /// <param name="panels">The panels.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <returns>The path written.</returns>
    public static string Save(string path, IReadOnlyList<LogLogPanel> panels, int width = 900, int height = 1000)
    {
        if (panels.Count == 0) throw new ArgumentException("no panels", nameof(panels));
        var plots = new List<Plot>();
        foreach (var panel in panels)
        {
            var plot = new Plot();
            for (int s = 0; s < panel.Series.Count; s++)
            {
                var series = panel.Series[s];
                if (series.X.Length != series.Y.Length) throw new ArgumentException($"series '{series.Label}': {series.X.Length} x and {series.Y.Length} y values", nameof(panels));
                var keep = Enumerable.Range(0, series.X.Length).Where(k => series.X[k] > 0 && series.Y[k] > 0 && double.IsFinite(series.Y[k])).ToArray();
                if (keep.Length == 0) continue;
                var line = plot.Add.Scatter(keep.Select(k => Math.Log10(series.X[k])).ToArray(), keep.Select(k => Math.Log10(series.Y[k])).ToArray(), plot.Add.Palette.GetColor(s));
                line.LegendText = series.Label;
                line.MarkerSize = 7;
                line.LineWidth = 2;
            }
            plot.Axes.Bottom.TickGenerator = LogTicks();
            plot.Axes.Left.TickGenerator = LogTicks();
            plot.Title(panel.Title);
            plot.XLabel(panel.XLabel);
            plot.YLabel(panel.YLabel);
            plot.Axes.AutoScale();
            var limits = plot.Axes.GetLimits();
            // At least one decade on each axis, so that there is a labelled tick.
            double xMid = (limits.Left + limits.Right) / 2, yMid = (limits.Bottom + limits.Top) / 2;
            double xHalf = Math.Max(0.6, (limits.Right - limits.Left) / 2 * 1.1), yHalf = Math.Max(0.6, (limits.Top - limits.Bottom) / 2 * 1.1);
            if (double.IsFinite(xMid) && double.IsFinite(yMid)) plot.Axes.SetLimits(xMid - xHalf, xMid + xHalf, yMid - yHalf, yMid + yHalf);
            plot.ShowLegend(Alignment.LowerRight);
            plots.Add(plot);
        }
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var figure = new Multiplot();
        figure.Reset(plots[0]);
        foreach (var p in plots.Skip(1)) figure.AddPlot(p);
        figure.SavePng(path, width, height);
        return path;
    }

    private static ScottPlot.TickGenerators.NumericAutomatic LogTicks() => new()
    {
        MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = v => Math.Pow(10, v).ToString("G3", System.Globalization.CultureInfo.InvariantCulture),
    };
}
