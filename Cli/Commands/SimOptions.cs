using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Sim.Cli.Commands;

/// <summary>
/// The option vocabulary of <c>sim</c>: one definition per option that more than one command takes (seed, engine,
/// threads, output folder, epochs, neurons, steps, ranks, τ⋆, shards …), so that a name means the same thing with the
/// same values and the same error text in every command (docs/cli.md). Every option is refused when given twice
/// (<c>--seed 1 --seed 2</c> is an error, not "the last one wins"); numbers are parsed in the invariant culture and a
/// bad value is reported as <c>option --x: 'v' is not …</c>.
/// </summary>
internal static class SimOptions
{
    // ---- builders ------------------------------------------------------------------------------------------------

    /// <summary>An option whose value is parsed by <paramref name="parse"/> (which returns null and an error text for a bad value).</summary>
    public static Option<T> Make<T>(string name, string description, string helpName, Func<string, (T? Value, string? Error)> parse,
        T? defaultValue = default, bool hasDefault = false, params string[] aliases)
    {
        var o = new Option<T>(name, aliases) { Description = description, HelpName = helpName };
        o.CustomParser = r =>
        {
            if (r.Tokens.Count == 0) { r.AddError($"option {name} needs a value ({helpName})"); return default!; }
            var (v, error) = parse(r.Tokens[^1].Value);
            if (error is not null) { r.AddError($"option {name}: '{r.Tokens[^1].Value}' {error}"); return default!; }
            return v!;
        };
        if (hasDefault) o.DefaultValueFactory = _ => defaultValue!;
        Once(o);
        return o;
    }

    /// <summary>A flag (no value).</summary>
    public static Option<bool> Flag(string name, string description, params string[] aliases)
    {
        var o = new Option<bool>(name, aliases) { Description = description, Arity = ArgumentArity.Zero };
        Once(o);
        return o;
    }

    /// <summary>Refuses an option given more than once.</summary>
    public static void Once(Option o) => o.Validators.Add(r =>
    {
        if (r.IdentifierTokenCount > 1) r.AddError($"option {o.Name} is given {r.IdentifierTokenCount} times; give it once");
    });

    /// <summary>An integer ≥ <paramref name="min"/>.</summary>
    public static Option<int> Int(string name, string description, int min, int? defaultValue = null, string helpName = "N", params string[] aliases) =>
        Make(name, description, helpName, s => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) && v >= min
            ? (v, null) : (0, $"is not an integer ≥ {min}"), defaultValue ?? 0, defaultValue is not null, aliases);

    /// <summary>An optional integer ≥ <paramref name="min"/> (null when absent: the command's own default applies).</summary>
    public static Option<int?> OptionalInt(string name, string description, int min, string helpName = "N") =>
        Make<int?>(name, description, helpName, s => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) && v >= min
            ? (v, null) : (null, $"is not an integer ≥ {min}"));

    /// <summary>An optional finite number &gt; 0 (≥ 0 with <paramref name="allowZero"/>; null when absent).</summary>
    public static Option<double?> OptionalPositive(string name, string description, string helpName = "X", bool allowZero = false) =>
        Make<double?>(name, description, helpName, s => ParsePositive(s, allowZero) is (var v, null) ? (v, null) : (null, $"is not a finite number {(allowZero ? "≥" : ">")} 0"));

    /// <summary>A finite number &gt; 0 (≥ 0 with <paramref name="allowZero"/>).</summary>
    public static Option<double> Positive(string name, string description, string helpName, double? defaultValue = null, bool allowZero = false) =>
        Make(name, description, helpName, s => ParsePositive(s, allowZero), defaultValue ?? 0, defaultValue is not null);

    /// <summary>A comma-separated list of finite numbers &gt; 0 (≥ 0 with <paramref name="allowZero"/>).</summary>
    public static Option<double[]> PositiveList(string name, string description, bool allowZero = false) =>
        Make<double[]>(name, description, "LIST", s =>
        {
            var parts = s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) return (null, "is not a comma-separated list of numbers, e.g. 1,5,20");
            var values = new double[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                var (v, error) = ParsePositive(parts[i], allowZero);
                if (error is not null) return (null, $"holds '{parts[i]}', which {error}");
                values[i] = v;
            }
            return values.Distinct().Count() == values.Length ? (values, null) : (null, "repeats a value");
        });

    /// <summary>A comma-separated list of distinct integers ≥ <paramref name="min"/>.</summary>
    public static Option<int[]> IntList(string name, string description, int min) =>
        Make<int[]>(name, description, "LIST", s =>
        {
            var parts = s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) return (null, "is not a comma-separated list of integers, e.g. 1,34,300");
            var values = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]) || values[i] < min)
                    return (null, $"holds '{parts[i]}', which is not an integer ≥ {min}");
            return values.Distinct().Count() == values.Length ? (values, null) : (null, "repeats a value");
        });

    /// <summary>One of <paramref name="choices"/>.</summary>
    public static Option<string> Choice(string name, string description, string defaultValue, params string[] choices)
    {
        var o = Make(name, description, string.Join('|', choices),
            s => choices.Contains(s) ? (s, null) : ((string?)null, $"is not one of {string.Join(", ", choices)}"), defaultValue, hasDefault: true);
        o.CompletionSources.Add(choices);
        return o;
    }

    private static (double, string?) ParsePositive(string s, bool allowZero) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) && (v > 0 || (allowZero && v == 0))
            ? (v, null) : (0, $"is not a finite number {(allowZero ? "≥" : ">")} 0");

    // ---- the shared vocabulary -----------------------------------------------------------------------------------

    /// <summary><c>--seed N</c>: the seed of every random draw.</summary>
    public static Option<ulong?> Seed(string description = "seed of every random draw") =>
        Make<ulong?>("--seed", description, "N", s => ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v)
            ? (v, null) : (null, "is not a non-negative integer"));

    /// <summary><c>--seeds S</c>: seeds 1..S.</summary>
    public static Option<int> Seeds(int defaultValue) => Int("--seeds", $"seeds 1..S (default {defaultValue})", 1, defaultValue, "S");

    /// <summary><c>--threads N</c>: worker threads; 0 is one per core, in every command.</summary>
    public static Option<int> Threads(string what, int defaultValue) =>
        Int("--threads", $"{what} (default {defaultValue}; 0: one per core)", 0, defaultValue);

    /// <summary>The value of a <c>--threads</c> option: 0 becomes one per core.</summary>
    public static int ThreadCount(int value) => value == 0 ? Environment.ProcessorCount : value;

    /// <summary><c>-o, --out DIR</c>.</summary>
    public static Option<string?> Out(string description) =>
        Make<string?>("--out", description, "DIR", s => s.Length > 0 ? (s, null) : (null, "is not a folder name"), aliases: "-o");

    /// <summary><c>--engine E</c> with the engines the command offers.</summary>
    public static Option<string> Engine(string description, params string[] choices) => Choice("--engine", description, choices[0], choices);

    /// <summary><c>--epochs E</c>.</summary>
    public static Option<int> Epochs(string description, int defaultValue, int min = 0) =>
        Int("--epochs", $"{description} (default {defaultValue})", min, defaultValue, "E");

    /// <summary><c>--neurons N</c>: recurrent neurons of a task network.</summary>
    public static Option<int> Neurons(int defaultValue) => Int("--neurons", $"recurrent neurons (default {defaultValue})", 2, defaultValue);

    /// <summary><c>--steps T</c>: steps per trial of a task (dt = 1 ms).</summary>
    public static Option<int> Steps(int defaultValue) => Int("--steps", $"steps per trial, dt = 1 ms (default {defaultValue})", 2, defaultValue, "T");

    /// <summary><c>--tau-star X</c>: the rule's τ⋆ (ms; the tasks step at dt = 1 ms, so also in units of dt).</summary>
    public static Option<double> TauStar(double defaultValue) =>
        Positive("--tau-star", FormattableString.Invariant($"tau* of the rank-R rule in ms = in units of dt (dt = 1 ms; default {defaultValue})"), "X", defaultValue);

    /// <summary><c>--every K</c>: print every K epochs.</summary>
    public static Option<int?> Every(string defaultText) =>
        OptionalInt("--every", $"print every K epochs (default {defaultText})", 1, "K");

    /// <summary><c>--duration-ms T</c>: simulated time override.</summary>
    public static Option<double?> DurationMs(string description, bool allowZero = true) =>
        OptionalPositive("--duration-ms", description, "T", allowZero);

    /// <summary><c>--shard i/n</c>: run only shard i of n.</summary>
    public static Option<(int Index, int Count)> Shard(string what) =>
        Make<(int, int)>("--shard", $"run only the {what} of shard i of n (0 ≤ i < n)", "i/n", s =>
        {
            var parts = s.Split('/');
            return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && i < n
                ? ((i, n), null) : ((0, 1), "is not i/n with 0 ≤ i < n");
        }, (0, 1), hasDefault: true);

    /// <summary><c>--merge DIR...</c>: gather finished cells of these folders, run nothing.</summary>
    public static Option<string[]> Merge()
    {
        var o = new Option<string[]>("--merge")
        {
            Description = "merge the finished cells of these folders into --out and report; runs nothing",
            HelpName = "DIR...",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = true,
        };
        Once(o);
        return o;
    }

    /// <summary><c>--no-plot</c> (alias <c>--no-plots</c>).</summary>
    public static Option<bool> NoPlot(string what) => Flag("--no-plot", $"do not draw {what}", "--no-plots");

    /// <summary><c>--no-progress</c>.</summary>
    public static Option<bool> NoProgress() => Flag("--no-progress", "no progress bar or progress lines");

    /// <summary><c>--quick</c>: short runs, a smoke test.</summary>
    public static Option<bool> Quick(string description) => Flag("--quick", description);

    /// <summary>The learning-rate options of the store-and-recall task and its sweep.</summary>
    public static Option<double?> EtaScaled() =>
        OptionalPositive("--eta-scaled", "learning rate X*sqrt(N/R)");

    /// <inheritdoc cref="EtaScaled"/>
    public static Option<double?> EtaPerNorm() =>
        OptionalPositive("--eta-per-norm", "learning rate X/||D||_2: the same largest step for every feedback D");

    /// <summary><c>--initial-rec-sd X</c>.</summary>
    public static Option<double?> InitialRecSd() =>
        OptionalPositive("--initial-rec-sd", "initial W_rec ~ N(0, X^2); the teacher run keeps the self-connections (default 0)", allowZero: true);

    // ---- relations between options --------------------------------------------------------------------------------

    /// <summary>Refuses any two of <paramref name="options"/> given together.</summary>
    public static void Exclusive(Command command, params Option[] options) => command.Validators.Add(r =>
    {
        var given = options.Where(o => r.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (given.Count > 1) r.AddError($"options {string.Join(" and ", given)} exclude each other; give one");
    });

    /// <summary>Refuses <paramref name="dependents"/> unless <paramref name="option"/> is absent (e.g. run options with --merge).</summary>
    public static void Without(Command command, Option option, string reason, params Option[] dependents) => command.Validators.Add(r =>
    {
        if (r.GetResult(option) is not { Implicit: false }) return;
        var given = dependents.Where(o => r.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (given.Count > 0) r.AddError($"option {option.Name} {reason}; {string.Join(", ", given)} cannot be given with it");
    });

    /// <summary>The value the user gave, or null when the option is absent (System.CommandLine returns an empty array for an absent list option).</summary>
    public static T? GivenValue<T>(this ParseResult result, Option<T> option) where T : class => result.Given(option) ? result.GetValue(option) : null;

    /// <summary>True when the user gave <paramref name="option"/> (not its default).</summary>
    public static bool Given(this ParseResult result, Option option) => result.GetResult(option) is { Implicit: false };
}
