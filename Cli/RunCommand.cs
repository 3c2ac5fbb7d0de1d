using System.Diagnostics;
using System.Globalization;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Experiments;

namespace Sim.Cli;

/// <summary><c>sim run</c>: compile, run with a progress bar, write outputs, print a summary.</summary>
public static class RunCommand
{
    /// <summary>Executes a run; returns the exit code.</summary>
    public static int Execute(RunArguments args, TextWriter stdout, TextWriter stderr)
    {
        NetworkSpec spec = args.File is null ? BenchmarkNetworks.Cuba() : LoadFile(args.File);
        spec = args.Apply(spec);
        spec.EnsureValid();
        if (args.Engine == "precise") return PreciseRun.Execute(args, spec, stdout, stderr);

        var compileClock = Stopwatch.StartNew();
        long baseline = Environment.WorkingSet;
        var net = NetworkCompiler.Compile(spec, args.MaxMemoryBytes);
        double compileSeconds = compileClock.Elapsed.TotalSeconds;

        Checkpoint? resume = null;
        if (args.Resume is not null)
        {
            if (!File.Exists(args.Resume)) throw new UsageException($"checkpoint '{args.Resume}' does not exist");
            try { resume = Checkpoint.Load(args.Resume); }
            catch (InvalidDataException e) { throw new UsageException($"checkpoint '{args.Resume}': {e.Message}"); }
        }
        // May refuse a batch too large for memory, or a missing CUDA: before any output exists.
        using var engine = EngineFactory.CreateGrid(args.Engine, net, new EngineSettings { MemoryBudgetBytes = args.MaxMemoryBytes });
        if (resume is not null)
        {
            try { engine.Restore(resume); }
            catch (InvalidDataException e) { throw new UsageException($"checkpoint '{args.Resume}': {e.Message}"); }
        }
        string runDir = CreateRunDirectory(args.OutDir, spec.Name);
        using var cts = new Interruption();   // Ctrl-C, SIGTERM, SIGHUP
        {
            using var outputs = new RunOutputs(net, engine, runDir, spec);
            var digest = new RunDigest(engine.FirstInstance, engine.BatchSize);
            engine.AddSpikeSink(digest);
            var bar = new ProgressBar(stderr, args.Progress && !Console.IsErrorRedirected);
            long total = Math.Max(0, net.DurationTicks - engine.Tick);
            long step = Math.Max(100, total / 100);
            var wall = Stopwatch.StartNew();
            long done = 0;
            string status = "complete";
            try
            {
                while (done < total)
                {
                    var last = engine.Run(Math.Min(step, total - done), cts.Token);
                    done += last.TicksRun;
                    bar.Report((double)done / Math.Max(1, total), $"{engine.TimeMs:F1}/{net.DurationTicks * net.DtMs:F1} ms");
                    if (last.Cancelled) { status = "interrupted"; break; }
                    if (last.Stop is not null) { status = "stopped: " + last.Stop.Reason; break; }
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                status = "failed: " + e.Message;
                if (args.SaveCheckpoint) engine.SaveCheckpoint().Save(Path.Combine(runDir, "checkpoint.ckpt"));
                outputs.Finish(status, args.Plot, args.Nwb);
                stderr.WriteLine($"sim: the run failed at tick {engine.Tick}: {e.Message}");
                stderr.WriteLine($"sim: outputs so far are in {runDir} (marked failed)");
                return ExitCodes.Failure;
            }
            double wallSeconds = wall.Elapsed.TotalSeconds;
            if (total == 0) bar.Report(1, "0 ms");
            var summary = outputs.Finish(status, args.Plot, args.Nwb);
            if (args.SaveCheckpoint)
            {
                string ckpt = Path.Combine(runDir, "checkpoint.ckpt");
                engine.SaveCheckpoint().Save(ckpt);
                summary = summary with { Files = [.. summary.Files, ckpt] };
            }
            double simSeconds = done * net.DtMs / 1000.0;
            stdout.WriteLine($"network      {spec.Name}{(args.File is null ? " (built-in default: CUBA benchmark)" : "")}");
            stdout.WriteLine($"engine       {engine.EngineName}{(resume is not null ? $", resumed at tick {resume.Tick:N0}" : "")}");
            stdout.WriteLine($"neurons      {net.NeuronCount:N0} in {net.Populations.Length} population(s); batch {engine.BatchSize}");
            stdout.WriteLine($"synapses     {net.Synapses.Count + net.TraceSynapses.Count:N0}");
            stdout.WriteLine($"simulated    {done * net.DtMs:F1} ms ({done:N0} ticks of {net.DtMs.ToString(CultureInfo.InvariantCulture)} ms)");
            if (resume is not null) stdout.WriteLine($"interval     {summary.StartMs:F1} to {summary.EndMs:F1} ms (spikes and rates of this run, from the checkpoint on)");
            stdout.WriteLine($"spikes       {summary.TotalSpikes:N0}");
            foreach (var (name, rate) in summary.RatesHz) stdout.WriteLine($"rate         {name}: {Hz(rate)}");
            stdout.WriteLine($"mean rate    {Hz(summary.MeanRateHz)}");
            stdout.WriteLine($"wall time    {wallSeconds:F3} s (compile {compileSeconds:F3} s; then writing run.h5 {summary.WriteSeconds:F3} s{(summary.NwbWriteSeconds is { } nwb ? $", run.nwb {nwb:F3} s" : "")}, plotting {summary.PlotSeconds:F3} s{(args.Plot ? ", --no-plot skips it" : "")})");
            stdout.WriteLine($"real-time    {(simSeconds > 0 ? wallSeconds / simSeconds : 0):F3} s wall per simulated s (per instance: {(simSeconds > 0 ? wallSeconds / simSeconds / engine.BatchSize : 0):F3})");
            stdout.WriteLine($"phases       {engine.Timings}");
            if (MemoryLine(engine, net, baseline, outputs.SpikeChunkBytes) is { } memory) stdout.WriteLine(memory);
            var (runDigest, stateDigest) = digest.Finish(engine);
            stdout.WriteLine($"digest       {runDigest} (spikes and final state)");
            stdout.WriteLine($"state digest {stateDigest} (final state)");
            stdout.WriteLine($"status       {status}");
            stdout.WriteLine($"outputs      {runDir}");
            foreach (var f in summary.Files) stdout.WriteLine($"             {Path.GetFileName(f)}");
            return status == "complete" ? ExitCodes.Ok : status == "interrupted" ? cts.ExitCode : ExitCodes.GuardStopped;
        }
    }

    /// <summary>
    /// Estimated against measured memory: the runtime's own use at start, plus the compiler's estimate and the engine's
    /// per-instance state times the batch and the spike chunks (docs/reliability.md, "Memory"), against the peak resident
    /// size (VmHWM).
    /// </summary>
    private static string? MemoryLine(Sim.EventCore.Engine.ISimulationEngine engine, CompiledNetwork net, long baseline, double monitors)
    {
        if (engine is not EventEngine e || MemoryBudget.PeakResidentBytes() is not { } peak) return null;
        double state = e.ResidentBytesPerInstance * e.BatchSize;
        double runtime = baseline + MemoryBudget.RuntimeGrowthBytes;
        double estimate = runtime + net.CompileMemoryEstimateBytes + state + monitors;
        return FormattableString.Invariant($"memory       peak {peak / 1048576.0:F0} MiB, estimated {estimate / 1048576.0:F0} MiB (runtime {runtime / 1048576.0:F0}, compile {net.CompileMemoryEstimateBytes / 1048576.0:F0}, state {state / 1048576.0:F0} = {e.BatchSize} x {e.ResidentBytesPerInstance / 1024.0:F1} KiB, spike chunks {monitors / 1048576.0:F0})");
    }

    /// <summary>A rate for the summary; "n/a" for the NaN of an empty interval (a run of 0 ms).</summary>
    private static string Hz(double rate) => double.IsNaN(rate) ? "n/a (nothing simulated)" : $"{rate:F3} Hz";

    internal static NetworkSpec LoadFile(string path)
    {
        if (Directory.Exists(path)) throw new UsageException($"network file '{path}' is a directory; give a YAML network file");
        if (!File.Exists(path)) throw new UsageException($"network file '{path}' does not exist");
        return NetworkFile.Load(path);
    }

    /// <summary>Creates <c>OUT/NAME-yyyyMMdd-HHmmss[-k]</c> and returns it.</summary>
    internal static string CreateRunDirectory(string outDir, string name)
    {
        OutputFolder.EnsureWritable(outDir, "--out");
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string dir = Path.Combine(outDir, $"{name}-{stamp}");
        for (int k = 2; Directory.Exists(dir); k++) dir = Path.Combine(outDir, $"{name}-{stamp}-{k}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
