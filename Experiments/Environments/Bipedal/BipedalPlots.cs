using System.Globalization;
using ScottPlot;
using Sim.Experiments.Box2D;

namespace Sim.Experiments;

/// <summary>PNG figures of <see cref="BipedalWalker"/> episodes: hull trajectories, and frames of one episode.</summary>
public static class BipedalPlots
{
    /// <summary>Hull height against forward position for every episode (finished: blue, fell: red, time limit: grey), with the finish line.</summary>
    public static string Trajectories(IReadOnlyList<BipedalEpisode> episodes, ulong seed, string path)
    {
        var plot = new Plot();
        bool[] legend = new bool[4];
        foreach (var e in episodes)
        {
            var s = plot.Add.Scatter(e.HullX, e.HullY);
            s.MarkerSize = 0;
            s.LineWidth = 1.2f;
            s.Color = e.Outcome switch { BipedalOutcome.Finished => Colors.SteelBlue, BipedalOutcome.Fell => Colors.OrangeRed, _ => Colors.Gray };
            if (!legend[(int)e.Outcome]) { s.LegendText = e.Outcome.ToString().ToLowerInvariant(); legend[(int)e.Outcome] = true; }
        }
        var finish = plot.Add.VerticalLine(BipedalConstants.FinishX);
        finish.Color = Colors.Black;
        finish.LinePattern = LinePattern.Dashed;
        finish.LegendText = "finish";
        plot.XLabel("hull x (m)");
        plot.YLabel("hull y (m)");
        int done = episodes.Count(e => e.Finished);
        plot.Title(FormattableString.Invariant($"BipedalWalker-v3, expert: hull trajectories of {episodes.Count} episodes (seed {seed}; {done} finished)"));
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 1200, 500);
        return path;
    }

    /// <summary>One frame: the terrain near the walker, the hull and the four leg segments (polygons from the body states).</summary>
    public static void Frame(BipedalWalker env, double ret, string path)
    {
        var plot = new Plot();
        var hull = env.HullState;
        double x0 = hull.X - 4, x1 = hull.X + 8;
        var tx = new List<double>(); var ty = new List<double>();
        for (int i = 0; i < env.TerrainX.Length; i++)
            if (env.TerrainX[i] >= x0 - 1 && env.TerrainX[i] <= x1 + 1) { tx.Add(env.TerrainX[i]); ty.Add(env.TerrainY[i]); }
        var ground = plot.Add.Scatter(tx.ToArray(), ty.ToArray());
        ground.MarkerSize = 0; ground.LineWidth = 2; ground.Color = Colors.Green;
        var bodies = env.Bodies();
        Polygon(plot, bodies[0], BipedalConstants.HullPolygonPx, 1 / BipedalConstants.Scale, Colors.MediumPurple);
        double w = BipedalConstants.LegW / 2, h = BipedalConstants.LegH / 2;
        for (int k = 1; k <= 4; k++)
        {
            double hw = k % 2 == 1 ? w : 0.8 * w;
            Polygon(plot, bodies[k], [-hw, -h, hw, -h, hw, h, -hw, h], 1, k <= 2 ? Colors.Plum : Colors.DarkOrchid);
        }
        plot.Axes.SetLimits(x0, x1, hull.Y - 3.5, hull.Y + 2.5);
        plot.Axes.SquareUnits();
        plot.Title(string.Create(CultureInfo.InvariantCulture, $"step {env.Steps}, x = {hull.X:F2} m, return {ret:F1}"));
        plot.SavePng(path, 800, 500);
    }

    private static void Polygon(Plot plot, BodyState b, ReadOnlySpan<double> local, double scale, Color color)
    {
        int n = local.Length / 2;
        var pts = new Coordinates[n];
        double c = Math.Cos(b.Angle), s = Math.Sin(b.Angle);
        for (int k = 0; k < n; k++)
        {
            double lx = local[2 * k] * scale, ly = local[2 * k + 1] * scale;
            pts[k] = new Coordinates(b.X + c * lx - s * ly, b.Y + s * lx + c * ly);
        }
        var p = plot.Add.Polygon(pts);
        p.FillColor = color;
        p.LineColor = Colors.Black;
    }
}
