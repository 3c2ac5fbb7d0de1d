using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Plasticity;

namespace Sim.Plasticity;

/// <summary>
/// One plasticity rule as a unit (docs/architecture.md, "A rule"): its name, its contract's page, and a random
/// conformance case, from which the specs derive for free that the rule gives the same bits on both grid engines, in a
/// batch as alone, in split runs and across checkpoints, at every vector width.
/// </summary>
public abstract class RuleDefinition
{
    /// <summary>The rule's name, e.g. <c>rank_r</c>.</summary>
    public abstract string Name { get; }
    /// <summary>One line for listings.</summary>
    public abstract string Summary { get; }
    /// <summary>The page of the rule's contract, e.g. <c>docs/rules/rank_r.md</c>.</summary>
    public string DocPage => $"docs/rules/{Name}.md";

    /// <summary>
    /// A random case of the rule in its working range for <paramref name="seed"/>: a network (with <paramref name="batch"/>
    /// instances), a factory of the rule for a compiled network (its instances must differ, e.g. in their targets, so that
    /// a batch is not a copy of one run), and the trial structure.
    /// </summary>
    public abstract RuleSample Sample(int seed, int batch);

    /// <summary>The parameter keys a network file may give this rule (<c>plasticity: {rule: NAME, …}</c>); empty: C# only.</summary>
    public virtual IReadOnlyCollection<string> FileKeys => [];

    /// <summary>
    /// The rule on projection <paramref name="projection"/> from a network file's parameters, or null after reporting the
    /// problems through <paramref name="parameters"/>. By default a rule is attached from C# only.
    /// </summary>
    public virtual IPlasticityRule? FromFile(string projection, FileParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Error("rule", $"rule {Name} is attached from C# only (docs/rules/{Name}.md), not from a network file");
        return null;
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>A conformance case of a rule.</summary>
/// <param name="Network">The network.</param>
/// <param name="Rule">Makes the rule for a compiled network of <paramref name="Network"/>.</param>
/// <param name="TicksPerTrial">Ticks per trial.</param>
/// <param name="Trials">Trials.</param>
/// <param name="Projections">The projections the rule makes plastic (their weights are compared).</param>
public sealed record RuleSample(NetworkSpec Network, Func<CompiledNetwork, IPlasticityRule> Rule, long TicksPerTrial, int Trials, IReadOnlyList<string> Projections)
{
    /// <summary>A description for failure messages.</summary>
    public string Description { get; init; } = "";
}

/// <summary>The one list of plasticity rules; adding a rule is one folder under <c>Plasticity/Rules/</c> plus one line here.</summary>
public static class RuleRegistry
{
    private static readonly RuleDefinition[] Rules =
    [
        RankRRuleDefinition.Instance,
        StdpRuleDefinition.Instance,
        TripletStdpRuleDefinition.Instance,
        TsodyksMarkramRuleDefinition.Instance,
        RfloRuleDefinition.Instance,
    ];

    /// <summary>Every registered rule.</summary>
    public static IReadOnlyList<RuleDefinition> All => Rules;

    /// <summary>The names.</summary>
    public static IReadOnlyList<string> Names => [.. Rules.Select(r => r.Name)];

    /// <summary>The rule named <paramref name="name"/>.</summary>
    public static RuleDefinition Get(string name)
        => Array.Find(Rules, r => r.Name == name) ?? throw new ArgumentException($"unknown rule '{name}': one of {string.Join(", ", Names)}", nameof(name));
}
