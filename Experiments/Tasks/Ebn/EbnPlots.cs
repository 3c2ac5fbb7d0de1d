using ScottPlot;

namespace Sim.Experiments;

/// <summary>
/// PNG figures of the EBN task (docs/tasks/ebn.md): x̂ against x (time course per component and the phase plane), the
/// raster, the ISI CV histogram, the error against the fraction silenced and against the noise σ_V, and the spikes per
/// neuron per second.
/// </summary>
public static class EbnPlots
{
    /// <summary>Every figure into <paramref name="dir"/>; returns the paths.</summary>
    public static IReadOnlyList<string> All(EbnResult r, string dir) =>
    [
        Tracking(r, Path.Combine(dir, "tracking.png")),
        PhasePlane(r, Path.Combine(dir, "phase-plane.png")),
        Raster(r, Path.Combine(dir, "raster.png")),
        IsiCv(r, Path.Combine(dir, "isi-cv.png")),
        Silencing(r, Path.Combine(dir, "silencing.png")),
        Noise(r, Path.Combine(dir, "noise.png")),
        Rates(r, Path.Combine(dir, "rates.png")),
    ];

    /// <summary>x_k and x̂_k against time, one panel per component.</summary>
    public static string Tracking(EbnResult r, string path)
    {
        var plots = new List<Plot>();
        for (int k = 0; k < r.X.Length; k++)
        {
            var p = new Plot();
            var x = p.Add.ScatterLine(r.TimesS, r.X[k], Colors.Black);
            x.LegendText = $"x{k} (teacher)";
            x.LineWidth = 2;
            var xh = p.Add.ScatterLine(r.TimesS, r.XHat[k], Colors.OrangeRed);
            xh.LegendText = $"x̂{k} = (D r){k} (network)";
            p.XLabel("time (s)");
            p.YLabel($"x{k}");
            p.Title(FormattableString.Invariant($"{r.Options.System}, N = {r.Options.Neurons}: component {k} (normalised MSE {r.Main.Nmse:G3})"));
            p.ShowLegend(Alignment.UpperRight);
            plots.Add(p);
        }
        return Save(plots, path, 1000, 300);
    }

    /// <summary>The phase plane (x0, x1) of the teacher and of the network.</summary>
    public static string PhasePlane(EbnResult r, string path)
    {
        var p = new Plot();
        int k1 = Math.Min(1, r.X.Length - 1);
        var x = p.Add.ScatterLine(r.X[0], r.X[k1], Colors.Black);
        x.LegendText = "teacher x";
        var xh = p.Add.ScatterLine(r.XHat[0], r.XHat[k1], Colors.OrangeRed);
        xh.LegendText = "network x̂";
        p.XLabel("x0");
        p.YLabel($"x{k1}");
        p.Title($"{r.Options.System}: phase plane");
        p.ShowLegend(Alignment.UpperRight);
        p.SavePng(path, 600, 600);
        return path;
    }

    /// <summary>Spikes of every neuron.</summary>
    public static string Raster(EbnResult r, string path)
    {
        var p = new Plot();
        if (r.Spikes.Count > 0)
        {
            double[] xs = [.. r.Spikes.Select(s => s.TimeS)], ys = [.. r.Spikes.Select(s => (double)s.Neuron)];
            p.Add.Markers(xs, ys, MarkerShape.FilledSquare, 2, Colors.Black);
        }
        p.XLabel("time (s)");
        p.YLabel("neuron");
        p.Title(FormattableString.Invariant($"raster: {r.Spikes.Count} spikes, {r.Main.SpikesPerNeuronPerS:F1} spikes per neuron per second"));
        p.SavePng(path, 1000, 400);
        return path;
    }

    /// <summary>Histogram of the ISI CV over neurons.</summary>
    public static string IsiCv(EbnResult r, string path)
        => Histogram(r.IsiCvs, 0, 2.5, 25, "ISI CV (std/mean of the inter-spike intervals)",
            FormattableString.Invariant($"ISI CV over {r.IsiCvs.Length} neurons: mean {r.Main.MeanIsiCv:F2}, median {r.Main.MedianIsiCv:F2}; local CV2 {r.Main.MeanCv2:F2} (Poisson: 1)"), path);

    /// <summary>Histogram of spikes per neuron per second.</summary>
    public static string Rates(EbnResult r, string path)
        => Histogram(r.RatesHz, 0, Math.Max(1, r.RatesHz.DefaultIfEmpty(1).Max()) * 1.05, 25, "spikes per neuron per second",
            FormattableString.Invariant($"rates of the {r.RatesHz.Length} living neurons: mean {r.Main.SpikesPerNeuronPerS:F2} Hz"), path);

    /// <summary>Normalised MSE against the fraction of neurons silenced.</summary>
    public static string Silencing(EbnResult r, string path)
        => Curve([.. r.Silencing.Select(c => c.SilencedFraction * 100)], [.. r.Silencing.Select(c => c.Nmse)], "neurons silenced (%)",
            FormattableString.Invariant($"tracking error after silencing (sigma_V = {r.Options.NoiseSigma:G3})"), path);

    /// <summary>Normalised MSE against the membrane noise σ_V.</summary>
    public static string Noise(EbnResult r, string path)
        => Curve([.. r.Noise.Select(c => c.NoiseSigma)], [.. r.Noise.Select(c => c.Nmse)], "membrane noise sigma_V (V-units / sqrt(s))",
            "tracking error against noise (no neuron silenced)", path);

    private static string Curve(double[] xs, double[] ys, string xLabel, string title, string path)
    {
        var p = new Plot();
        var s = p.Add.Scatter(xs, ys, Colors.Navy);
        s.LineWidth = 2;
        s.MarkerSize = 8;
        p.XLabel(xLabel);
        p.YLabel("normalised MSE");
        p.Title(title);
        double top = ys.Where(double.IsFinite).DefaultIfEmpty(1).Max();
        p.Axes.SetLimitsY(0, top > 0 ? top * 1.15 : 1);
        p.SavePng(path, 700, 450);
        return path;
    }

    private static string Histogram(double[] values, double lo, double hi, int bins, string xLabel, string title, string path)
    {
        var p = new Plot();
        double width = (hi - lo) / bins;
        var counts = new double[bins];
        foreach (double v in values)
            if (double.IsFinite(v)) counts[Math.Clamp((int)((v - lo) / width), 0, bins - 1)]++;
        Bar[] bars = [.. Enumerable.Range(0, bins).Select(b => new Bar { Position = lo + (b + 0.5) * width, Value = counts[b], Size = width * 0.95, FillColor = Colors.SteelBlue })];
        p.Add.Bars(bars);
        p.XLabel(xLabel);
        p.YLabel("neurons");
        p.Title(title);
        p.Axes.Margins(bottom: 0);
        p.SavePng(path, 700, 450);
        return path;
    }

    private static string Save(List<Plot> plots, string path, int width, int heightEach)
    {
        var figure = new Multiplot();
        figure.Reset(plots[0]);
        foreach (var p in plots.Skip(1)) figure.AddPlot(p);
        figure.SavePng(path, width, heightEach * plots.Count);
        return path;
    }
}
