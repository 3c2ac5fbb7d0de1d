using Sim.EventCore.Plasticity;

namespace Sim.Plasticity;

/// <summary>
/// What the spike-timing rules (stdp, triplet_stdp, tsodyks_markram) bind alike: a spike projection (a trace-coupled
/// one is refused, naming the rule), and post traces read with each synapse's dendritic delay, as NEST does: the post
/// spike reaches a synapse of delay d ticks d ticks late (docs/rules/stdp.md, "Dendritic delay").
/// </summary>
internal static class SpikeTimingBinding
{
    /// <summary>The projection <paramref name="name"/>; refused when it is trace-coupled.</summary>
    public static PlasticProjection SpikeProjection(PlasticityBinding binding, string rule, string name, string needs = "spike-timing rules need a spike projection")
    {
        var projection = binding.Projection(name);
        if (projection.IsTraceCoupled)
            throw new ArgumentException($"{rule}: projection '{projection.Name}' is trace-coupled; {needs}");
        return projection;
    }

    /// <summary>
    /// A post trace of time constant <paramref name="tauMs"/> per distinct delay of <paramref name="projection"/>,
    /// indexed by the delay in ticks (unused delays hold the default handle), with the post arrivals at each delay
    /// requested (the binding keeps each delay once, so several traces may ask for the same delays).
    /// </summary>
    public static TraceHandle[] DelayedPostTraces(PlasticityBinding binding, PlasticProjection projection, double tauMs, TraceUpdate update)
    {
        int maxDelay = 0;
        foreach (int d in projection.DelayTicks) maxDelay = Math.Max(maxDelay, d);
        var traces = new TraceHandle[maxDelay + 1];
        foreach (int d in projection.DelayTicks.ToArray().Distinct())
        {
            traces[d] = binding.PostTrace(tauMs, update, d);
            binding.PostArrivals(d);
        }
        return traces;
    }
}
