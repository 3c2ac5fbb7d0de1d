using System.Reflection;
using System.Text;

namespace Sim.EventCore.Description;

/// <summary>Maps C# property names to the snake_case keys of the file format (TauMemMs ↔ tau_mem_ms).</summary>
public static class Naming
{
    /// <summary>PascalCase → snake_case.</summary>
    public static string ToSnake(string pascal)
    {
        var sb = new StringBuilder(pascal.Length + 8);
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (char.IsUpper(c))
            {
                if (i > 0) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>File name of a model (lif_exp, lif_delta, goal_lif).</summary>
    public static string ModelName(NeuronModel m) => ToSnake(m.ToString());

    /// <summary>Parses a model name in either spelling.</summary>
    public static bool TryParseModel(string s, out NeuronModel model)
    {
        foreach (var m in Enum.GetValues<NeuronModel>())
            if (ModelName(m) == s || m.ToString().Equals(s, StringComparison.OrdinalIgnoreCase)) { model = m; return true; }
        model = default;
        return false;
    }

    /// <summary>The settable <see cref="Value"/> and int properties of a parameter record, with their file keys.</summary>
    public static IReadOnlyList<ParameterField> Fields(Type parametersType)
    {
        var list = new List<ParameterField>();
        foreach (var p in parametersType.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.Name == nameof(NeuronParameters.Model) || p.SetMethod is null) continue;
            if (p.PropertyType != typeof(Value) && p.PropertyType != typeof(int)) continue;
            list.Add(new ParameterField(ToSnake(p.Name), p,
                p.GetCustomAttribute<PositiveAttribute>() is not null,
                p.GetCustomAttribute<NonNegativeAttribute>() is not null));
        }
        return list;
    }

    /// <summary>The parameter record type of a model.</summary>
    public static Type ParametersType(NeuronModel m) => m switch
    {
        NeuronModel.LifExp => typeof(LifExpParameters),
        NeuronModel.LifDelta => typeof(LifDeltaParameters),
        NeuronModel.GoalLif => typeof(GoalLifParameters),
        _ => throw new ArgumentOutOfRangeException(nameof(m)),
    };

    /// <summary>State variables a monitor may record, per model (values reported in absolute units).</summary>
    public static IReadOnlyList<string> StateVariables(NeuronModel m) => m switch
    {
        NeuronModel.LifExp => ["v_mv", "g_exc_mv", "g_inh_mv"],
        NeuronModel.LifDelta => ["v_mv"],
        NeuronModel.GoalLif => ["v", "z", "hz", "ej"],
        _ => throw new ArgumentOutOfRangeException(nameof(m)),
    };
}

/// <summary>One parameter of a model: its file key, property and constraint.</summary>
public sealed record ParameterField(string Key, PropertyInfo Property, bool Positive, bool NonNegative);
