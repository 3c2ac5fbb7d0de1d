using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using Sim.Cli.Commands;
using Sim.EventCore.Description;

namespace Sim.Cli;

/// <summary>
/// The <c>sim</c> command tree (System.CommandLine): parses, reports mistakes against the command that was meant
/// (<c>sim task store-recall: option --rank: …</c>, then <c>Try 'sim task store-recall --help'.</c>), dispatches, and
/// maps every outcome to a documented exit code (<see cref="ExitCodes"/>). The help texts and docs/cli.md are both
/// generated from the definitions (<see cref="CliReference"/>).
/// </summary>
public static class CommandLine
{
    /// <summary>The words that mark a bug in Sim (an exception no command expected) in the error output.</summary>
    public const string InternalError = "internal error (a bug in sim)";

    /// <summary>The exit codes, as printed at the end of <c>sim --help</c>.</summary>
    public const string ExitCodeText = """
        Exit codes: 0 ok, 1 failure, 2 bad arguments or invalid network file, 3 stopped by a run guard,
        4 engines diverged (compare), 130 interrupted (Ctrl-C), 143 SIGTERM, 129 SIGHUP (handled like Ctrl-C).
        """;

    /// <summary>Builds the command tree; the commands write to <paramref name="stdout"/> and <paramref name="stderr"/>.</summary>
    public static RootCommand Build(TextWriter stdout, TextWriter stderr)
    {
        var io = new CliIO(stdout, stderr);
        var root = new RootCommand("sim: a spiking-neural-network simulator (event-driven CPU engine, bit-identical dense engine, continuous-time precise engine, learning rules and their tasks)");
        root.Add(RunCommand.Build(io));
        root.Add(CompareCommand.Build(io));
        root.Add(BenchCommand.Build(io));
        root.Add(AnalyzeCommand.Build(io));
        root.Add(TimingCommand.Build(io));
        root.Add(TaskCommand.Build(io));
        root.Add(SweepCommand.Build(io));
        root.Add(EnginesCommand.Build(io));
        var reference = new SimCommand("cli-reference", "Print the Markdown CLI reference (docs/cli.md) generated from these definitions.") { Hidden = true };
        root.Add(reference.Does(_ => { stdout.Write(CliReference.Markdown(root)); return ExitCodes.Ok; }));
        root.SetAction(_ =>
        {
            CliReference.WriteHelp(root, stdout, "sim");
            return ExitCodes.Usage;   // `sim` alone: the help, but it did nothing
        });
        // -h and --help only (not also -?, /h, /?), with our renderer.
        foreach (var old in root.Options.OfType<HelpOption>().ToList()) root.Options.Remove(old);
        root.Options.Add(new HelpOption("--help", "-h") { Action = new CliReference.HelpAction() });
        return root;
    }

    /// <summary>Runs the tool with arguments; output to <paramref name="stdout"/>/<paramref name="stderr"/>.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = Build(stdout, stderr);
        ParseResult parsed = root.Parse(args);
        string command = CommandPath(parsed.CommandResult);
        if (parsed.Errors.Count > 0 && parsed.Action is not CliReference.HelpAction)
        {
            foreach (var e in parsed.Errors.DistinctBy(e => e.Message)) stderr.WriteLine($"{command}: {e.Message}");
            stderr.WriteLine($"Try '{command} --help'.");
            return ExitCodes.Usage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"{command}: {e.Message}");
            stderr.WriteLine($"Try '{command} --help'.");
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

    /// <summary>"sim task store-recall" for the command a parse ended in.</summary>
    internal static string CommandPath(CommandResult? result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
            if (r is CommandResult c) names.Add(c.Command is RootCommand ? "sim" : c.Command.Name);
        names.Reverse();
        return names.Count == 0 ? "sim" : string.Join(' ', names);
    }
}

/// <summary>Where a command writes.</summary>
internal sealed record CliIO(TextWriter Out, TextWriter Err);

/// <summary>A command with the text its help prints after the options (what it writes, Ctrl-C, exit codes).</summary>
internal sealed class SimCommand(string name, string description, string? epilog = null) : Command(name, description)
{
    /// <summary>Printed after the options in the help and in docs/cli.md.</summary>
    public string? Epilog { get; } = epilog;

    /// <summary>Sets an action that returns an exit code.</summary>
    public SimCommand Does(Func<ParseResult, int> action)
    {
        SetAction(action);
        return this;
    }
}

/// <summary>A command-line mistake found after parsing (exit code 2), reported against the command.</summary>
public sealed class UsageException(string message) : Exception(message);
