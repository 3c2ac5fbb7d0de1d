namespace Sim.EventCore.Description;

/// <summary>How a projection picks its (pre, post) pairs (NEST <c>conn_spec</c>, Brian2 <c>Synapses.connect</c>).</summary>
public abstract record Connectivity
{
    /// <summary>Every pre to every post. Autapses only matter when source and target are the same population.</summary>
    public sealed record AllToAll(bool Autapses = true) : Connectivity;

    /// <summary>Pre i to post i; source and target must have the same size.</summary>
    public sealed record OneToOne : Connectivity;

    /// <summary>Each pair independently with probability P (Bernoulli).</summary>
    public sealed record FixedProbability(double P, bool Autapses = true) : Connectivity;

    /// <summary>Each post receives exactly K inputs drawn uniformly from the source (with or without repeats).</summary>
    public sealed record FixedInDegree(int K, bool Autapses = true, bool Multapses = true) : Connectivity;

    /// <summary>Explicit pairs; weights and delays may be given per pair with <see cref="Value.PerElement"/>.</summary>
    public sealed record PairList(int[] Pre, int[] Post) : Connectivity;
}
