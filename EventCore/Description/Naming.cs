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
}

/// <summary>One parameter of a model: its file key, property and constraint.</summary>
public sealed record ParameterField(string Key, PropertyInfo Property, bool Positive, bool NonNegative);
