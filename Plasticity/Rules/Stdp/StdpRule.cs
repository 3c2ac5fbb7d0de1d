using Sim.EventCore.Plasticity;

namespace Sim.Plasticity;

/// <summary>
/// Pair-based STDP on a spike projection with NEST's <c>stdp_synapse</c> / <c>stdp_nn_symm_synapse</c> semantics
/// (<see cref="StdpParameters"/>; Bi &amp; Poo 1998; Song, Miller &amp; Abbott 2000; Morrison, Diesmann &amp; Gerstner
/// 2008). Event-driven: the cost is per spike crossing a synapse. The whole delay d of a synapse is dendritic, as in NEST:
/// the synapse sits where the axon meets the dendrite, a pre spike emitted at t is there at t, and a post spike emitted
/// at t_post back-propagates to it and is there at t_post + d. So:
/// <list type="bullet">
/// <item>at a <b>post arrival</b> (tick t_post + d; <see cref="IRuleInstance.OnPostArrivals"/> over the reverse index
/// <see cref="PlasticProjection.Incoming"/>) each synapse of that delay is facilitated with the pre trace K₊ just before
/// that tick;</item>
/// <item>at a <b>pre spike</b> (tick t; <see cref="PlasticProjection.Outgoing"/>) each synapse is depressed with the post
/// trace K₋ of its delay just before t (the post spikes that reached it before t: NEST's <c>get_K_value(t − d)</c>), once
/// per spike of the tick's multiplicity; the spike then carries the depressed weight (NEST sets the event's weight in
/// <c>send()</c>), delivered at t + d by <see cref="TransmittedWeights"/>.</item>
/// </list>
/// A post arrival and a pre spike in the same tick are not paired with each other (NEST excludes Δt = 0: the trace is
/// read strictly before). Traces are per neuron and lazily decayed (the boundary's <c>PreTrace</c>/<c>PostTrace</c>,
/// accumulating or nearest). The current weight w of every synapse is kept in float64 (synapse state
/// <c>stdp/w</c>, in checkpoints) so that updates below the grid step accumulate; the projection's grid weights are what
/// spikes carry: round(w) written at each pre spike (round half to even, docs/numerics.md item 8) and for every synapse at
/// a trial's end. Facilitations after a synapse's last pre spike are in w but reach the grid only at its next pre spike
/// or the trial end, as NEST's weight only changes in <c>send()</c>. Contract: docs/rules/stdp.md.
/// </summary>
public sealed class StdpRule : IPlasticityRule
{
    private readonly string _projectionName;
    private PlasticProjection _projection = null!;
    private TraceHandle _kPlus = null!;
    private TraceHandle[] _kMinusByDelay = [];
    private SynapseStateHandle _weights = null!;
    private int _singleDelay;   // the projection's delay when all its synapses share one, else −1

    /// <summary>STDP on the projection named <paramref name="projection"/> (validated here: every bad field is named).</summary>
    public StdpRule(string projection, StdpParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Validate();
        _projectionName = projection;
        Parameters = parameters;
    }

    /// <summary>The parameters.</summary>
    public StdpParameters Parameters { get; }

    /// <summary>The name of the synapse-state array holding the float64 weights w.</summary>
    public const string WeightState = "stdp/w";

    /// <inheritdoc/>
    public void Bind(PlasticityBinding binding)
    {
        _projection = SpikeTimingBinding.SpikeProjection(binding, "stdp", _projectionName);
        var update = Parameters.Pairing == StdpPairing.Nearest ? TraceUpdate.Nearest : TraceUpdate.Accumulate;
        _kPlus = binding.PreTrace(Parameters.TauPlusMs, update);
        _kMinusByDelay = SpikeTimingBinding.DelayedPostTraces(binding, _projection, Parameters.TauMinusMs, update);
        _weights = binding.SynapseState(_projection, WeightState);
        _singleDelay = _projection.DelayTicks.ToArray().Distinct().Count() == 1 ? _projection.DelayTicks[0] : -1;
    }

    /// <inheritdoc/>
    public IRuleInstance CreateInstance(IPlasticityContext context)
    {
        var w = context.SynapseState(_weights);
        for (int k = 0; k < w.Length; k++)
        {
            w[k] = context.GetWeight(_projection, k);
            double n = w[k] / Parameters.WMax;
            if (!(n >= 0 && n <= 1))
                throw new ArgumentException($"stdp: synapse {k} of '{_projection.Name}' (source {_projection.Pre[k]} → neuron {_projection.Post[k]}) has weight {w[k]:G6}, outside [0, w_max = {Parameters.WMax:G6}] (w must have the sign of w_max)");
        }
        return new Instance(this);
    }

    /// <summary>ŵ ← ŵ + λ(1 − ŵ)^μ₊·K₊, bounded at W_max; NEST's <c>facilitate_</c>, operation for operation.</summary>
    internal static double Facilitate(double w, double kPlus, double lambda, double muPlus, double wMax)
    {
        double n = w / wMax;
        n += lambda * Power(1.0 - n, muPlus) * kPlus;
        return n < 1.0 ? n * wMax : wMax;
    }

    /// <summary>ŵ ← ŵ − αλ·ŵ^μ₋·K₋, bounded at 0; NEST's <c>depress_</c>, operation for operation.</summary>
    internal static double Depress(double w, double kMinus, double alphaLambda, double muMinus, double wMax)
    {
        double n = w / wMax;
        n -= alphaLambda * Power(n, muMinus) * kMinus;
        return n > 0.0 ? n * wMax : 0.0;
    }

    // x^μ: exact shortcuts for the additive and multiplicative cases (the same values pow gives: pow(x, 0) = 1,
    // pow(x, 1) = x); other μ call the platform's pow, in C# for every engine (docs/rules/stdp.md, numerics).
    private static double Power(double x, double mu) => mu == 0 ? 1.0 : mu == 1 ? x : Math.Pow(x, mu);

    private const int PrefetchAhead = 8;

    // A cache hint only (no effect on any value).
    private static unsafe void Prefetch(Span<double> w, int k)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
            fixed (double* p = w) System.Runtime.Intrinsics.X86.Sse.Prefetch0(p + k);
    }

    private sealed class Instance(StdpRule rule) : ICheckpointableRuleInstance
    {
        private readonly TransmittedWeights _sent = new(rule._projection);
        private readonly double _lambda = rule.Parameters.Lambda, _alphaLambda = rule.Parameters.Alpha * rule.Parameters.Lambda;
        private readonly double _muPlus = rule.Parameters.MuPlus, _muMinus = rule.Parameters.MuMinus, _wMax = rule.Parameters.WMax;

        public void OnPostArrivals(IPlasticityContext context, ReadOnlySpan<int> neurons, int delayTicks)
        {
            var p = rule._projection;
            var w = context.SynapseState(rule._weights);
            var delay = p.DelayTicks;
            var kPlus = context.Traces(rule._kPlus);
            bool all = rule._singleDelay == delayTicks;   // one delay: every incoming synapse has it
            foreach (int i in neurons)
            {
                var incoming = p.Incoming(i);
                var sources = p.IncomingSources(i);
                for (int j = 0; j < incoming.Length; j++)
                {
                    // The reverse index visits the weights out of their (source-major) order: fetch a few ahead.
                    if (j + PrefetchAhead < incoming.Length) Prefetch(w, incoming[j + PrefetchAhead]);
                    int k = incoming[j];
                    if (all || delay[k] == delayTicks) w[k] = Facilitate(w[k], kPlus[sources[j]], _lambda, _muPlus, _wMax);
                }
            }
        }

        public void OnPreSpikes(IPlasticityContext context, ReadOnlySpan<int> sources, ReadOnlySpan<int> counts)
        {
            var p = rule._projection;
            var w = context.SynapseState(rule._weights);
            var post = p.Post;
            var delay = p.DelayTicks;
            var kMinus = rule._kMinusByDelay;
            long tick = context.Tick;
            int single = rule._singleDelay;
            var kSingle = single > 0 ? context.Traces(kMinus[single]) : default;
            for (int j = 0; j < sources.Length; j++)
            {
                var outgoing = p.Outgoing(sources[j]);
                int c = counts[j];
                foreach (int k in outgoing)
                {
                    double km = single > 0 ? kSingle[post[k]] : context.Trace(kMinus[delay[k]], post[k]);
                    double x = w[k];
                    for (int r = 0; r < c; r++) x = Depress(x, km, _alphaLambda, _muMinus, _wMax);
                    w[k] = x;
                    _sent.Send(context, k, x, tick);
                }
            }
        }

        public void OnStep(IPlasticityContext context) => _sent.Flush(context, context.Tick);

        public void OnTrialStart(IPlasticityContext context) => _sent.Clear();

        // The grid follows every facilitation since each synapse's last pre spike (reported weights are current).
        public void OnTrialEnd(IPlasticityContext context) => context.SetWeights(rule._projection, context.SynapseState(rule._weights));

        public IReadOnlyDictionary<string, double[]> Capture() => new Dictionary<string, double[]> { ["pending"] = _sent.Capture() };

        public void Restore(IReadOnlyDictionary<string, double[]> state)
        {
            if (!state.TryGetValue("pending", out var pending) || state.Count != 1)
                throw new InvalidDataException($"stdp on '{rule._projection.Name}': the checkpoint's rule state is not this rule's (expected 'pending')");
            _sent.Restore(pending);
        }
    }
}
