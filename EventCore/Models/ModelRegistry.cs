using Sim.EventCore.Description;

namespace Sim.EventCore.Models;

/// <summary>
/// The one list of neuron models. The file reader, the validator, the compiler, every engine, the naive reference and
/// the conformance generator of the specs consult it (and each model's <see cref="NeuronModelDefinition"/>) instead of
/// switching on the model. Adding a model is one folder under <c>EventCore/Models/</c> plus one line here
/// (docs/architecture.md, "Adding a model").
/// </summary>
public static class ModelRegistry
{
    private static readonly NeuronModelDefinition[] Models =
    [
        LifExpModel.Instance,
        LifDeltaModel.Instance,
        GoalLifModel.Instance,
        LifCondExpModel.Instance,
        IzhikevichModel.Instance,
        ThetaModel.Instance,
        LifExp2Model.Instance,
        GoalLifEulerModel.Instance,
        AlifModel.Instance,
        LifEpropModel.Instance,
        RateTanhModel.Instance,
        EbnModel.Instance,
    ];

    /// <summary>Every registered model, in registration order.</summary>
    public static IReadOnlyList<NeuronModelDefinition> All => Models;

    /// <summary>The model named <paramref name="name"/> in a file (<c>lif_exp</c>), also accepting the PascalCase spelling (<c>LifExp</c>).</summary>
    public static bool TryGet(string name, out NeuronModelDefinition model)
    {
        foreach (var m in Models)
            if (m.Name == name || Naming.ToSnake(name) == m.Name) { model = m; return true; }
        model = null!;
        return false;
    }

    /// <summary>The model of a parameter record type.</summary>
    public static NeuronModelDefinition Of(Type parametersType)
        => Array.Find(Models, m => m.ParametersType == parametersType)
           ?? throw new ArgumentException($"{parametersType.Name} is not the parameter record of a registered model", nameof(parametersType));

    /// <summary>The names, for messages ("one of lif_exp, lif_delta, …").</summary>
    public static IReadOnlyList<string> Names => [.. Models.Select(m => m.Name)];
}
