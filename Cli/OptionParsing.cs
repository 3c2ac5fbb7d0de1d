using System.Globalization;

namespace Sim.Cli;

/// <summary>Small helpers shared by the commands' argument parsers (errors are <see cref="UsageException"/>s, exit 2).</summary>
internal static class OptionParsing
{
    /// <summary>The value after option <paramref name="args"/>[<paramref name="i"/>] (advances i).</summary>
    public static string Next(string[] args, ref int i)
    {
        if (i + 1 >= args.Length) throw new UsageException($"option {args[i]} needs a value");
        return args[++i];
    }

    /// <summary>A finite number &gt; 0 (or ≥ 0 when <paramref name="allowZero"/>).</summary>
    public static double Positive(string option, string text, bool allowZero = false)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v) || v < 0 || (!allowZero && v == 0))
            throw new UsageException($"option {option}: '{text}' is not a finite number {(allowZero ? "≥" : ">")} 0");
        return v;
    }

    /// <summary>A comma-separated list of finite numbers &gt; 0, e.g. <c>1,5,20</c>.</summary>
    public static double[] PositiveList(string option, string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new UsageException($"option {option}: give a comma-separated list of numbers, e.g. 1,5,20");
        return [.. parts.Select(p => Positive(option, p))];
    }

    /// <summary>A non-negative integer.</summary>
    public static int NonNegativeInt(string option, string text)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v)) throw new UsageException($"option {option}: '{text}' is not a non-negative integer");
        return v;
    }

    /// <summary>A --threads value: 0 means one per core (the same in every command).</summary>
    public static int Threads(int value) => value == 0 ? Environment.ProcessorCount : value;

    /// <summary>Formats a number for tables (invariant culture, G4; "—" for NaN).</summary>
    public static string Num(double v) => double.IsNaN(v) ? "—"
        : Math.Abs(v) >= 1e4 && Math.Abs(v) < 1e15 ? Math.Round(v).ToString("0", CultureInfo.InvariantCulture)   // 20000 ms, not 2E+04
        : v.ToString("G4", CultureInfo.InvariantCulture);
}
