using ScottPlot;

namespace Sim.Experiments;

/// <summary>Figures of one cloning cell (docs/tasks/bipedal.md): the learning curve and the hull trajectories of clone and expert.</summary>
public static class BipedalCloningPlots
{
    /// <summary>"R = 4, τ⋆ = 0.1 ms, N = 500, seed 1".</summary>
    public static string Describe(BipedalCloningOptions o) => FormattableString.Invariant($"R = {o.Rank}, tau* = {o.TauStarMs:G4} ms, N = {o.Neurons}, seed {o.Seed}");

    /// <summary>Mean test return per iteration (each episode's return as dots) against the expert's mean on the same terrains.</summary>
    public static string LearningCurve(BipedalCloningResult r, string path)
    {
        var plot = new Plot();
        double[] k = [.. r.Iterations.Select(i => (double)i.Iteration)];
        var mean = plot.Add.Scatter(k, [.. r.Iterations.Select(i => i.MeanReturn)]);
        mean.LegendText = "clone, mean test return";
        mean.Color = Colors.SteelBlue;
        var xs = r.Iterations.SelectMany(i => i.Returns.Select(_ => (double)i.Iteration)).ToArray();
        var ys = r.Iterations.SelectMany(i => i.Returns).ToArray();
        var dots = plot.Add.ScatterPoints(xs, ys);
        dots.Color = Colors.SteelBlue.WithAlpha(0.35);
        dots.LegendText = "clone, per episode";
        var expert = plot.Add.HorizontalLine(r.Expert.Returns.Average());
        expert.Color = Colors.Black;
        expert.LinePattern = LinePattern.Dashed;
        expert.LegendText = "expert (same terrains)";
        plot.XLabel("training iteration (0: before recurrent learning)");
        plot.YLabel("test return");
        plot.Title($"BipedalWalker-v3 cloning, {Describe(r.Options)}");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 1000, 550);
        return path;
    }

    /// <summary>Hull height against forward position: the clone's last test episodes and the expert on the same terrains.</summary>
    public static string Trajectories(BipedalCloningResult r, string path)
    {
        var plot = new Plot();
        void Add(BipedalTest t, Color color, string name)
        {
            for (int e = 0; e < t.HullX.Length; e++)
            {
                var s = plot.Add.Scatter(t.HullX[e], t.HullY[e]);
                s.MarkerSize = 0;
                s.LineWidth = 1.2f;
                s.Color = color;
                if (e == 0) s.LegendText = name;
            }
        }
        Add(r.Expert, Colors.Gray, "expert");
        Add(r.LastTest, Colors.OrangeRed, $"clone (iteration {r.Iterations[^1].Iteration})");
        var finish = plot.Add.VerticalLine(BipedalConstants.FinishX);
        finish.Color = Colors.Black;
        finish.LinePattern = LinePattern.Dashed;
        finish.LegendText = "finish";
        plot.XLabel("hull x (m)");
        plot.YLabel("hull y (m)");
        plot.Title($"Hull trajectories, {Describe(r.Options)}");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 1200, 500);
        return path;
    }
}
