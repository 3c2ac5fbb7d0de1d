using Sim.Plasticity;

namespace Sim.Specs.Plasticity;

/// <summary>
/// A naive transcription of NEST's <c>stdp_synapse</c> / <c>stdp_nn_symm_synapse</c> semantics over whole spike lists,
/// sharing no code with the rule: for one synapse, the pre spikes at their emission ticks and the post spikes at their
/// arrival ticks t_post + d (the delay is dendritic), processed in time order, post arrivals before pre spikes of the same
/// tick; at a post arrival a, K₊ = Σ over pre spikes p &lt; a of e^{−(a−p)·dt/τ₊} (all to all) or the term of the latest
/// such p (nearest); at a pre spike t, K₋ = Σ over arrivals a &lt; t of e^{−(t−a)·dt/τ₋} (or the latest), once per spike
/// of the tick. Exponentials by Math.Exp on the whole interval (the rule uses products of e^{−dt/τ}).
/// </summary>
internal static class StdpReference
{
    /// <summary>The weight after the run, and the weight each pre spike carried (in order).</summary>
    public static (double Final, List<double> Carried) Run(double w0, IReadOnlyList<long> preTicks, IReadOnlyList<long> postTicks, int delayTicks,
        long endTick, double dtMs, StdpParameters p)
    {
        bool nearest = p.Pairing == StdpPairing.Nearest;
        var arrivals = postTicks.Select(t => t + delayTicks).Where(a => a < endTick).OrderBy(a => a).ToList();
        var pres = preTicks.Where(t => t < endTick).OrderBy(t => t).ToList();
        // Events: (tick, 0 = post arrival, 1 = pre spike).
        var events = arrivals.Select(a => (Tick: a, Kind: 0)).Concat(pres.Select(t => (Tick: t, Kind: 1))).OrderBy(e => e.Tick).ThenBy(e => e.Kind).ToList();
        double w = w0;
        var carried = new List<double>();
        foreach (var (tick, kind) in events)
        {
            if (kind == 0)
            {
                var before = pres.Where(t => t < tick).ToList();
                double k = nearest ? (before.Count == 0 ? 0 : Math.Exp(-(tick - before.Max()) * dtMs / p.TauPlusMs))
                                   : before.Sum(t => Math.Exp(-(tick - t) * dtMs / p.TauPlusMs));
                double norm = w / p.WMax + p.Lambda * Math.Pow(1 - w / p.WMax, p.MuPlus) * k;
                w = Math.Min(norm, 1.0) * p.WMax;
            }
            else
            {
                var before = arrivals.Where(a => a < tick).ToList();
                double k = nearest ? (before.Count == 0 ? 0 : Math.Exp(-(tick - before.Max()) * dtMs / p.TauMinusMs))
                                   : before.Sum(a => Math.Exp(-(tick - a) * dtMs / p.TauMinusMs));
                double norm = w / p.WMax - p.Alpha * p.Lambda * Math.Pow(w / p.WMax, p.MuMinus) * k;
                w = Math.Max(norm, 0.0) * p.WMax;
                carried.Add(w);
            }
        }
        return (w, carried);
    }
}
