using Sim.Probes.Spikes;

namespace Sim.Probes.Analysis;

/// <summary>Summary statistics of one population's spikes over a run (see <see cref="SpikeStatistics"/> for definitions).</summary>
/// <param name="Population">Population name.</param>
/// <param name="Size">Number of neurons N.</param>
/// <param name="DurationMs">Duration T the rates refer to (ms).</param>
/// <param name="SpikeCount">Spikes in [t₀, t₀ + T).</param>
/// <param name="MeanRateHz">SpikeCount / (N · T) in Hz (NaN for T = 0).</param>
/// <param name="RatesHz">Per-neuron rate (Hz), indexed by population-local id.</param>
/// <param name="IsiCv">Mean over neurons with at least 3 spikes of std(ISI)/mean(ISI); NaN when no neuron qualifies.</param>
/// <param name="IsiCvNeurons">Number of neurons averaged in <see cref="IsiCv"/>.</param>
/// <param name="FanoFactor">Mean over neurons with a nonzero mean count of var/mean of the counts in consecutive windows; NaN when undefined.</param>
/// <param name="FanoWindowMs">Window of the Fano factor (ms).</param>
/// <param name="StartMs">Start t₀ of the interval (ms): 0, or the checkpoint time of a resumed run.</param>
public sealed record PopulationStatistics(string Population, int Size, double DurationMs, long SpikeCount, double MeanRateHz,
    double[] RatesHz, double IsiCv, int IsiCvNeurons, double FanoFactor, double FanoWindowMs, double StartMs = 0);

/// <summary>
/// Accumulates the statistics of one population from spikes fed one at a time, in O(N) memory whatever the number
/// of spikes (so it works on a spike stream of any length). Each neuron's spikes must come in non-decreasing time.
/// Spikes at or after the duration are ignored.
/// </summary>
public sealed class SpikeStatisticsAccumulator
{
    private readonly long[] _count;
    private readonly double[] _last, _isiMean, _isiM2;
    private readonly long[] _window, _windowCount;
    private readonly double[] _countSum, _countSumSq;
    private readonly int _windows;

    /// <summary>Creates an accumulator.</summary>
    /// <param name="population">Population name.</param>
    /// <param name="size">Number of neurons.</param>
    /// <param name="durationMs">Duration T (ms) of the recording; 0 is allowed (rates and Fano factor are then NaN).</param>
    /// <param name="fanoWindowMs">Window (ms) of the Fano factor; ⌊T / window⌋ whole windows are used.</param>
    /// <param name="startMs">
    /// Start t₀ (ms) of the recording (a resumed run's checkpoint time): the statistics cover [t₀, t₀ + T), the Fano
    /// windows start at t₀; spikes outside are ignored.
    /// </param>
    public SpikeStatisticsAccumulator(string population, int size, double durationMs, double fanoWindowMs = SpikeStatistics.DefaultFanoWindowMs,
        double startMs = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(durationMs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fanoWindowMs);
        ArgumentOutOfRangeException.ThrowIfNegative(startMs);
        if (!double.IsFinite(durationMs) || !double.IsFinite(startMs)) throw new ArgumentOutOfRangeException(nameof(durationMs), "start and duration must be finite");
        Population = population;
        Size = size;
        DurationMs = durationMs;
        StartMs = startMs;
        FanoWindowMs = fanoWindowMs;
        _windows = (int)Math.Min(int.MaxValue, Math.Floor(durationMs / fanoWindowMs));
        _count = new long[size];
        _last = new double[size];
        _isiMean = new double[size];
        _isiM2 = new double[size];
        _window = new long[size];
        _windowCount = new long[size];
        _countSum = new double[size];
        _countSumSq = new double[size];
    }

    /// <summary>Population name.</summary>
    public string Population { get; }
    /// <summary>Number of neurons.</summary>
    public int Size { get; }
    /// <summary>Duration (ms).</summary>
    public double DurationMs { get; }
    /// <summary>Start of the recording (ms).</summary>
    public double StartMs { get; }
    /// <summary>Fano window (ms).</summary>
    public double FanoWindowMs { get; }

    /// <summary>Adds one spike of population-local neuron <paramref name="neuron"/> at <paramref name="timeMs"/>.</summary>
    public void Add(double timeMs, int neuron)
    {
        double sinceStart = timeMs - StartMs;
        if (sinceStart >= DurationMs || sinceStart < 0) return;
        long n = ++_count[neuron];
        if (n >= 2)
        {
            // Welford: a perfectly regular train gives M2 = 0 exactly.
            double isi = timeMs - _last[neuron];
            long k = n - 1;
            double delta = isi - _isiMean[neuron];
            _isiMean[neuron] += delta / k;
            _isiM2[neuron] += delta * (isi - _isiMean[neuron]);
        }
        _last[neuron] = timeMs;
        long w = (long)Math.Floor(sinceStart / FanoWindowMs);
        if (w >= _windows) return;
        if (w != _window[neuron]) { CloseWindow(neuron); _window[neuron] = w; }
        _windowCount[neuron]++;
    }

    private void CloseWindow(int neuron)
    {
        double c = _windowCount[neuron];
        _countSum[neuron] += c;
        _countSumSq[neuron] += c * c;
        _windowCount[neuron] = 0;
    }

    /// <summary>The statistics of the spikes added so far.</summary>
    public PopulationStatistics Result()
    {
        double seconds = DurationMs / 1000.0;
        var rates = new double[Size];
        long total = 0;
        double cvSum = 0, ffSum = 0;
        int cvNeurons = 0, ffNeurons = 0;
        for (int i = 0; i < Size; i++)
        {
            total += _count[i];
            rates[i] = seconds > 0 ? _count[i] / seconds : double.NaN;
            if (_count[i] >= 3)
            {
                double variance = _isiM2[i] / (_count[i] - 1); // population variance of the ISIs
                cvSum += Math.Sqrt(Math.Max(0, variance)) / _isiMean[i];
                cvNeurons++;
            }
            if (_windows >= 2)
            {
                double c = _windowCount[i], sum = _countSum[i] + c, sumSq = _countSumSq[i] + c * c;
                double mean = sum / _windows;
                if (mean > 0)
                {
                    double variance = Math.Max(0, sumSq / _windows - mean * mean);
                    ffSum += variance / mean;
                    ffNeurons++;
                }
            }
        }
        return new PopulationStatistics(Population, Size, DurationMs, total, seconds > 0 ? total / (Size * seconds) : double.NaN, rates,
            cvNeurons > 0 ? cvSum / cvNeurons : double.NaN, cvNeurons,
            ffNeurons > 0 ? ffSum / ffNeurons : double.NaN, FanoWindowMs, StartMs);
    }
}

/// <summary>
/// Spike-train summary statistics, computed from recorded spikes (in memory or from the spike stream file):
/// <list type="bullet">
/// <item>rates: per neuron count / T, population mean = total / (N · T), in Hz;</item>
/// <item>ISI CV: per neuron with at least 3 spikes (2 ISIs), σ/μ of its inter-spike intervals (σ with 1/n, the
/// population standard deviation); the population value is the plain mean over those neurons (NaN if none).
/// A regular train gives 0, a Poisson train ≈ 1;</item>
/// <item>Fano factor: per neuron, var/mean (var with 1/W) of its spike counts in the W = ⌊T / window⌋ consecutive
/// whole windows [t₀, t₀ + window), [t₀ + window, t₀ + 2·window), … (t₀ = 0 unless the run was resumed); the population value is the mean over neurons with a
/// nonzero mean count (NaN if none or W &lt; 2). Poisson ≈ 1.</item>
/// </list>
/// </summary>
public static class SpikeStatistics
{
    /// <summary>Default Fano window (ms).</summary>
    public const double DefaultFanoWindowMs = 100;

    /// <summary>Statistics of one population's spikes (arrays of time and population-local id).</summary>
    public static PopulationStatistics Compute(string population, int size, ReadOnlySpan<double> timesMs, ReadOnlySpan<int> neuronIds,
        double durationMs, double fanoWindowMs = DefaultFanoWindowMs, double startMs = 0)
    {
        if (timesMs.Length != neuronIds.Length) throw new ArgumentException("times and neuron ids differ in length");
        var acc = new SpikeStatisticsAccumulator(population, size, durationMs, fanoWindowMs, startMs);
        for (int k = 0; k < timesMs.Length; k++) acc.Add(timesMs[k], neuronIds[k]);
        return acc.Result();
    }

    /// <summary>Statistics of spikes returned by <see cref="SpikeMonitor.GetSpikes"/>.</summary>
    public static PopulationStatistics Compute(PopulationSpikes spikes, double durationMs, double fanoWindowMs = DefaultFanoWindowMs)
        => Compute(spikes.Population, spikes.Size, spikes.TimesMs, spikes.NeuronIds, durationMs, fanoWindowMs);

    /// <summary>
    /// Statistics of every population recorded by <paramref name="monitor"/> in one batch element, streamed chunk by
    /// chunk (memory or file), over [<paramref name="startMs"/>, <paramref name="startMs"/> + duration). The duration
    /// defaults to the ticks the monitor has seen times dt, less the start.
    /// </summary>
    public static IReadOnlyList<PopulationStatistics> FromMonitor(SpikeMonitor monitor, int batchIndex, double? durationMs = null,
        double fanoWindowMs = DefaultFanoWindowMs, double startMs = 0)
    {
        double dt = monitor.Network.DtMs;
        double duration = durationMs ?? Math.Max(0, monitor.TicksSeen(batchIndex) * dt - startMs);
        var pops = monitor.Populations.Select(p => new StreamPopulation(p.Name, p.Offset, p.Size, true)).ToArray();
        var acc = Accumulators(pops, duration, fanoWindowMs, startMs);
        var clock = new Sim.EventCore.Compilation.TickClock(dt);
        foreach (var (t, n) in monitor.BlockMemory(batchIndex)) Feed(t.Span, n.Span, clock, pops, acc);
        return [.. acc.Select(a => a.Result())];
    }

    /// <summary>Statistics of every recorded population of one instance, read from a spike stream file.</summary>
    /// <exception cref="InvalidDataException">The file is torn or corrupt before its end.</exception>
    public static IReadOnlyList<PopulationStatistics> FromStream(string path, int instance, double durationMs,
        double fanoWindowMs = DefaultFanoWindowMs, double startMs = 0)
    {
        using var reader = new SpikeStreamReader(path);
        return FromReader(reader, path, instance, durationMs, fanoWindowMs, startMs);
    }

    /// <summary>Statistics of every recorded population of one instance, read from an open spike stream.</summary>
    /// <param name="memoryBudgetBytes">Memory the per-neuron statistics may take (9 numbers per neuron); null: <see cref="Sim.EventCore.Engine.MemoryBudget.Default"/>.</param>
    /// <exception cref="InvalidDataException">
    /// The stream is torn or corrupt before its end, holds spikes of neurons it does not record, or its header claims
    /// more neurons than the memory allows (a damaged header must not exhaust memory).
    /// </exception>
    public static IReadOnlyList<PopulationStatistics> FromReader(SpikeStreamReader reader, string name, int instance, double durationMs,
        double fanoWindowMs = DefaultFanoWindowMs, double startMs = 0, long? memoryBudgetBytes = null)
    {
        var pops = reader.Header.Populations.Where(p => p.Recorded).ToArray();
        double need = pops.Sum(p => (double)p.Size) * 9 * sizeof(double);
        long budget = Sim.EventCore.Engine.MemoryBudget.Resolve(memoryBudgetBytes);
        if (need > budget)
            throw new InvalidDataException($"spike stream '{name}': its header records {pops.Sum(p => (double)p.Size):E3} neurons, whose statistics need {Sim.EventCore.Engine.MemoryBudget.GiB(need)}, more than the {Sim.EventCore.Engine.MemoryBudget.GiB(budget)} available (a damaged header?)");
        var acc = Accumulators(pops, durationMs, fanoWindowMs, startMs);
        var clock = new Sim.EventCore.Compilation.TickClock(reader.Header.DtMs);
        foreach (var rec in reader.Records(instance)) Feed(rec.Ticks, rec.Neurons, clock, pops, acc);
        if (reader.Truncated) throw new InvalidDataException($"spike stream '{name}' is torn or corrupt");
        return [.. acc.Select(a => a.Result())];
    }

    private static SpikeStatisticsAccumulator[] Accumulators(StreamPopulation[] pops, double durationMs, double window, double startMs)
        => [.. pops.Select(p => new SpikeStatisticsAccumulator(p.Name, p.Size, durationMs, window, startMs))];

    private static void Feed(ReadOnlySpan<long> ticks, ReadOnlySpan<int> neurons, Sim.EventCore.Compilation.TickClock clock, StreamPopulation[] pops,
        SpikeStatisticsAccumulator[] acc)
    {
        if (pops.Length == 0) return;
        int r = 0;
        for (int k = 0; k < ticks.Length; k++)
        {
            int n = neurons[k];
            if (n < pops[r].Offset || n >= pops[r].Offset + pops[r].Size)
            {
                r = -1;
                for (int q = 0; q < pops.Length; q++)
                    if (n >= pops[q].Offset && n < pops[q].Offset + pops[q].Size) { r = q; break; }
                if (r < 0) throw new InvalidDataException($"spike of neuron {n}, which belongs to no recorded population");
            }
            acc[r].Add(clock.TimeMs(ticks[k]), n - pops[r].Offset);
        }
    }
}
