using System.CommandLine;
using System.CommandLine.Invocation;
using System.Text;

namespace Sim.Cli.Commands;

/// <summary>
/// Help texts and the CLI reference (docs/cli.md), both generated from the command definitions so that neither can
/// drift from what the parser accepts: <c>sim COMMAND --help</c> lists the command's own definitions plus its epilog;
/// <c>sim cli-reference</c> prints the whole tree as Markdown (a spec compares it with docs/cli.md). The renderer is
/// ours because System.CommandLine 3 keeps its HelpBuilder internal.
/// </summary>
internal static class CliReference
{
    /// <summary>Help width: wide enough for the option table, narrow enough for a terminal.</summary>
    public const int Width = 118;

    /// <summary>The help action of every command: writes <see cref="WriteHelp"/> for the command the parse ended in.</summary>
    public sealed class HelpAction : SynchronousCommandLineAction
    {
        /// <inheritdoc/>
        public override int Invoke(ParseResult parseResult)
        {
            WriteHelp(parseResult.CommandResult.Command, parseResult.InvocationConfiguration.Output, CommandLine.CommandPath(parseResult.CommandResult));
            return ExitCodes.Ok;
        }
    }

    /// <summary>
    /// Writes the help of <paramref name="command"/>: usage, description, arguments, options (with their value names and
    /// aliases), subcommands, then the epilog of a <see cref="SimCommand"/> (what it writes, Ctrl-C, exit codes).
    /// </summary>
    public static void WriteHelp(Command command, TextWriter output, string? path = null)
    {
        path ??= command is RootCommand ? "sim" : command.Name;
        var subcommands = command.Subcommands.Where(c => !c.Hidden).ToList();
        var arguments = command.Arguments.Where(a => !a.Hidden).ToList();
        var options = Options(command).ToList();
        var usage = new StringBuilder(path);
        if (subcommands.Count > 0) usage.Append(" COMMAND");
        foreach (var a in arguments)
            usage.Append(a.Arity.MinimumNumberOfValues == 0 ? $" [{a.Name}{(a.Arity.MaximumNumberOfValues > 1 ? "..." : "")}]" : $" {a.Name}{(a.Arity.MaximumNumberOfValues > 1 ? "..." : "")}");
        if (options.Count > 0) usage.Append(" [options]");
        output.WriteLine("Usage:");
        output.WriteLine($"  {usage}");
        output.WriteLine();
        if (command.Description is { Length: > 0 } d)
        {
            foreach (var line in Wrap(d, Width)) output.WriteLine(line);
            output.WriteLine();
        }
        if (arguments.Count > 0) Table(output, "Arguments:", arguments.Select(a => (a.Name, a.Description ?? "")));
        if (options.Count > 0) Table(output, "Options:", options.Select(o => (OptionLabel(o), o.Description ?? "")));
        if (subcommands.Count > 0)
        {
            Table(output, "Commands:", subcommands.Select(c => (c.Name, c.Description ?? "")));
            output.WriteLine($"'{path} COMMAND --help' shows the options of a command.");
            output.WriteLine();
        }
        string? epilog = command switch { SimCommand { Epilog: { } e } => e, RootCommand => CommandLine.ExitCodeText, _ => null };
        if (epilog is not null) output.WriteLine(epilog.TrimEnd());
    }

    /// <summary>The options of a command in help order: its own, then recursive ones of its parents (--help).</summary>
    private static IEnumerable<Option> Options(Command command)
    {
        var seen = new HashSet<Option>();
        foreach (var o in command.Options.Where(o => !o.Hidden)) if (seen.Add(o)) yield return o;
        for (var parents = command.Parents.OfType<Command>().ToList(); parents.Count > 0; parents = [.. parents.SelectMany(p => p.Parents.OfType<Command>())])
            foreach (var p in parents)
                foreach (var o in p.Options.Where(o => o.Recursive && !o.Hidden)) if (seen.Add(o)) yield return o;
    }

    private static string OptionLabel(Option o)
    {
        var names = o.Aliases.Where(a => a.Length == 2).Order().Append(o.Name).Concat(o.Aliases.Where(a => a.Length > 2).Order());
        string label = string.Join(", ", names);
        return o.Arity.MaximumNumberOfValues == 0 ? label : $"{label} {o.HelpName ?? "VALUE"}";
    }

    private static void Table(TextWriter output, string title, IEnumerable<(string Left, string Right)> rows)
    {
        var list = rows.ToList();
        int left = Math.Min(34, list.Max(r => r.Left.Length)) + 4;
        output.WriteLine(title);
        foreach (var (l, r) in list)
        {
            var lines = Wrap(r, Width - left).ToList();
            if (l.Length + 2 > left - 2) { output.WriteLine($"  {l}"); output.WriteLine(new string(' ', left) + (lines.Count > 0 ? lines[0] : "")); }
            else output.WriteLine($"  {l.PadRight(left - 2)}{(lines.Count > 0 ? lines[0] : "")}");
            foreach (var more in lines.Skip(1)) output.WriteLine(new string(' ', left) + more);
        }
        output.WriteLine();
    }

    private static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width) { yield return line.ToString(); line.Clear(); }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        if (line.Length > 0) yield return line.ToString();
    }

    /// <summary>The Markdown reference of the whole tree (docs/cli.md).</summary>
    public static string Markdown(RootCommand root)
    {
        var md = new StringBuilder();
        md.AppendLine("# Command-line reference");
        md.AppendLine();
        md.AppendLine("Generated from the command definitions (`Cli/`) by `sim cli-reference`; a spec (CliSpecTests) fails when this file");
        md.AppendLine("and the definitions differ. Every option takes `--opt value` and `--opt=value`; an option given twice is refused;");
        md.AppendLine("`@FILE` reads arguments from a response file (one or more per line); `sim [suggest] …` lists completions.");
        md.AppendLine();
        foreach (var c in Walk(root, "sim").Where(c => !c.Command.Hidden)) md.Append(Section(c.Path, c.Command));
        return md.ToString();
    }

    private static IEnumerable<(string Path, Command Command)> Walk(Command command, string path)
    {
        yield return (path, command);
        foreach (var sub in command.Subcommands)
            foreach (var c in Walk(sub, $"{path} {sub.Name}")) yield return c;
    }

    private static string Section(string path, Command command)
    {
        var s = new StringBuilder();
        s.AppendLine($"## `{path}`");
        s.AppendLine();
        s.AppendLine("```text");
        var writer = new StringWriter();
        WriteHelp(command, writer, path);
        s.AppendLine(writer.ToString().TrimEnd());
        s.AppendLine("```");
        s.AppendLine();
        return s.ToString();
    }
}
