using System.Globalization;
using System.Text;

namespace Sim.Experiments;

/// <summary>
/// A recorded episode: per step t the observation seen before acting, the action taken and (when known) the reward it
/// got. Rows are steps here; the file format (<see cref="DemonstrationFile"/>) stores one row per variable.
/// </summary>
public sealed class Demonstration
{
    /// <summary>A demonstration of <paramref name="observations"/>.Length steps.</summary>
    public Demonstration(double[][] observations, double[][] actions, double[]? rewards, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (observations.Length != actions.Length) throw new ArgumentException($"{observations.Length} observations but {actions.Length} actions");
        if (rewards is not null && rewards.Length != actions.Length) throw new ArgumentException($"{actions.Length} actions but {rewards.Length} rewards");
        Observations = observations;
        Actions = actions;
        Rewards = rewards;
        Metadata = metadata ?? new Dictionary<string, string>();
    }

    /// <summary>Observation before step t (24 values).</summary>
    public double[][] Observations { get; }
    /// <summary>Action of step t (4 values).</summary>
    public double[][] Actions { get; }
    /// <summary>Reward of step t, or null when the file had none.</summary>
    public double[]? Rewards { get; }
    /// <summary>Key/value lines of the file's header (e.g. seed, episode, return).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>Steps.</summary>
    public int Steps => Actions.Length;
}

/// <summary>
/// The demonstration file format (docs/environments/bipedal_walker.md, "Demonstrations"): UTF-8 CSV, one row per
/// variable and one column per step, so that a variable's whole sequence is one line (what a cloning protocol reads as a
/// target trace) and files from other tools can be checked row by row.
/// <code>
/// # sim bipedal-walker demonstration v1      (first line, required)
/// # key=value                                 (any number of metadata lines: seed, episode, steps, return …)
/// variable,0,1,2,…,T-1                        (the header: "variable" and the step numbers 0..T-1)
/// obs_hull_angle,v0,v1,…                      (24 rows obs_&lt;name&gt; in the order of BipedalConstants.ObservationNames)
/// act_hip1,…                                  (4 rows act_&lt;name&gt;: hip1, knee1, hip2, knee2)
/// reward,…                                    (optional)
/// </code>
/// Numbers are invariant-culture, written round-trip ("R"); every row has T values. Observation t is the one seen
/// before action t. The reader refuses anything else with the file, line and field of the first fault.
/// </summary>
public static class DemonstrationFile
{
    /// <summary>The first line of every file.</summary>
    public const string Magic = "# sim bipedal-walker demonstration v1";

    /// <summary>The row names, in file order (the reward row last and optional).</summary>
    public static IReadOnlyList<string> RowNames { get; } =
        [.. BipedalConstants.ObservationNames.Select(n => "obs_" + n), .. BipedalConstants.ActionNames.Select(n => "act_" + n), "reward"];

    /// <summary>Writes <paramref name="d"/> to <paramref name="path"/>.</summary>
    public static void Write(string path, Demonstration d)
    {
        var sb = new StringBuilder();
        sb.Append(Magic).Append('\n');
        foreach (var (k, v) in d.Metadata)
        {
            if (k.Contains('=') || k.Contains('\n') || v.Contains('\n')) throw new ArgumentException($"metadata '{k}' cannot hold '=' in its key or a line break");
            sb.Append("# ").Append(k).Append('=').Append(v).Append('\n');
        }
        sb.Append("variable");
        for (int t = 0; t < d.Steps; t++) sb.Append(',').Append(t.ToString(CultureInfo.InvariantCulture));
        sb.Append('\n');
        void Row(string name, Func<int, double> value)
        {
            sb.Append(name);
            for (int t = 0; t < d.Steps; t++) sb.Append(',').Append(value(t).ToString("R", CultureInfo.InvariantCulture));
            sb.Append('\n');
        }
        for (int i = 0; i < 24; i++) Row(RowNames[i], t => d.Observations[t][i]);
        for (int i = 0; i < 4; i++) Row(RowNames[24 + i], t => d.Actions[t][i]);
        if (d.Rewards is { } r) Row("reward", t => r[t]);
        File.WriteAllText(path, sb.ToString());
    }

    /// <summary>Reads a file written by <see cref="Write"/> (or by hand in its format); throws <see cref="FormatException"/> naming file, line and field.</summary>
    public static Demonstration Read(string path)
    {
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new FormatException($"{path}: cannot read: {e.Message}", e); }
        FormatException Bad(int line, int field, string what) =>
            new(field > 0 ? $"{path}: line {line}, field {field}: {what}" : $"{path}: line {line}: {what}");

        if (lines.Length == 0 || lines[0].TrimEnd() != Magic) throw Bad(1, 0, $"not a demonstration file: the first line must be '{Magic}'");
        var meta = new Dictionary<string, string>();
        int n = 1;
        for (; n < lines.Length && lines[n].StartsWith('#'); n++)
        {
            string body = lines[n][1..].Trim();
            int eq = body.IndexOf('=');
            if (eq <= 0) throw Bad(n + 1, 0, "a metadata line is '# key=value'");
            if (!meta.TryAdd(body[..eq].Trim(), body[(eq + 1)..].Trim())) throw Bad(n + 1, 0, $"metadata key '{body[..eq].Trim()}' is given twice");
        }
        if (n >= lines.Length) throw Bad(n + 1, 0, "the header 'variable,0,1,…' is missing");
        var header = lines[n].Split(',');
        if (header[0].Trim() != "variable") throw Bad(n + 1, 1, $"the header starts with 'variable', not '{header[0]}'");
        int steps = header.Length - 1;
        if (steps < 1) throw Bad(n + 1, 0, "the header names no step");
        for (int t = 0; t < steps; t++)
            if (header[t + 1].Trim() != t.ToString(CultureInfo.InvariantCulture)) throw Bad(n + 1, t + 2, $"step numbers run 0, 1, 2 …: expected '{t}', found '{header[t + 1]}'");

        var rows = new List<double[]>();
        for (int k = n + 1; k < lines.Length; k++)
        {
            if (lines[k].Length == 0 && k == lines.Length - 1) break;
            int r = rows.Count;
            if (r >= RowNames.Count) throw Bad(k + 1, 1, $"more rows than the {RowNames.Count} variables ({string.Join(", ", RowNames)})");
            var f = lines[k].Split(',');
            if (f[0].Trim() != RowNames[r]) throw Bad(k + 1, 1, $"row {r + 1} must be '{RowNames[r]}', found '{f[0]}'");
            if (f.Length - 1 != steps) throw Bad(k + 1, 0, $"'{RowNames[r]}' has {f.Length - 1} values; the header names {steps} steps");
            var v = new double[steps];
            for (int t = 0; t < steps; t++)
                if (!double.TryParse(f[t + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out v[t]) || !double.IsFinite(v[t]))
                    throw Bad(k + 1, t + 2, $"'{f[t + 1]}' is not a finite number (step {t} of {RowNames[r]})");
                else if (r >= 24 && r < 28 && Math.Abs(v[t]) > 1)
                    throw Bad(k + 1, t + 2, $"{RowNames[r]} at step {t} is {f[t + 1]}; actions lie in [-1, 1]");
            rows.Add(v);
        }
        if (rows.Count < 28) throw Bad(lines.Length, 0, $"the file ends after {rows.Count} variable rows; {RowNames[rows.Count]} is missing (24 observation rows and 4 action rows are required)");
        var obs = new double[steps][];
        var act = new double[steps][];
        for (int t = 0; t < steps; t++)
        {
            obs[t] = new double[24];
            act[t] = new double[4];
            for (int i = 0; i < 24; i++) obs[t][i] = rows[i][t];
            for (int i = 0; i < 4; i++) act[t][i] = rows[24 + i][t];
        }
        return new Demonstration(obs, act, rows.Count == 29 ? rows[28] : null, meta);
    }
}
