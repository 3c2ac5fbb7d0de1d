using System.Diagnostics;
using System.Globalization;
using Sim.Cli.Commands;
using Sim.EventCore.Compilation;
using Sim.Experiments;
using Sim.EventCore.Description;
using Sim.EventCore.Precise;
using Sim.Probes.Plots;
using Sim.Probes.Spikes;
using Sim.Probes.Writers;

namespace Sim.Cli;

/// <summary>
/// <c>sim run --engine precise</c>: runs a network on the continuous-time <see cref="PreciseEngine"/> and writes the same
/// outputs as a grid run where they apply: <c>config.yaml</c>, <c>run.h5</c> (spike times as the engine's exact doubles,
/// root attribute <c>engine</c> = "precise", see docs/output-format.md), <c>raster.png</c> (first instance) and the summary.
/// A precise engine simulates one instance, so a batch of B runs the instances <c>run.instance_offset … + B − 1</c> one
/// after another (each with its own initial-state and Poisson draws, as in a grid batch). Checkpoints, state and rate
/// monitors are not available (the engine has no step observers): the first two are refused, the monitors skipped with a note.
/// </summary>
internal static class PreciseRun
{
    /// <summary>Counts spikes per population (all populations, for the summary).</summary>
    private sealed class Counter(int[] popOf, long[] counts) : IPreciseSpikeSink
    {
        public void OnSpike(int instance, double timeMs, int neuron) => counts[popOf[neuron]]++;
    }

    /// <summary>Runs <paramref name="spec"/> (already validated, overrides applied); returns the exit code.</summary>
    public static int Execute(RunArguments args, NetworkSpec spec, TextWriter stdout, TextWriter stderr)
    {
        var compileClock = Stopwatch.StartNew();
        var net = EngineFactory.Compile("precise", spec);
        int batch = spec.Run.Batch, first = spec.Run.InstanceOffset;
        // Unsupported models or features: the engine's SpecException (exit 2) before any output exists.
        var engine = EngineFactory.CreatePrecise(net, first);
        double compileSeconds = compileClock.Elapsed.TotalSeconds;

        int skipped = spec.Monitors.Count(m => m is StateMonitorSpec or RateMonitorSpec);
        if (skipped > 0) stderr.WriteLine($"sim: note: the precise engine records spikes only; {skipped} state/rate monitor(s) of the network are not written");
        var spikeSpecs = spec.Monitors.OfType<SpikeMonitorSpec>().ToArray();
        PreciseSpikeMonitor? monitor = spikeSpecs.Length == 0 ? null
            : new PreciseSpikeMonitor(net, spikeSpecs.Any(s => s.Populations.Length == 0) ? null : spikeSpecs.SelectMany(s => s.Populations).Distinct(), batch, first);

        string runDir = RunCommand.CreateRunDirectory(args.OutDir, spec.Name);
        string config = NetworkFile.Write(spec);
        var files = new List<string> { Path.Combine(runDir, "config.yaml") };
        File.WriteAllText(files[0], config);

        var popOf = new int[net.NeuronCount];
        foreach (var p in net.Populations) Array.Fill(popOf, p.Index, p.Offset, p.Size);
        var counts = new long[net.Populations.Length];
        var counter = new Counter(popOf, counts);

        using var cts = new Interruption();   // Ctrl-C, SIGTERM, SIGHUP
        double duration = spec.Run.DurationMs;
        const int steps = 100;
        string status = "complete";
        long events = 0;
        int instancesRun = 0;
        double simulatedMs = 0, lastTimeMs = 0;
        var wall = Stopwatch.StartNew();
        var sessionStart = DateTimeOffset.Now;
        try
        {
            ProgressDisplay.Run(stderr, args.Progress, "simulating", report =>
            {
            for (int b = 0; b < batch && status == "complete"; b++)
            {
                if (b > 0) engine = EngineFactory.CreatePrecise(net, first + b);
                if (monitor is not null) engine.AddSpikeSink(monitor);
                engine.AddSpikeSink(counter);
                instancesRun++;
                for (int k = 1; k <= steps; k++)
                {
                    // Chunk ends k·T/100 (the last is T exactly); RunMs(a); RunMs(b) equals RunMs(a + b).
                    double end = k == steps ? duration : duration * k / steps;
                    if (end > engine.TimeMs) engine.RunMs(end - engine.TimeMs);
                    report((b + (double)k / steps) / batch, $"instance {first + b}: {engine.TimeMs:F1}/{duration:F1} ms");
                    if (cts.IsCancellationRequested) { status = "interrupted"; break; }
                }
                events += engine.EventsProcessed;
                simulatedMs += engine.TimeMs;
                lastTimeMs = engine.TimeMs;
            }
            return 0;
            });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            status = "failed: " + e.Message;
            if (monitor is not null) files.Add(Hdf5Writer.WritePrecise(Path.Combine(runDir, "run.h5"), net, monitor, engine.TimeMs, config, status: status));
            if (monitor is not null && args.Nwb) files.Add(NwbWriter.WritePrecise(Path.Combine(runDir, "run.nwb"), net, monitor, engine.TimeMs, config, status, sessionStart));
            stderr.WriteLine($"sim: the run failed at {engine.TimeMs} ms of instance {engine.Instance}: {e.Message}");
            stderr.WriteLine($"sim: outputs so far are in {runDir} (marked failed)");
            return ExitCodes.Failure;
        }
        double wallSeconds = wall.Elapsed.TotalSeconds;
        double summaryMs = status == "complete" ? duration : lastTimeMs;
        double? nwbSeconds = null;
        if (monitor is not null)
        {
            files.Add(Hdf5Writer.WritePrecise(Path.Combine(runDir, "run.h5"), net, monitor, summaryMs, config, status: status));
            if (args.Nwb)
            {
                var nwbClock = Stopwatch.StartNew();
                files.Add(NwbWriter.WritePrecise(Path.Combine(runDir, "run.nwb"), net, monitor, summaryMs, config, status, sessionStart));
                nwbSeconds = nwbClock.Elapsed.TotalSeconds;
            }
            if (args.Plot && summaryMs > 0)
                files.Add(RasterPlot.Save(Path.Combine(runDir, "raster.png"), [.. monitor.Populations.Select(p => monitor.GetSpikes(0, p.Name))], summaryMs,
                    title: $"{spec.Name}: instance {first}, precise engine ({status})"));
        }

        double simSeconds = simulatedMs / 1000.0;
        long total = counts.Sum();
        using (var table = new SummaryTable(stdout))
        {
            table.Row("network", $"{spec.Name}{(args.File is null ? " (built-in default: CUBA benchmark)" : "")}");
            table.Row("engine", $"precise (continuous time, one instance at a time)");
            table.Row("neurons", $"{net.NeuronCount:N0} in {net.Populations.Length} population(s); batch {batch} (instances {first}..{first + batch - 1}, {instancesRun} run)");
            table.Row("synapses", $"{net.Synapses.Count + net.TraceSynapses.Count:N0}");
            table.Row("simulated", $"{simulatedMs:F1} ms in all ({duration.ToString(CultureInfo.InvariantCulture)} ms per instance, exact times)");
            table.Row("spikes", $"{total:N0}");
            foreach (var p in net.Populations)
                table.Row("rate", $"{p.Name}: {(simSeconds > 0 ? counts[p.Index] / (p.Size * simSeconds) : 0):F3} Hz");
            table.Row("mean rate", $"{(simSeconds > 0 ? total / (net.NeuronCount * simSeconds) : 0):F3} Hz");
            table.Row("wall time", $"{wallSeconds:F3} s (compile {compileSeconds:F3} s{(nwbSeconds is { } nwb ? $"; then writing run.nwb {nwb:F3} s" : "")})");
            table.Row("real-time", $"{(simSeconds > 0 ? wallSeconds / simSeconds : 0):F3} s wall per simulated s");
            table.Row("events", $"{events:N0} ({(wallSeconds > 0 ? events / wallSeconds : 0):N0} events/s; arrivals, input spikes, threshold crossings)");
            table.Row("status", $"{status}");
            table.Row("outputs", $"{runDir}");
            foreach (var f in files) table.Row("", $"{Path.GetFileName(f)}");
            if (monitor is null) table.Row("", $"(no spike monitor in the network: no run.h5{(args.Nwb ? ", run.nwb" : "")} or raster.png)");
        }
        return status == "complete" ? ExitCodes.Ok : cts.ExitCode;
    }
}
