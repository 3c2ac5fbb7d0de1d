using System.Globalization;

namespace Sim.Cli;

/// <summary>Number formatting shared by the commands' tables (the option vocabulary itself is <see cref="Commands.SimOptions"/>).</summary>
internal static class Formatting
{
    /// <summary>Formats a number for tables (invariant culture, G4; "—" for NaN).</summary>
    public static string Num(double v) => double.IsNaN(v) ? "—"
        : Math.Abs(v) >= 1e4 && Math.Abs(v) < 1e15 ? Math.Round(v).ToString("0", CultureInfo.InvariantCulture)   // 20000 ms, not 2E+04
        : v.ToString("G4", CultureInfo.InvariantCulture);
}
