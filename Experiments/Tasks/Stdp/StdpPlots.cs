using System.Globalization;
using ScottPlot;

namespace Sim.Experiments;

/// <summary>The figures of the STDP protocols (ScottPlot, PNG).</summary>
public static class StdpPlots
{
    /// <summary>The measured window (markers) against the closed form (line): weight change after the pairings vs Δt.</summary>
    public static string Window(StdpWindowResult r, string path)
    {
        var p = new Plot();
        double[] x = [.. r.Points.Select(q => q.DeltaTMs)];
        var closed = p.Add.ScatterLine(x, [.. r.Points.Select(q => q.ClosedFormDw)], Colors.Black);
        closed.LineWidth = 1.5f;
        closed.LegendText = "closed form";
        var measured = p.Add.ScatterPoints(x, [.. r.Points.Select(q => q.MeasuredDw)], Colors.C0);
        measured.MarkerSize = 7;
        measured.LegendText = "measured (event engine, float64 w)";
        p.Add.HorizontalLine(0, 1, Colors.Gray, LinePattern.Dotted);
        p.Add.VerticalLine(0, 1, Colors.Gray, LinePattern.Dotted);
        p.XLabel("Δt = t_post − t_pre (ms)");
        p.YLabel(FormattableString.Invariant($"Δw after {r.Options.Pairings} pairings"));
        var s = r.Options.Rule;
        p.Title(FormattableString.Invariant($"STDP window, {s.Pairing}, μ+ {s.MuPlus:G3}, μ- {s.MuMinus:G3}, λ {s.Lambda:G3}, α {s.Alpha:G3}, τ± {s.TauPlusMs:G3}/{s.TauMinusMs:G3} ms; max dev {r.MaxDeviation:G2}"));
        p.ShowLegend(Alignment.UpperRight);
        p.SavePng(path, 900, 560);
        return path;
    }

    /// <summary>Weight change (%) against pairing frequency for each Δt: measured (markers) and the direct evaluation (lines).</summary>
    public static string Frequency(TripletFrequencyResult r, string path)
    {
        var p = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int k = 0;
        foreach (double dt in r.Options.DeltaTsMs)
        {
            var color = palette.GetColor(k++);
            var cells = r.Points.Where(q => q.DeltaTMs == dt).OrderBy(q => q.FrequencyHz).ToArray();
            double[] f = [.. cells.Select(q => q.FrequencyHz)];
            var line = p.Add.ScatterLine(f, [.. cells.Select(q => 100 * q.DirectDw / q.InitialWeight)], color);
            line.LineWidth = 1.5f;
            line.LegendText = FormattableString.Invariant($"Δt = {dt:+0;-0} ms: triplet equations, direct sum");
            var m = p.Add.ScatterPoints(f, [.. cells.Select(q => q.PercentChange)], color);
            m.MarkerSize = 8;
            m.LegendText = FormattableString.Invariant($"Δt = {dt:+0;-0} ms: measured");
        }
        p.Add.HorizontalLine(0, 1, Colors.Gray, LinePattern.Dotted);
        p.XLabel("pairing frequency ρ (Hz)");
        p.YLabel(FormattableString.Invariant($"weight change after {r.Options.Pairings} pairings (%)"));
        p.Title(FormattableString.Invariant($"triplet STDP, frequency dependence (Pfister & Gerstner 2006 visual cortex); max dev {r.MaxDeviation:G2}"));
        p.ShowLegend(Alignment.UpperLeft);
        p.SavePng(path, 900, 560);
        return path;
    }
}
