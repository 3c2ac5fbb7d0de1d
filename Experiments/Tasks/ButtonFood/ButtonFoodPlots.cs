using System.Globalization;
using ScottPlot;

namespace Sim.Experiments;

/// <summary>
/// PNG figures of Button &amp; Food (after Capone et al. 2022, Fig. 3): the score per test angle for every rank against the
/// expert's, the agents' paths for the lowest and the highest rank against the expert's, and the mean score against R
/// with its spread over seeds.
/// </summary>
public static class ButtonFoodPlots
{
    /// <summary>Score against test angle, one line per rank, and the expert.</summary>
    public static string RewardPerAngle(ButtonFoodResult r, string path)
    {
        var plot = new Plot();
        var angles = r.Options.TestAnglesDeg.ToArray();
        var expert = plot.Add.Scatter(angles, r.ExpertScores);
        expert.LegendText = "expert";
        expert.Color = Colors.Black;
        expert.LineWidth = 2;
        expert.MarkerSize = 0;
        var palette = new ScottPlot.Palettes.Category10();
        for (int k = 0; k < r.Ranks.Length; k++)
        {
            var s = plot.Add.Scatter(angles, r.Ranks[k].Scores);
            s.LegendText = $"R = {r.Ranks[k].Rank}";
            s.Color = palette.GetColor(k);
            s.MarkerSize = 3;
            s.LineWidth = 1;
        }
        foreach (double a in r.Options.TrainAnglesDeg)
        {
            var v = plot.Add.VerticalLine(a);
            v.Color = Colors.Gray.WithAlpha(0.5);
            v.LinePattern = LinePattern.Dotted;
        }
        plot.XLabel("target angle (degrees); dotted: training angles");
        plot.YLabel("score (largest reward of the episode)");
        plot.Title(FormattableString.Invariant($"Button & Food: score per test angle (seed {r.Options.Seed}, N = {r.Options.Neurons}, {r.Options.Epochs} epochs)"));
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 1000, 640);
        return path;
    }

    /// <summary>Paths of the lowest and the highest rank against the expert's, at about 9 test angles.</summary>
    public static string Trajectories(ButtonFoodResult r, string path)
    {
        var low = r.Ranks.MinBy(x => x.Rank)!;
        var high = r.Ranks.MaxBy(x => x.Rank)!;
        var plot = new Plot();
        int count = r.Options.TestAnglesDeg.Count, step = Math.Max(1, count / 9);
        bool first = true;
        for (int i = 0; i < count; i += step)
        {
            Line(plot, r.ExpertPaths[i], Colors.Gray, 1.5f, LinePattern.Dashed, first ? "expert" : null);
            Line(plot, low.Paths[i], Colors.OrangeRed, 1.5f, LinePattern.Solid, first ? $"R = {low.Rank}" : null);
            if (high != low) Line(plot, high.Paths[i], Colors.SteelBlue, 1.5f, LinePattern.Solid, first ? $"R = {high.Rank}" : null);
            var target = r.Options.Geometry.Target(r.Options.TestAnglesDeg[i] * Math.PI / 180);
            var m = plot.Add.Marker(target.X, target.Y, MarkerShape.FilledCircle, 8);
            m.Color = Colors.Gold;
            first = false;
        }
        var button = plot.Add.Marker(r.Options.Geometry.Button.X, r.Options.Geometry.Button.Y, MarkerShape.FilledSquare, 12);
        button.Color = Colors.DarkGreen;
        button.LegendText = "button";
        plot.Axes.SquareUnits();
        plot.Title(FormattableString.Invariant($"Button & Food: closed-loop paths (seed {r.Options.Seed}); gold: food"));
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 900, 800);
        return path;
    }

    private static void Line(Plot plot, double[] xy, Color color, float width, LinePattern pattern, string? legend)
    {
        int n = xy.Length / 2;
        var xs = new double[n]; var ys = new double[n];
        for (int k = 0; k < n; k++) { xs[k] = xy[2 * k]; ys[k] = xy[2 * k + 1]; }
        var s = plot.Add.Scatter(xs, ys);
        s.Color = color; s.LineWidth = width; s.MarkerSize = 0; s.LinePattern = pattern;
        if (legend is not null) s.LegendText = legend;
    }

    /// <summary>
    /// Mean score (over test angles) against R: one point per seed, the mean over seeds with ± 1 s.d. error bars, and the
    /// expert's mean score.
    /// </summary>
    public static string RewardVsRank(IReadOnlyList<(ulong Seed, int Rank, double MeanScore)> cells, double expertMean, string title, string path)
    {
        var plot = new Plot();
        var ranks = cells.Select(c => c.Rank).Distinct().Order().ToArray();
        var seedsX = cells.Select(c => (double)c.Rank).ToArray();
        var seedsY = cells.Select(c => c.MeanScore).ToArray();
        var dots = plot.Add.ScatterPoints(seedsX, seedsY);
        dots.Color = Colors.Gray.WithAlpha(0.6);
        dots.MarkerSize = 5;
        dots.LegendText = "one seed";
        var mean = ranks.Select(r => cells.Where(c => c.Rank == r).Average(c => c.MeanScore)).ToArray();
        var sd = ranks.Select(r => Statistics.SampleSd(cells.Where(c => c.Rank == r).Select(c => c.MeanScore).ToArray())).ToArray();
        var xs = ranks.Select(r => (double)r).ToArray();
        var line = plot.Add.Scatter(xs, mean);
        line.LegendText = "mean over seeds (bars: 1 s.d.)";
        line.LineWidth = 2;
        line.MarkerSize = 7;
        var bars = plot.Add.ErrorBar(xs, mean, sd);
        bars.Color = line.Color;
        var ex = plot.Add.HorizontalLine(expertMean);
        ex.Color = Colors.Black;
        ex.LinePattern = LinePattern.Dashed;
        ex.LegendText = "expert";
        plot.XLabel("rank R of the feedback");
        plot.YLabel("mean score over test angles");
        plot.Title(title);
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 900, 640);
        return path;
    }

    /// <summary>The title line of a run's options.</summary>
    public static string Describe(ButtonFoodOptions o) => string.Create(CultureInfo.InvariantCulture,
        $"N = {o.Neurons}, tau* = {o.TauStarMs} ms, {o.Epochs} epochs, {o.Feedback.ToString().ToLowerInvariant()} feedback{(o.Clamp ? ", clamped" : "")}");
}
