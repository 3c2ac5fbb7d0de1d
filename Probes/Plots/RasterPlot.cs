using ScottPlot;
using Sim.Probes.Spikes;

namespace Sim.Probes.Plots;

/// <summary>
/// A two-panel PNG figure (ScottPlot, rendered headless through SkiaSharp): on top a spike raster, populations
/// stacked in the given order (y = population start + local id, one colour per population); below, each
/// population's rate in Hz in bins of <c>binMs</c> (spike count / (size · bin width)), against time in ms.
/// Long runs stay readable and cheap: beyond <see cref="MaxRasterSpikes"/> spikes the raster shows only the last
/// window that holds about that many (said in its title), and beyond <see cref="MaxRateBins"/> bins the rate bins widen
/// (the rate panel always covers the whole run).
/// </summary>
public static class RasterPlot
{
    /// <summary>The most spikes drawn as markers; a run with more shows its last window holding about this many.</summary>
    public const int MaxRasterSpikes = 30_000;
    /// <summary>The most rate bins; a longer run gets wider bins.</summary>
    public const int MaxRateBins = 4000;

    /// <summary>Draws the spikes of one batch element of a monitor (every recorded population).</summary>
    /// <param name="path">PNG file to write.</param>
    /// <param name="monitor">The spike monitor (flushed here).</param>
    /// <param name="batchIndex">Batch element.</param>
    /// <param name="durationMs">Time axis end (ms); null: the ticks the monitor has seen times dt.</param>
    /// <param name="binMs">Rate bin width (ms).</param>
    /// <param name="title">Figure title; null: network name and instance.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <returns>The path written.</returns>
    /// <param name="startMs">Time axis start (ms): a resumed run's checkpoint time, 0 otherwise.</param>
    public static string Save(string path, SpikeMonitor monitor, int batchIndex = 0, double? durationMs = null, double binMs = 5,
        string? title = null, int width = 1200, int height = 800, double startMs = 0)
    {
        monitor.Flush();
        var spikes = monitor.Populations.Select(p => monitor.GetSpikes(batchIndex, p.Name)).ToArray();
        return Save(path, spikes, durationMs ?? monitor.TicksSeen(batchIndex) * monitor.Network.DtMs, binMs,
            title ?? $"{monitor.Network.Spec.Name}: instance {monitor.FirstInstance + batchIndex}", width, height, startMs);
    }

    /// <summary>Draws the given populations' spikes.</summary>
    /// <param name="path">PNG file to write.</param>
    /// <param name="populations">Spikes per population, stacked bottom-up in this order.</param>
    /// <param name="durationMs">Time axis end (ms).</param>
    /// <param name="binMs">Rate bin width (ms).</param>
    /// <param name="title">Figure title.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="startMs">Time axis start (ms), before <paramref name="durationMs"/>; rate bins start there.</param>
    /// <returns>The path written.</returns>
    public static string Save(string path, IReadOnlyList<PopulationSpikes> populations, double durationMs, double binMs = 5,
        string title = "Spike raster", int width = 1200, int height = 800, double startMs = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(durationMs - startMs, nameof(durationMs));
        ArgumentOutOfRangeException.ThrowIfNegative(startMs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(binMs);
        var raster = new Plot();
        var rates = new Plot();
        double spanMs = durationMs - startMs;
        binMs = Math.Max(binMs, spanMs / MaxRateBins);
        int bins = Math.Max(1, (int)Math.Ceiling(spanMs / binMs));
        long total = populations.Sum(p => (long)p.Count);
        double windowStart = RasterWindowStart(total, startMs, durationMs);
        var binCenters = Enumerable.Range(0, bins).Select(j => startMs + (j + 0.5) * binMs).ToArray();
        int offset = 0;
        for (int p = 0; p < populations.Count; p++)
        {
            var pop = populations[p];
            var color = raster.Add.Palette.GetColor(p);
            int from = LowerBound(pop.TimesMs, windowStart);   // spikes are in ascending time
            var xs = pop.TimesMs.AsSpan(from).ToArray();
            var ys = new double[xs.Length];
            for (int k = 0; k < ys.Length; k++) ys[k] = offset + pop.NeuronIds[from + k];
            var markers = raster.Add.Markers(xs, ys, MarkerShape.FilledSquare, 2, color);
            markers.LegendText = $"{pop.Population} ({pop.Count} spikes)";

            var counts = new double[bins];
            foreach (double t in pop.TimesMs)
            {
                int j = (int)Math.Floor((t - startMs) / binMs);
                if (j >= 0 && j < bins) counts[j]++;
            }
            for (int j = 0; j < bins; j++)
            {
                double widthS = Math.Min(binMs, spanMs - j * binMs) / 1000.0;
                counts[j] /= pop.Size * widthS;
            }
            var line = rates.Add.ScatterLine(binCenters, counts, color);
            line.LegendText = pop.Population;
            offset += pop.Size;
        }

        raster.Title(windowStart > startMs
            ? $"{title}: raster of the last {durationMs - windowStart:G4} ms ({total:N0} spikes in all)"
            : title);
        raster.XLabel("time (ms)");
        raster.YLabel("neuron");
        raster.Axes.SetLimits(windowStart, durationMs, -0.5, Math.Max(1, offset) - 0.5);
        raster.ShowLegend(Alignment.UpperRight);

        rates.Title($"Population rate ({binMs:G4} ms bins)");
        rates.XLabel("time (ms)");
        rates.YLabel("rate (Hz)");
        rates.Axes.SetLimitsX(startMs, durationMs);
        rates.Axes.AutoScaleY();
        rates.ShowLegend(Alignment.UpperRight);

        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var figure = new Multiplot();
        figure.Reset(raster); // a new Multiplot starts with an empty plot of its own
        figure.AddPlot(rates);
        figure.SavePng(path, width, height);
        return path;
    }

    /// <summary>
    /// Where the raster panel starts: <paramref name="startMs"/> for up to <see cref="MaxRasterSpikes"/> spikes, else the
    /// start of the last window that holds about that many at the run's mean rate.
    /// </summary>
    public static double RasterWindowStart(long spikes, double startMs, double endMs)
        => spikes <= MaxRasterSpikes ? startMs : Math.Max(startMs, endMs - (endMs - startMs) * MaxRasterSpikes / spikes);

    private static int LowerBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < value) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
