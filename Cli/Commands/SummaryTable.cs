using Spectre.Console;

namespace Sim.Cli.Commands;

/// <summary>
/// The key/value summary a run prints at its end: a Spectre.Console grid (keys in bold) on a terminal, and plain
/// aligned lines (<c>key</c> padded to 13 columns, then the value) when stdout is redirected, so that scripts, logs and
/// the specs read one line per fact (<c>spikes       21,294</c>). Rows are written when the table is disposed.
/// </summary>
internal sealed class SummaryTable(TextWriter output) : IDisposable
{
    private const int KeyWidth = 13;
    private readonly List<(string Key, string Value)> _rows = [];

    /// <summary>Adds a row; an empty key continues the previous one (e.g. the list of output files).</summary>
    public void Row(string key, string value) => _rows.Add((key, value));

    /// <summary>Adds a line already formatted as key (13 columns) and value.</summary>
    public void Line(string line) => Row(line.Length > KeyWidth ? line[..KeyWidth].Trim() : line.Trim(), line.Length > KeyWidth ? line[KeyWidth..] : "");

    /// <summary>Writes the rows.</summary>
    public void Dispose()
    {
        if (ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected)
        {
            var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            foreach (var (k, v) in _rows) grid.AddRow(new Markup($"[bold]{Markup.Escape(k)}[/]"), new Text(v));
            AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) }).Write(grid);
        }
        else
            foreach (var (k, v) in _rows) output.WriteLine(k.Length >= KeyWidth ? $"{k} {v}" : $"{k.PadRight(KeyWidth)}{v}");
        _rows.Clear();
    }
}
