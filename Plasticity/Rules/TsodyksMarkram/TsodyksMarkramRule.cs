using Sim.EventCore.Plasticity;

namespace Sim.Plasticity;

/// <summary>
/// Parameters of Tsodyks–Markram short-term plasticity in NEST's <c>tsodyks2_synapse</c> form (Tsodyks &amp; Markram
/// 1997, PNAS 94:719; Tsodyks, Pawelzik &amp; Markram 1998, Neural Comput. 10:821; Fuhrmann et al. 2002, J. Neurophysiol.
/// 87:140, Eqs. 4–5). Per presynaptic source, u (utilisation) and x (available resources); at the n-th spike, h ticks
/// after the previous one (h·dt ms):
/// x_n = 1 + (x_{n−1} − x_{n−1}·u_{n−1} − 1)·e^{−h·dt/τ_rec};  u_n = U + u_{n−1}·(1 − U)·e^{−h·dt/τ_fac} (u_n = U for τ_fac = 0);
/// the spike carries w·(x_n·u_n), w the synapse's compiled weight. The first spike finds the synapse at rest: u₁ = U, x₁ = 1.
/// </summary>
public sealed record TsodyksMarkramParameters
{
    /// <summary>U ∈ (0, 1]: the utilisation increment (and the first spike's utilisation).</summary>
    public double U { get; init; } = 0.5;
    /// <summary>τ_rec (ms) &gt; 0: recovery of the resources (depression).</summary>
    public double TauRecMs { get; init; } = 800.0;
    /// <summary>τ_fac (ms) ≥ 0: decay of facilitation; 0 turns facilitation off (u = U).</summary>
    public double TauFacMs { get; init; } = 0.0;

    /// <summary>The problems of these parameters, each naming its field in file spelling (empty when valid).</summary>
    public IReadOnlyList<(string Field, string Message)> Problems()
    {
        var p = new List<(string, string)>();
        if (!(U > 0 && U <= 1)) p.Add(("u", $"must be in (0, 1], got {U}"));
        if (!(TauRecMs > 0) || !double.IsFinite(TauRecMs)) p.Add(("tau_rec_ms", $"must be a finite time > 0 ms, got {TauRecMs}"));
        if (!(TauFacMs >= 0) || !double.IsFinite(TauFacMs)) p.Add(("tau_fac_ms", $"must be a finite time ≥ 0 ms, got {TauFacMs}"));
        return p;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming every bad field.</summary>
    public void Validate()
    {
        var p = Problems();
        if (p.Count > 0) throw new ArgumentException("tsodyks_markram: " + string.Join("; ", p.Select(x => $"{x.Field} {x.Message}")));
    }
}

/// <summary>
/// Tsodyks–Markram short-term plasticity on a spike projection (<see cref="TsodyksMarkramParameters"/>). With parameters
/// shared by the projection, u and x depend only on the presynaptic train, so they are kept per source (with the tick of
/// its last spike), not per synapse: the cost is one update per source spike and one weight write per synapse it
/// crosses. The efficacy is computed at the spike and is the one delivered at t + d (<see cref="TransmittedWeights"/>),
/// even when the source fires again before the first spike arrives. The projection's grid weights are the efficacies
/// last sent; the base weights w are the compiled ones. A source spike of multiplicity c (several input spikes in one
/// tick) advances u and x c times, the spikes 0 ticks apart, and carries c times the mean of their efficacies.
/// Contract: docs/rules/tsodyks_markram.md.
/// </summary>
public sealed class TsodyksMarkramRule : IPlasticityRule
{
    private readonly string _projectionName;
    private PlasticProjection _projection = null!;
    private double[] _base = [];
    private DecayPowers _rec = null!;
    private DecayPowers? _fac;

    /// <summary>Short-term plasticity on the projection named <paramref name="projection"/>.</summary>
    public TsodyksMarkramRule(string projection, TsodyksMarkramParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Validate();
        _projectionName = projection;
        Parameters = parameters;
    }

    /// <summary>The parameters.</summary>
    public TsodyksMarkramParameters Parameters { get; }

    /// <inheritdoc/>
    public void Bind(PlasticityBinding binding)
    {
        _projection = SpikeTimingBinding.SpikeProjection(binding, "tsodyks_markram", _projectionName, "short-term plasticity needs a spike projection");
        _base = PlasticityBinding.CompiledWeights(binding.Network, _projection.Name);
        _rec = DecayPowers.ForTau(Parameters.TauRecMs, binding.Network.DtMs);
        _fac = Parameters.TauFacMs > 0 ? DecayPowers.ForTau(Parameters.TauFacMs, binding.Network.DtMs) : null;
        binding.RequestSpikeHooks();
    }

    /// <inheritdoc/>
    public IRuleInstance CreateInstance(IPlasticityContext context) => new Instance(this, context.Network.SourceCount);

    private sealed class Instance : ICheckpointableRuleInstance
    {
        private readonly TsodyksMarkramRule _rule;
        private readonly TransmittedWeights _sent;
        private readonly double[] _u, _x;
        private readonly long[] _last;   // tick of the source's last spike, −1: none yet

        public Instance(TsodyksMarkramRule rule, int sources)
        {
            _rule = rule;
            _sent = new TransmittedWeights(rule._projection);
            _u = new double[sources];
            _x = new double[sources];
            _last = new long[sources];
            Reset();
        }

        private void Reset()
        {
            Array.Fill(_u, _rule.Parameters.U);
            Array.Fill(_x, 1.0);
            Array.Fill(_last, -1);
        }

        public void OnPreSpikes(IPlasticityContext context, ReadOnlySpan<int> sources, ReadOnlySpan<int> counts)
        {
            var p = _rule._projection;
            double bigU = _rule.Parameters.U;
            long tick = context.Tick;
            var w0 = _rule._base;
            for (int j = 0; j < sources.Length; j++)
            {
                int s = sources[j];
                var outgoing = p.Outgoing(s);
                if (outgoing.IsEmpty) continue;
                double u = _u[s], x = _x[s], efficacy = 0;
                for (int c = 0; c < counts[j]; c++)
                {
                    if (_last[s] >= 0)
                    {
                        long h = c == 0 ? tick - _last[s] : 0;
                        double xd = _rule._rec.Pow(h), ud = _rule._fac is null ? 0.0 : _rule._fac.Pow(h);   // NEST: no facilitation for τ_fac = 0
                        // NEST tsodyks2_synapse::send, in its order: x with the previous u, then u.
                        x = 1.0 + (x - x * u - 1.0) * xd;
                        u = bigU + u * (1.0 - bigU) * ud;
                    }
                    _last[s] = tick;
                    efficacy += x * u;
                }
                if (counts[j] > 1) efficacy /= counts[j];
                _u[s] = u;
                _x[s] = x;
                foreach (int k in outgoing) _sent.Send(context, k, w0[k] * efficacy, tick);
            }
        }

        public void OnStep(IPlasticityContext context) => _sent.Flush(context, context.Tick);

        public void OnTrialStart(IPlasticityContext context)
        {
            Reset();
            _sent.Clear();
        }

        public IReadOnlyDictionary<string, double[]> Capture() => new Dictionary<string, double[]>
        {
            ["u"] = (double[])_u.Clone(),
            ["x"] = (double[])_x.Clone(),
            ["last"] = [.. _last.Select(t => (double)t)],
            ["pending"] = _sent.Capture(),
        };

        public void Restore(IReadOnlyDictionary<string, double[]> state)
        {
            if (state.Count != 4 || !state.TryGetValue("u", out var u) || !state.TryGetValue("x", out var x) || !state.TryGetValue("last", out var last)
                || !state.TryGetValue("pending", out var pending) || u.Length != _u.Length || x.Length != _x.Length || last.Length != _last.Length)
                throw new InvalidDataException($"tsodyks_markram on '{_rule._projection.Name}': the checkpoint's rule state is not this rule's");
            u.CopyTo(_u, 0);
            x.CopyTo(_x, 0);
            for (int k = 0; k < last.Length; k++) _last[k] = (long)last[k];
            _sent.Restore(pending);
        }
    }
}
