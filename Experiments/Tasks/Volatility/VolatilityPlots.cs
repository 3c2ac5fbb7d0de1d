using System.Globalization;
using ScottPlot;

namespace Sim.Experiments;

/// <summary>
/// PNG figures of the volatility task, after Piray &amp; Daw (2021): the end learning rate per condition for each model
/// (the lesion figure's top row), the estimated volatility and stochasticity per condition (Fig. 2), and the learning
/// rate over trials.
/// </summary>
public static class VolatilityPlots
{
    /// <summary>Bars of one end quantity per condition (x: true volatility; one bar per true stochasticity, ± s.e.), one panel per model.</summary>
    public static string EndBars(VolatilityResult r, string path, string quantity = "learning rate")
    {
        Func<VolatilityCell, MeanSe> pick = quantity switch
        {
            "learning rate" => c => c.EndLearningRate,
            "estimated volatility" => c => c.EndVolatility,
            "estimated stochasticity" => c => c.EndStochasticity,
            _ => throw new ArgumentOutOfRangeException(nameof(quantity)),
        };
        var palette = new ScottPlot.Palettes.Category10();
        var plots = new List<Plot>();
        int ns = r.Options.Stochasticities.Count;
        double width = 0.8 / ns;
        foreach (var m in r.Options.Models)
        {
            var p = new Plot();
            var bars = new List<Bar>();
            for (int vi = 0; vi < r.Options.Volatilities.Count; vi++)
                for (int si = 0; si < ns; si++)
                {
                    var x = pick(r.Cell(m, new(r.Options.Volatilities[vi], r.Options.Stochasticities[si])));
                    bars.Add(new Bar { Position = vi + (si - (ns - 1) / 2.0) * width, Value = x.Mean, Error = x.Se, Size = width * 0.9, FillColor = palette.GetColor(si) });
                }
            p.Add.Bars(bars);
            for (int si = 0; si < ns; si++)
                p.Legend.ManualItems.Add(new LegendItem { LabelText = FormattableString.Invariant($"true stochasticity {r.Options.Stochasticities[si]:G4}"), FillColor = palette.GetColor(si) });
            p.Axes.Bottom.SetTicks([.. Enumerable.Range(0, r.Options.Volatilities.Count).Select(i => (double)i)],
                [.. r.Options.Volatilities.Select(v => v.ToString("G4", CultureInfo.InvariantCulture))]);
            p.XLabel("true volatility");
            p.YLabel(quantity);
            p.Title(FormattableString.Invariant($"{VolatilityTask.ModelName(m)}: {quantity}, mean of the last {r.Options.EndTrials} trials (+- s.e., {r.Options.Simulations} simulations)"));
            p.Axes.Margins(bottom: 0);
            p.ShowLegend(Alignment.UpperLeft);
            plots.Add(p);
        }
        return Save(plots, path);
    }

    /// <summary>The learning rate over trials per condition, one panel per model (mean over simulations).</summary>
    public static string Curves(VolatilityResult r, string path)
    {
        var palette = new ScottPlot.Palettes.Category10();
        var plots = new List<Plot>();
        double[] trials = [.. Enumerable.Range(1, r.Options.Trials).Select(t => (double)t)];
        foreach (var m in r.Options.Models)
        {
            var p = new Plot();
            int k = 0;
            foreach (var c in r.Conditions)
            {
                var s = p.Add.ScatterLine(trials, [.. r.Cell(m, c).LearningRate.Select(x => x.Mean)], palette.GetColor(k++));
                s.LegendText = $"true {c}";
                s.LineWidth = 2;
            }
            p.XLabel("trial");
            p.YLabel("learning rate");
            p.Title($"{VolatilityTask.ModelName(m)}: learning rate per trial (mean over {r.Options.Simulations} simulations)");
            p.ShowLegend(Alignment.UpperRight);
            plots.Add(p);
        }
        return Save(plots, path);
    }

    private static string Save(List<Plot> plots, string path)
    {
        var figure = new Multiplot();
        figure.Reset(plots[0]);
        foreach (var p in plots.Skip(1)) figure.AddPlot(p);
        figure.SavePng(path, 900, 330 * plots.Count);
        return path;
    }
}
