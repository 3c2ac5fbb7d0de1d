using Sim.EventCore.Plasticity;

namespace Sim.Plasticity;

/// <summary>
/// Parameters of the all-to-all triplet STDP rule of Pfister &amp; Gerstner 2006 (J. Neurosci. 26:9673, Eqs. 1–4), in
/// NEST's <c>stdp_triplet_synapse</c> form. Traces: r₁ (τ₊) and r₂ (τ_x) of the pre spikes, o₁ (τ₋) and o₂ (τ_y) of
/// the post spikes, each +1 per spike. At a post spike reaching the synapse: w ← w + r₁·(A₂⁺ + A₃⁺·o₂(t⁻)); at a pre
/// spike: w ← w − o₁·(A₂⁻ + A₃⁻·r₂(t⁻)); |w| bounded to [0, |W_max|] with the sign of W_max. The traces are read just
/// before the spike (t⁻: a spike's own increment does not count), the o traces delayed by the dendritic delay.
/// Defaults: the visual-cortex all-to-all fit of the full model (Table 2 of the paper; data of Sjöström, Turrigiano &amp;
/// Nelson 2001).
/// </summary>
public sealed record TripletStdpParameters
{
    /// <summary>τ₊ (ms) of r₁.</summary>
    public double TauPlusMs { get; init; } = 16.8;
    /// <summary>τ₋ (ms) of o₁.</summary>
    public double TauMinusMs { get; init; } = 33.7;
    /// <summary>τ_x (ms) of r₂.</summary>
    public double TauXMs { get; init; } = 101.0;
    /// <summary>τ_y (ms) of o₂.</summary>
    public double TauYMs { get; init; } = 125.0;
    /// <summary>A₂⁺: pair potentiation (weight units per unit trace).</summary>
    public double A2Plus { get; init; } = 5e-10;
    /// <summary>A₃⁺: triplet potentiation.</summary>
    public double A3Plus { get; init; } = 6.2e-3;
    /// <summary>A₂⁻: pair depression.</summary>
    public double A2Minus { get; init; } = 7e-3;
    /// <summary>A₃⁻: triplet depression.</summary>
    public double A3Minus { get; init; } = 2.3e-4;
    /// <summary>W_max: the bound of |w|; its sign is the weights' sign.</summary>
    public double WMax { get; init; } = 100.0;

    /// <summary>The visual-cortex all-to-all minimal model (Table 2: A₂⁺ = A₃⁻ = 0).</summary>
    public static TripletStdpParameters VisualCortexMinimal => new() { A2Plus = 0, A3Plus = 6.5e-3, A2Minus = 7.1e-3, A3Minus = 0 };

    /// <summary>The problems of these parameters, each naming its field in file spelling (empty when valid).</summary>
    public IReadOnlyList<(string Field, string Message)> Problems()
    {
        var p = new List<(string, string)>();
        foreach (var (name, tau) in new[] { ("tau_plus_ms", TauPlusMs), ("tau_minus_ms", TauMinusMs), ("tau_x_ms", TauXMs), ("tau_y_ms", TauYMs) })
            if (!(tau > 0) || !double.IsFinite(tau)) p.Add((name, $"must be a finite time > 0 ms, got {tau}"));
        foreach (var (name, a) in new[] { ("a2_plus", A2Plus), ("a3_plus", A3Plus), ("a2_minus", A2Minus), ("a3_minus", A3Minus) })
            if (!(a >= 0) || !double.IsFinite(a)) p.Add((name, $"must be finite and ≥ 0, got {a}"));
        if (WMax == 0 || !double.IsFinite(WMax)) p.Add(("w_max", $"must be finite and not 0, got {WMax}"));
        return p;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming every bad field.</summary>
    public void Validate()
    {
        var p = Problems();
        if (p.Count > 0) throw new ArgumentException("triplet_stdp: " + string.Join("; ", p.Select(x => $"{x.Field} {x.Message}")));
    }
}

/// <summary>
/// All-to-all triplet STDP (<see cref="TripletStdpParameters"/>) on a spike projection, on the same boundary and with the
/// same dendritic-delay handling as <see cref="StdpRule"/> (post spikes reach their synapses d ticks late, a pre spike
/// carries the weight after its depression, float64 weights in synapse state <c>triplet/w</c>, the grid written at pre
/// spikes and trial ends). Contract: docs/rules/triplet_stdp.md.
/// </summary>
public sealed class TripletStdpRule : IPlasticityRule
{
    private readonly string _projectionName;
    private PlasticProjection _projection = null!;
    private TraceHandle _r1 = null!, _r2 = null!;
    private TraceHandle[] _o1 = [], _o2 = [];
    private SynapseStateHandle _weights = null!;

    /// <summary>Triplet STDP on the projection named <paramref name="projection"/>.</summary>
    public TripletStdpRule(string projection, TripletStdpParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Validate();
        _projectionName = projection;
        Parameters = parameters;
    }

    /// <summary>The parameters.</summary>
    public TripletStdpParameters Parameters { get; }

    /// <summary>The name of the synapse-state array holding the float64 weights w.</summary>
    public const string WeightState = "triplet/w";

    /// <inheritdoc/>
    public void Bind(PlasticityBinding binding)
    {
        _projection = SpikeTimingBinding.SpikeProjection(binding, "triplet_stdp", _projectionName);
        _r1 = binding.PreTrace(Parameters.TauPlusMs);
        _r2 = binding.PreTrace(Parameters.TauXMs);
        _o1 = SpikeTimingBinding.DelayedPostTraces(binding, _projection, Parameters.TauMinusMs, TraceUpdate.Accumulate);
        _o2 = SpikeTimingBinding.DelayedPostTraces(binding, _projection, Parameters.TauYMs, TraceUpdate.Accumulate);
        _weights = binding.SynapseState(_projection, WeightState);
    }

    /// <inheritdoc/>
    public IRuleInstance CreateInstance(IPlasticityContext context)
    {
        var w = context.SynapseState(_weights);
        for (int k = 0; k < w.Length; k++)
        {
            w[k] = context.GetWeight(_projection, k);
            if (!(w[k] / Parameters.WMax >= 0 && w[k] / Parameters.WMax <= 1))
                throw new ArgumentException($"triplet_stdp: synapse {k} of '{_projection.Name}' has weight {w[k]:G6}, outside [0, w_max = {Parameters.WMax:G6}] (w must have the sign of w_max)");
        }
        return new Instance(this);
    }

    private sealed class Instance(TripletStdpRule rule) : ICheckpointableRuleInstance
    {
        private readonly TransmittedWeights _sent = new(rule._projection);
        private readonly TripletStdpParameters _p = rule.Parameters;
        private readonly double _wMaxAbs = Math.Abs(rule.Parameters.WMax);

        public void OnPostArrivals(IPlasticityContext context, ReadOnlySpan<int> neurons, int delayTicks)
        {
            var proj = rule._projection;
            var w = context.SynapseState(rule._weights);
            var pre = proj.Pre;
            var delay = proj.DelayTicks;
            var o2 = rule._o2[delayTicks];
            var r1 = context.Traces(rule._r1);
            foreach (int i in neurons)
            {
                double y = context.Trace(o2, i);
                double gain = _p.A2Plus + _p.A3Plus * y;
                foreach (int k in proj.Incoming(i))
                {
                    if (delay[k] != delayTicks) continue;
                    // NEST facilitate_: |w| + r₁·(A₂⁺ + A₃⁺·o₂), bounded by |W_max|, with W_max's sign.
                    double a = Math.Abs(w[k]) + r1[pre[k]] * gain;
                    w[k] = Math.CopySign(a < _wMaxAbs ? a : _wMaxAbs, _p.WMax);
                }
            }
        }

        public void OnPreSpikes(IPlasticityContext context, ReadOnlySpan<int> sources, ReadOnlySpan<int> counts)
        {
            var proj = rule._projection;
            var w = context.SynapseState(rule._weights);
            var post = proj.Post;
            var delay = proj.DelayTicks;
            long tick = context.Tick;
            for (int j = 0; j < sources.Length; j++)
            {
                var outgoing = proj.Outgoing(sources[j]);
                if (outgoing.IsEmpty) continue;
                double x = context.Trace(rule._r2, sources[j]);
                int c = counts[j];
                foreach (int k in outgoing)
                {
                    double o1 = context.Trace(rule._o1[delay[k]], post[k]);
                    double v = w[k], rx = x;
                    for (int r = 0; r < c; r++)
                    {
                        // NEST depress_: |w| − o₁·(A₂⁻ + A₃⁻·r₂), bounded at 0; r₂ counts the tick's earlier copies.
                        double a = Math.Abs(v) - o1 * (_p.A2Minus + _p.A3Minus * rx);
                        v = Math.CopySign(a > 0.0 ? a : 0.0, _p.WMax);
                        rx += 1.0;
                    }
                    w[k] = v;
                    _sent.Send(context, k, v, tick);
                }
            }
        }

        public void OnStep(IPlasticityContext context) => _sent.Flush(context, context.Tick);

        public void OnTrialStart(IPlasticityContext context) => _sent.Clear();

        public void OnTrialEnd(IPlasticityContext context) => context.SetWeights(rule._projection, context.SynapseState(rule._weights));

        public IReadOnlyDictionary<string, double[]> Capture() => new Dictionary<string, double[]> { ["pending"] = _sent.Capture() };

        public void Restore(IReadOnlyDictionary<string, double[]> state)
        {
            if (!state.TryGetValue("pending", out var pending) || state.Count != 1)
                throw new InvalidDataException($"triplet_stdp on '{rule._projection.Name}': the checkpoint's rule state is not this rule's (expected 'pending')");
            _sent.Restore(pending);
        }
    }
}
