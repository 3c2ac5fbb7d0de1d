using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Sim.Cli.Commands;

/// <summary>
/// Progress of a long loop: a live Spectre.Console bar (percent, detail, elapsed, remaining) when the writer is the
/// terminal's stderr, plain lines at every 10 % when it is redirected to a file or pipe (a log then shows the run's pace
/// without control characters), nothing with <c>--no-progress</c>.
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>Reports progress: fraction in [0, 1] and a short detail (e.g. "120.0/1000.0 ms").</summary>
    public delegate void Report(double fraction, string detail);

    /// <summary>Runs <paramref name="body"/> with a progress display on <paramref name="writer"/>.</summary>
    public static T Run<T>(TextWriter writer, bool enabled, string label, Func<Report, T> body)
    {
        if (!enabled) return body((_, _) => { });
        bool terminal = ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected;
        if (!terminal) return body(PlainLines(writer, label));

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(label), maxValue: 1000);
                long last = -1;
                var clock = Stopwatch.StartNew();
                var result = body((fraction, detail) =>
                {
                    long now = clock.ElapsedMilliseconds;
                    if (fraction < 1 && now - last < 100) return;   // at most 10 redraws per second
                    last = now;
                    task.Description = Markup.Escape($"{label} {detail}");
                    task.Value = Math.Clamp(fraction, 0, 1) * 1000;
                });
                task.Value = task.MaxValue;
                return result;
            });
    }

    private static Report PlainLines(TextWriter writer, string label)
    {
        int nextDecile = 1;
        var clock = Stopwatch.StartNew();
        return (fraction, detail) =>
        {
            if (fraction * 10 < nextDecile) return;
            while (fraction * 10 >= nextDecile) nextDecile++;
            double elapsed = clock.Elapsed.TotalSeconds;
            double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: {fraction * 100:F0}% {detail}, elapsed {elapsed:F1} s, eta {eta:F1} s"));
            writer.Flush();
        };
    }
}
