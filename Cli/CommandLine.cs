using System.Diagnostics;
using System.Globalization;
using Sim.EventCore.Description;

namespace Sim.Cli;

/// <summary>Parses the command line and dispatches to the commands.</summary>
public static class CommandLine
{
    /// <summary>Top-level help.</summary>
    public const string Help = """
        sim: a spiking-neural-network simulator

        Usage:
          sim run [FILE] [options]       run a network (no FILE: the built-in CUBA benchmark, 1 s)
          sim compare [FILE] [options]   run on the event and the dense engine and check they agree bit for bit
          sim bench [--quick] [--filter NAME] [--repeats N]
                                         macro benchmarks: CUBA, Brunel, the low-rate family (wall s per simulated s,
                                         synaptic events/s, memory, bytes per synapse)
          sim analyze FILE... [options]  rates, ISI CV, Fano factor of run.h5 files; distances and jitter between them
          sim timing [FILE] [options]    spike-time error of the grid engine vs the precise engine as dt shrinks
          sim task store-recall [opts]   one cell of the store-and-recall task with the rank-R / tau* rule
          sim task button-food [opts]    closed-loop behavioural cloning (Button & Food) over ranks R
          sim sweep button-food [opts]   Button & Food over seeds: resumable, shardable, reward vs R with spread
          sim task rank-estimation [opts] estimate the feedback rank R of trained networks from probes
          sim sweep store-recall [opts]  the (R, tau*) grid of that task: resumable, shardable, results.csv, heat maps
          sim engines                    the engines, what each supports, and the registered neuron models
          sim --help                     this text;  sim COMMAND --help  the options of a command

        Exit codes: 0 ok, 1 failure, 2 bad arguments or invalid network file, 3 stopped by a run guard,
        4 engines diverged (compare), 130 interrupted (Ctrl-C), 143 SIGTERM, 129 SIGHUP (handled like Ctrl-C).
        """;

    /// <summary>The words that mark a bug in Sim (an exception no command expected) in the error output.</summary>
    public const string InternalError = "internal error (a bug in sim)";

    /// <summary>Runs the tool with arguments; output to <paramref name="stdout"/>/<paramref name="stderr"/>.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            stdout.WriteLine(Help);
            return args.Length == 0 ? ExitCodes.Usage : ExitCodes.Ok;
        }
        if (args[0] is "--version") { stdout.WriteLine(typeof(CommandLine).Assembly.GetName().Version); return ExitCodes.Ok; }
        try
        {
            return args[0] switch
            {
                "run" => RunCommand.Execute(RunArguments.Parse(args[1..]), stdout, stderr),
                "compare" => CompareCommand.Execute(args[1..], stdout, stderr),
                "bench" => BenchCommand.Execute(args[1..], stdout, stderr),
                "analyze" => AnalyzeCommand.Execute(args[1..], stdout, stderr),
                "timing" => TimingCommand.Execute(args[1..], stdout, stderr),
                "task" => TaskCommand.Execute(args[1..], stdout, stderr),
                "sweep" => SweepCommand.Execute(args[1..], stdout, stderr),
                "engines" => EnginesCommand.Execute(args[1..], stdout),
                _ => throw new UsageException($"unknown command '{args[0]}'"),
            };
        }
        catch (HelpRequested h)
        {
            stdout.WriteLine(h.Text);
            return ExitCodes.Ok;
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"sim: {e.Message}");
            stderr.WriteLine("Try 'sim --help'.");
            return ExitCodes.Usage;
        }
        catch (SpecException e)
        {
            stderr.WriteLine($"sim: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (NotSupportedException e)
        {
            // e.g. --engine dense-cuda on a machine or build without CUDA libtorch.
            stderr.WriteLine($"sim: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is Sim.EventCore.Plasticity.PlasticWeightException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            // A run that cannot go on (a refused weight write, a bad checkpoint, a file problem): what was written is kept.
            stderr.WriteLine($"sim: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Anything else is a bug in Sim: still a message and a documented exit code, never a raw crash; the stack
            // trace goes to stderr only with SIM_TRACE=1 (and to a bug report).
            stderr.WriteLine($"sim: {InternalError}: {e.GetType().Name}: {e.Message}");
            stderr.WriteLine(Environment.GetEnvironmentVariable("SIM_TRACE") == "1"
                ? e.ToString()
                : "sim: please report it with the command line; SIM_TRACE=1 prints the stack trace");
            return ExitCodes.Failure;
        }
    }
}

/// <summary>A command-line mistake (exit code 2).</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Thrown to print a command's help and exit 0.</summary>
public sealed class HelpRequested(string text) : Exception(text)
{
    /// <summary>The help text.</summary>
    public string Text { get; } = text;
}

/// <summary>Options of <c>sim run</c>.</summary>
public sealed record RunArguments
{
    /// <summary>Help text of <c>sim run</c>.</summary>
    public const string Help = """
        sim run [FILE] [options]

        Runs the network described in FILE (YAML, see docs/network-file.md); without FILE, the built-in CUBA
        benchmark (Vogels & Abbott 2005; 4000 LIF neurons, 1 s). Outputs go to a new folder, printed at the end.

        Options:
          -o, --out DIR          parent folder of the run folder (default: sim-runs)
          --duration-ms T        override run.duration_ms
          --seed N               override run.seed
          --batch B              override run.batch (independent instances)
          --threads N            worker threads over instances (0: one per core)
          --engine E             event (default: sparse, CPU), dense (TorchSharp on CPU), dense-cuda, or precise
                                 (continuous-time spike times, LifDelta/LifExp only; see docs/precise-engine.md;
                                 batch > 1: instances run one after another; no checkpoints, no state/rate monitors)
          --save-checkpoint      write checkpoint.ckpt (the full state) into the run folder at the end,
                                 also when interrupted
          --resume FILE          start from a checkpoint written by either engine and run to the duration
          --max-memory-gb X      memory limit for compiling and the engine's state (default: 80 % of what the
                                 machine has available); a network or batch that would not fit is refused
                                 before anything is allocated
          --no-progress          no progress bar
          --no-plot              do not draw raster.png
          --nwb                  also write run.nwb: spikes and sampled state as an NWB 2.x file (docs/output-format.md)
          -h, --help             this text
        """;

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
    /// <summary>Threads override.</summary>
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

    /// <summary>Parses the arguments after <c>run</c>.</summary>
    public static RunArguments Parse(string[] args)
    {
        var r = new RunArguments();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Next()
            {
                if (i + 1 >= args.Length) throw new UsageException($"option {a} needs a value");
                return args[++i];
            }
            double Number(string s)
            {
                if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                    throw new UsageException($"option {a}: '{s}' is not a finite number");
                return v;
            }
            switch (a)
            {
                case "-h" or "--help": throw new HelpRequested(Help);
                case "-o" or "--out": r = r with { OutDir = Next() }; break;
                case "--duration-ms":
                    double d = Number(Next());
                    if (d < 0) throw new UsageException("--duration-ms must be ≥ 0");
                    r = r with { DurationMs = d };
                    break;
                case "--seed":
                    string s = Next();
                    if (!ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)) throw new UsageException($"--seed: '{s}' is not a non-negative integer");
                    r = r with { Seed = seed };
                    break;
                case "--batch":
                    string bs = Next();
                    if (!int.TryParse(bs, CultureInfo.InvariantCulture, out int b) || b < 1) throw new UsageException($"--batch: '{bs}' is not an integer ≥ 1");
                    r = r with { Batch = b };
                    break;
                case "--threads":
                    string ts = Next();
                    if (!int.TryParse(ts, CultureInfo.InvariantCulture, out int t) || t < 0) throw new UsageException($"--threads: '{ts}' is not an integer ≥ 0");
                    r = r with { Threads = t };
                    break;
                case "--engine":
                    string e = Next();
                    if (e is not ("event" or "dense" or "dense-cuda" or "precise")) throw new UsageException($"--engine: '{e}' is not one of event, dense, dense-cuda, precise");
                    r = r with { Engine = e };
                    break;
                case "--save-checkpoint": r = r with { SaveCheckpoint = true }; break;
                case "--resume": r = r with { Resume = Next() }; break;
                case "--no-progress": r = r with { Progress = false }; break;
                case "--no-plot": r = r with { Plot = false }; break;
                case "--nwb": r = r with { Nwb = true }; break;
                case "--max-memory-gb":
                    double gb = Number(Next());
                    if (gb <= 0 || gb > 1 << 20) throw new UsageException("--max-memory-gb must be > 0 (GiB)");
                    r = r with { MaxMemoryBytes = (long)(gb * (1L << 30)) };
                    break;
                default:
                    if (a.StartsWith('-')) throw new UsageException($"unknown option '{a}' for run");
                    if (r.File is not null) throw new UsageException($"only one network file may be given (got '{r.File}' and '{a}')");
                    r = r with { File = a };
                    break;
            }
        }
        return r;
    }

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

/// <summary>A progress bar on a terminal (skipped when output is redirected).</summary>
internal sealed class ProgressBar(TextWriter writer, bool enabled)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDraw = -1;

    public void Report(double fraction, string detail)
    {
        if (!enabled) return;
        long now = _clock.ElapsedMilliseconds;
        if (fraction < 1 && now - _lastDraw < 100) return;
        _lastDraw = now;
        const int width = 30;
        int filled = (int)Math.Round(fraction * width);
        double eta = fraction > 0 ? _clock.Elapsed.TotalSeconds * (1 - fraction) / fraction : 0;
        writer.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {fraction * 100,5:F1}%  {detail}  eta {eta:F1} s   ");
        if (fraction >= 1) writer.WriteLine();
        writer.Flush();
    }
}
