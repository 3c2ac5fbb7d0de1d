using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Probes;
using Sim.Probes.Plots;
using Sim.Probes.Spikes;
using Sim.Probes.Writers;

namespace Sim.Cli;

/// <summary>
/// What a finished run reports: spikes and rates over [StartMs, EndMs) (StartMs &gt; 0 for a resumed run; rates NaN when
/// the interval is empty, and for populations that emit no spikes, which the mean rate leaves out).
/// </summary>
public sealed record RunSummary(long TotalSpikes, IReadOnlyList<(string Population, double RateHz)> RatesHz, double MeanRateHz, IReadOnlyList<string> Files,
    double StartMs = 0, double EndMs = 0, double WriteSeconds = 0, double PlotSeconds = 0, double? NwbWriteSeconds = null);

/// <summary>
/// The monitors of a run and the files they end in. <c>config.yaml</c> is written before the run starts, spikes stream
/// to <c>spikes.bin</c> chunk by chunk while it runs, and <c>run.h5</c> (written as <c>.partial</c>, renamed when complete)
/// and <c>raster.png</c> (and <c>run.nwb</c> with <c>--nwb</c>) at the end, also when the run was interrupted or stopped (their status says so). Everything
/// covers the interval this process ran: from the engine's tick at construction (a resumed run's checkpoint) to the end.
/// </summary>
internal sealed class RunOutputs : ISpikeSink, IDisposable
{
    private readonly CompiledNetwork _net;
    private readonly ISimulationEngine _engine;
    private readonly string _dir;
    private readonly string _config;
    private readonly long[][] _counts;   // per batch element, per population: no sharing between worker threads
    private readonly int[] _popOf;
    private readonly MonitorSet _monitors;
    private readonly double _startMs;
    private readonly DateTimeOffset _sessionStart = DateTimeOffset.Now;

    public RunOutputs(CompiledNetwork net, ISimulationEngine engine, string dir, NetworkSpec spec)
    {
        _net = net; _engine = engine; _dir = dir;
        _startMs = engine.TimeMs;
        _counts = [.. Enumerable.Range(0, engine.BatchSize).Select(_ => new long[net.Populations.Length])];
        _popOf = new int[net.NeuronCount];
        foreach (var p in net.Populations) Array.Fill(_popOf, p.Index, p.Offset, p.Size);
        _config = NetworkFile.Write(spec);
        File.WriteAllText(Path.Combine(dir, "config.yaml"), _config);
        var spikeOptions = new SpikeMonitorOptions { StreamPath = Path.Combine(dir, "spikes.bin"), ChunkEntries = SpikeMonitorOptions.ChunkEntriesFor(engine.BatchSize) };
        _monitors = MonitorSet.FromSpec(net, engine.BatchSize, engine.FirstInstance, spikeOptions, engine.Tick);
        SpikeChunkBytes = _monitors.Spikes is null ? 0 : spikeOptions.ChunkBytes(engine.BatchSize);
        _monitors.AttachTo(engine);
        engine.AddSpikeSink(this);
    }

    /// <summary>
    /// Bytes the spike monitor's chunks can hold at once (0 without one): the stream's chunks are sized for the batch
    /// (<see cref="SpikeMonitorOptions.ChunkEntriesFor"/>).
    /// </summary>
    public long SpikeChunkBytes { get; }

    public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
    {
        var counts = _counts[instance - _engine.FirstInstance];
        foreach (int n in neurons) counts[_popOf[n]]++;
    }

    public RunSummary Finish(string status, bool plot, bool nwb = false)
    {
        var files = new List<string> { Path.Combine(_dir, "config.yaml") };
        _monitors.Flush();
        if (_monitors.Spikes is not null) files.Add(Path.Combine(_dir, "spikes.bin"));
        double endMs = _engine.TimeMs;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        files.Add(Hdf5Writer.Write(Path.Combine(_dir, "run.h5"), _net, _monitors, endMs, _config, status: status, engine: _engine.EngineName, startMs: _startMs));
        double writeSeconds = clock.Elapsed.TotalSeconds;
        double? nwbSeconds = null;
        if (nwb)
        {
            clock.Restart();
            files.Add(NwbWriter.Write(Path.Combine(_dir, "run.nwb"), _net, _monitors, endMs, _config, status, _engine.EngineName, _startMs, _sessionStart));
            nwbSeconds = clock.Elapsed.TotalSeconds;
        }
        clock.Restart();
        if (plot && _monitors.Spikes is not null && endMs > _startMs)
            files.Add(RasterPlot.Save(Path.Combine(_dir, "raster.png"), _monitors.Spikes, 0, endMs, title: $"{_net.Spec.Name} ({status})", startMs: _startMs));
        double plotSeconds = clock.Elapsed.TotalSeconds;
        double seconds = (endMs - _startMs) / 1000.0 * _engine.BatchSize;
        var perPopulation = _net.Populations.Select(p => _counts.Sum(c => c[p.Index])).ToArray();
        // A population that emits no spikes (rate_tanh) has no firing rate (NaN) and is left out of the mean.
        var rates = _net.Populations.Select(p => (p.Name, seconds > 0 && p.Model.EmitsSpikes ? perPopulation[p.Index] / (p.Size * seconds) : double.NaN)).ToList();
        long total = perPopulation.Sum();
        int spiking = _net.Populations.Where(p => p.Model.EmitsSpikes).Sum(p => p.Size);
        return new RunSummary(total, rates, seconds > 0 && spiking > 0 ? total / (spiking * seconds) : double.NaN, files, _startMs, endMs, writeSeconds, plotSeconds, nwbSeconds);
    }

    public void Dispose() => _monitors.Dispose();
}
