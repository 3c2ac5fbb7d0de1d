using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Sim.Cli.Commands;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Experiments;

namespace Sim.Cli;

/// <summary>Options of <c>sim run</c>, as parsed.</summary>
public sealed record RunArguments
{
    /// <summary>Network file, or null for the built-in default.</summary>
    public string? File { get; init; }
    /// <summary>Parent folder of the run folder.</summary>
    public string OutDir { get; init; } = "sim-runs";
    /// <summary>Overrides.</summary>
    public double? DurationMs { get; init; }
    /// <summary>Seed override.</summary>
    public ulong? Seed { get; init; }
    /// <summary>Batch override.</summary>
    public int? Batch { get; init; }
    /// <summary>Threads override (0 already resolved to one per core).</summary>
    public int? Threads { get; init; }
    /// <summary>Engine: event, dense, dense-cuda or precise.</summary>
    public string Engine { get; init; } = "event";
    /// <summary>Write a checkpoint at the end.</summary>
    public bool SaveCheckpoint { get; init; }
    /// <summary>Checkpoint to resume from.</summary>
    public string? Resume { get; init; }
    /// <summary>Show a progress bar.</summary>
    public bool Progress { get; init; } = true;
    /// <summary>Draw the raster plot.</summary>
    public bool Plot { get; init; } = true;
    /// <summary>Also write <c>run.nwb</c> (NWB 2.x: units table and state TimeSeries; docs/output-format.md).</summary>
    public bool Nwb { get; init; }
    /// <summary>Memory limit (bytes) for compiling and the engine; null: 80 % of what is available (docs/reliability.md).</summary>
    public long? MaxMemoryBytes { get; init; }

    /// <summary>Applies the overrides to a spec.</summary>
    public NetworkSpec Apply(NetworkSpec spec) => spec with
    {
        Run = spec.Run with
        {
            DurationMs = DurationMs ?? spec.Run.DurationMs,
            Seed = Seed ?? spec.Run.Seed,
            Batch = Batch ?? spec.Run.Batch,
            Threads = Threads ?? spec.Run.Threads,
        },
    };
}

/// <summary><c>sim run</c>: compile, run with a progress bar, write outputs, print a summary.</summary>
public static class RunCommand
{
    /// <summary>What <c>sim run --help</c> prints after the options.</summary>
    private const string Epilog = """
        Outputs (docs/output-format.md): config.yaml, spikes.bin (streamed while running), run.h5 and raster.png at
        the end (also when interrupted; status says so), run.nwb with --nwb, checkpoint.ckpt with --save-checkpoint.
        Exit codes: 0 ok, 1 failure (outputs so far kept, marked failed), 2 bad arguments or network file,
        3 stopped by a run guard, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP (outputs so far kept).
        """;

    /// <summary>The definition of <c>sim run</c>.</summary>
    internal static Command Build(CliIO io)
    {
        var file = new Argument<string?>("FILE") { Description = "network file (YAML, docs/network-file.md); none: the built-in CUBA benchmark (Vogels & Abbott 2005, 4000 LIF neurons, 1 s)", Arity = ArgumentArity.ZeroOrOne };
        var outDir = SimOptions.Out("parent folder of the run folder (default: sim-runs)");
        var duration = SimOptions.DurationMs("override run.duration_ms (ms)");
        var seed = SimOptions.Seed("override run.seed");
        var batch = SimOptions.OptionalInt("--batch", "override run.batch (independent instances)", 1, "B");
        var threads = SimOptions.Int("--threads", "worker threads over instances (default: run.threads of the file; 0: one per core)", 0);
        var engine = SimOptions.Engine("event: sparse, CPU; dense: TorchSharp on CPU; dense-cuda; precise: continuous-time spike times (LifDelta/LifExp only, docs/precise-engine.md; a batch runs one instance after another; no checkpoints, no state/rate monitors)",
            "event", "dense", "dense-cuda", "precise");
        var save = SimOptions.Flag("--save-checkpoint", "write checkpoint.ckpt (the full state) into the run folder at the end, also when interrupted");
        var resume = SimOptions.Make<string?>("--resume", "start from a checkpoint written by either grid engine and run to the duration", "FILE", s => (s, null));
        var maxMemory = SimOptions.Make<double?>("--max-memory-gb", "memory limit (GiB) for compiling and the engine's state (default: 80 % of what the machine has available); a network or batch that would not fit is refused before anything is allocated", "X",
            s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double g) && g > 0 && g <= 1 << 20 ? (g, null) : (null, "is not a memory size > 0 (GiB)"));
        var noProgress = SimOptions.NoProgress();
        var noPlot = SimOptions.NoPlot("raster.png");
        var nwb = SimOptions.Flag("--nwb", "also write run.nwb: spikes (units table) and sampled state (TimeSeries) as an NWB 2.x file (docs/output-format.md)");
        var cmd = new SimCommand("run", "Run a network: the file's, or without FILE the built-in CUBA benchmark (1 s). Outputs go to a new folder under --out, printed at the end.", Epilog)
        {
            file, outDir, duration, seed, batch, threads, engine, save, resume, maxMemory, noProgress, noPlot, nwb,
        };
        SimOptions.Exclusive(cmd, resume, seed);   // the checkpoint carries the seed's streams; another seed would mix two runs
        cmd.Validators.Add(r =>
        {
            if (r.GetResult(engine) is not { Implicit: false, Tokens: [.., { Value: "precise" }] }) return;
            foreach (var o in new Option[] { save, resume })
                if (r.GetResult(o) is { Implicit: false }) r.AddError($"option {o.Name}: the precise engine has no checkpoints (use --engine event or dense)");
        });
        return cmd.Does(r => Execute(new RunArguments
        {
            File = r.GetValue(file),
            OutDir = r.GetValue(outDir) ?? "sim-runs",
            DurationMs = r.GetValue(duration),
            Seed = r.GetValue(seed),
            Batch = r.GetValue(batch),
            Threads = r.Given(threads) ? SimOptions.ThreadCount(r.GetValue(threads)) : null,
            Engine = r.GetValue(engine)!,
            SaveCheckpoint = r.GetValue(save),
            Resume = r.GetValue(resume),
            Progress = !r.GetValue(noProgress),
            Plot = !r.GetValue(noPlot),
            Nwb = r.GetValue(nwb),
            MaxMemoryBytes = r.GetValue(maxMemory) is { } gb ? (long)(gb * (1L << 30)) : null,
        }, io.Out, io.Err));
    }

    /// <summary>Executes a run; returns the exit code.</summary>
    public static int Execute(RunArguments args, TextWriter stdout, TextWriter stderr)
    {
        NetworkSpec spec = args.File is null ? BenchmarkNetworks.Cuba() : LoadFile(args.File);
        spec = args.Apply(spec);
        spec.EnsureValid();
        var rules = Sim.Plasticity.RuleFiles.Rules(spec);   // the file's plasticity entries, checked before anything runs
        if (args.Engine == "precise")
        {
            if (rules.Count > 0) throw new UsageException($"'{spec.Name}' has plasticity rules, which the precise engine does not run; use --engine event or dense");
            return PreciseRun.Execute(args, spec, stdout, stderr);
        }

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
        foreach (var rule in rules) engine.AddPlasticityRule(rule);   // before a restore: a checkpoint's plastic state needs its rules
        if (resume is not null)
        {
            try { engine.Restore(resume); }
            catch (InvalidDataException e) { throw new UsageException($"checkpoint '{args.Resume}': {e.Message}"); }
        }
        // The state and rate monitors grow with the duration: refused up front when the recording alone would not fit.
        double monitorBytes = Sim.Probes.MonitorSet.EstimateBytes(net, engine.BatchSize, engine.Tick);
        long budget = MemoryBudget.Resolve(args.MaxMemoryBytes);
        if (monitorBytes > budget)
            throw new UsageException($"the state and rate monitors of '{spec.Name}' would hold {MemoryBudget.GiB(monitorBytes)} over {net.DurationTicks * net.DtMs:F0} ms x {engine.BatchSize} instance(s), more than the {MemoryBudget.GiB(budget)} allowed (--max-memory-gb); record fewer neurons or variables, or at a longer interval_ms");
        string runDir = CreateRunDirectory(args.OutDir, spec.Name);
        using var cts = new Interruption();   // Ctrl-C, SIGTERM, SIGHUP
        {
            using var outputs = new RunOutputs(net, engine, runDir, spec);
            var digest = new RunDigest(engine.FirstInstance, engine.BatchSize);
            engine.AddSpikeSink(digest);
            long total = Math.Max(0, net.DurationTicks - engine.Tick);
            long step = Math.Max(100, total / 100);
            var wall = Stopwatch.StartNew();
            long done = 0;
            string status = "complete";
            try
            {
                status = ProgressDisplay.Run(stderr, args.Progress, "simulating", report =>
                {
                    while (done < total)
                    {
                        var last = engine.Run(Math.Min(step, total - done), cts.Token);
                        done += last.TicksRun;
                        report((double)done / Math.Max(1, total), $"{engine.TimeMs:F1}/{net.DurationTicks * net.DtMs:F1} ms");
                        if (last.Cancelled) return "interrupted";
                        if (last.Stop is not null) return "stopped: " + last.Stop.Reason;
                    }
                    return "complete";
                });
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
            var summary = outputs.Finish(status, args.Plot, args.Nwb);
            if (args.SaveCheckpoint)
            {
                string ckpt = Path.Combine(runDir, "checkpoint.ckpt");
                engine.SaveCheckpoint().Save(ckpt);
                summary = summary with { Files = [.. summary.Files, ckpt] };
            }
            double simSeconds = done * net.DtMs / 1000.0;
            using (var table = new SummaryTable(stdout))
            {
                table.Row("network", $"{spec.Name}{(args.File is null ? " (built-in default: CUBA benchmark)" : "")}");
                table.Row("engine", $"{engine.EngineName}{(resume is not null ? $", resumed at tick {resume.Tick:N0}" : "")}");
                table.Row("neurons", $"{net.NeuronCount:N0} in {net.Populations.Length} population(s); batch {engine.BatchSize}");
                table.Row("synapses", $"{net.Synapses.Count + net.TraceSynapses.Count:N0}");
                table.Row("simulated", $"{done * net.DtMs:F1} ms ({done:N0} ticks of {net.DtMs.ToString(CultureInfo.InvariantCulture)} ms)");
                if (resume is not null) table.Row("interval", $"{summary.StartMs:F1} to {summary.EndMs:F1} ms (spikes and rates of this run, from the checkpoint on)");
                table.Row("spikes", $"{summary.TotalSpikes:N0}");
                foreach (var (name, rate) in summary.RatesHz)
                    table.Row("rate", $"{name}: {(net.Population(name).Model is { EmitsSpikes: false } m ? $"n/a ({m.Name} emits no spikes)" : Hz(rate))}");
                table.Row("mean rate", net.Populations.Any(p => p.Model.EmitsSpikes) ? Hz(summary.MeanRateHz) : "n/a (no population emits spikes)");
                table.Row("wall time", $"{wallSeconds:F3} s (compile {compileSeconds:F3} s; then writing run.h5 {summary.WriteSeconds:F3} s{(summary.NwbWriteSeconds is { } nwb ? $", run.nwb {nwb:F3} s" : "")}, plotting {summary.PlotSeconds:F3} s{(args.Plot ? ", --no-plot skips it" : "")})");
                table.Row("real-time", $"{(simSeconds > 0 ? wallSeconds / simSeconds : 0):F3} s wall per simulated s (per instance: {(simSeconds > 0 ? wallSeconds / simSeconds / engine.BatchSize : 0):F3})");
                table.Row("phases", $"{engine.Timings}");
                if (MemoryLine(engine, net, baseline, outputs.SpikeChunkBytes, monitorBytes) is { } memory) table.Line(memory);
                var (runDigest, stateDigest) = digest.Finish(engine);
                table.Row("digest", $"{runDigest} (spikes and final state)");
                table.Row("state digest", $"{stateDigest} (final state)");
                table.Row("status", $"{status}");
                table.Row("outputs", $"{runDir}");
                foreach (var f in summary.Files) table.Row("", $"{Path.GetFileName(f)}");
            }
            return status == "complete" ? ExitCodes.Ok : status == "interrupted" ? cts.ExitCode : ExitCodes.GuardStopped;
        }
    }

    /// <summary>
    /// Estimated against measured memory: the runtime's own use at start, plus the compiler's estimate and the engine's
    /// per-instance state times the batch and the spike chunks (docs/reliability.md, "Memory"), against the peak resident
    /// size (VmHWM).
    /// </summary>
    private static string? MemoryLine(Sim.EventCore.Engine.ISimulationEngine engine, CompiledNetwork net, long baseline, double spikeChunks, double monitors)
    {
        if (engine is not EventEngine e || MemoryBudget.PeakResidentBytes() is not { } peak) return null;
        double state = e.ResidentBytesPerInstance * e.BatchSize;
        double runtime = baseline + MemoryBudget.RuntimeGrowthBytes;
        double estimate = runtime + net.CompileMemoryEstimateBytes + state + spikeChunks + monitors;
        return FormattableString.Invariant($"memory       peak {peak / 1048576.0:F0} MiB, estimated {estimate / 1048576.0:F0} MiB (runtime {runtime / 1048576.0:F0}, compile {net.CompileMemoryEstimateBytes / 1048576.0:F0}, state {state / 1048576.0:F0} = {e.BatchSize} x {e.ResidentBytesPerInstance / 1024.0:F1} KiB, spike chunks {spikeChunks / 1048576.0:F0}, state/rate monitors {monitors / 1048576.0:F0})");
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
