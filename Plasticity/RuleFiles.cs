using System.Globalization;
using Sim.EventCore.Description;
using Sim.EventCore.Plasticity;

namespace Sim.Plasticity;

/// <summary>
/// The rules a network file attaches (<c>plasticity:</c> on a projection, docs/network-file.md): each projection's
/// <see cref="PlasticitySpec"/> is read by its rule's <see cref="RuleDefinition.FromFile"/>, and every problem is
/// reported at once with the file, line and field.
/// </summary>
public static class RuleFiles
{
    /// <summary>
    /// New rule objects for every projection of <paramref name="spec"/> with a <c>plasticity</c> entry (one call per
    /// engine: a rule binds to one engine); throws <see cref="SpecException"/> listing every bad name, key or value.
    /// </summary>
    public static IReadOnlyList<IPlasticityRule> Rules(NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new List<SpecError>();
        var rules = new List<IPlasticityRule>();
        for (int i = 0; i < spec.Projections.Count; i++)
        {
            var p = spec.Projections[i];
            if (p.Plasticity is not { } pl) continue;
            var definition = RuleRegistry.All.FirstOrDefault(r => r.Name == pl.Rule);
            if (definition is null)
            {
                errors.Add(new SpecError(pl.Field + ".rule", $"unknown plasticity rule '{pl.Rule}'; one of {string.Join(", ", RuleRegistry.All.Where(r => r.FileKeys.Count > 0).Select(r => r.Name))}", Location(pl, "rule")));
                continue;
            }
            if (definition.FromFile(p.DisplayName, new FileParameters(pl, definition.FileKeys, errors)) is { } rule) rules.Add(rule);
        }
        if (errors.Count > 0) throw new SpecException(errors);
        return rules;
    }

    internal static SourceLocation? Location(PlasticitySpec pl, string key)
        => pl.Locations.TryGetValue(key, out var at) ? at : pl.Locations.GetValueOrDefault("");
}

/// <summary>The parameters of one <c>plasticity:</c> entry, read key by key with errors at the key's line.</summary>
public sealed class FileParameters
{
    private readonly PlasticitySpec _spec;
    private readonly List<SpecError> _errors;
    private readonly int _before;

    internal FileParameters(PlasticitySpec spec, IReadOnlyCollection<string> keys, List<SpecError> errors)
    {
        _spec = spec;
        _errors = errors;
        _before = errors.Count;
        foreach (var (key, _) in spec.Parameters)
            if (!keys.Contains(key))
                Error(key, $"unknown key '{key}' of rule {spec.Rule}; allowed keys: {string.Join(", ", keys)}");
    }

    /// <summary>True when no error was reported for this entry.</summary>
    public bool Valid => _errors.Count == _before;

    /// <summary>Reports a problem with <paramref name="key"/> (the mapping itself when it is not written).</summary>
    public void Error(string key, string message)
        => _errors.Add(new SpecError($"{_spec.Field}.{key}", message, RuleFiles.Location(_spec, key)));

    private string? Raw(string key) => _spec.Parameters.FirstOrDefault(kv => kv.Key == key).Value;

    /// <summary>The number written for <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public double Number(string key, double fallback)
    {
        if (Raw(key) is not { } s) return fallback;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)) return v;
        Error(key, $"expected a number, got '{s}'");
        return fallback;
    }

    /// <summary>One of <paramref name="choices"/> for <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public T Choice<T>(string key, T fallback, params (string Word, T Value)[] choices)
    {
        if (Raw(key) is not { } s) return fallback;
        foreach (var (word, value) in choices) if (word == s) return value;
        Error(key, $"expected one of {string.Join(", ", choices.Select(c => c.Word))}, got '{s}'");
        return fallback;
    }

    /// <summary>Reports the problems of a parameter record (field names in file spelling) at their keys.</summary>
    public void Report(IEnumerable<(string Field, string Message)> problems)
    {
        foreach (var (field, message) in problems) Error(field, message);
    }
}
