namespace Sim.Plasticity;

/// <summary>Which spike pairs pair-based STDP counts.</summary>
public enum StdpPairing
{
    /// <summary>
    /// Every pre spike with every earlier post spike and vice versa: the traces add 1 per spike (NEST <c>stdp_synapse</c>;
    /// Song, Miller &amp; Abbott 2000).
    /// </summary>
    AllToAll,
    /// <summary>
    /// Symmetric nearest neighbour: a post spike is paired with the latest pre spike before it, a pre spike with the
    /// latest post spike before it; the traces are reset to 1 at a spike (NEST <c>stdp_nn_symm_synapse</c>; Morrison,
    /// Diesmann &amp; Gerstner 2008, Fig. 7A).
    /// </summary>
    Nearest,
}

/// <summary>
/// Parameters of pair-based STDP with NEST's <c>stdp_synapse</c> weight dependence (Gütig et al. 2003; Morrison,
/// Diesmann &amp; Gerstner 2008, Biol. Cybern. 98:459, Eqs. 2–3), shared by every synapse of the projection (NEST's
/// common properties). With ŵ = w/W_max:
/// facilitation at a post spike reaching the synapse, K₊ the pre trace just before it:
/// ŵ ← ŵ + λ·(1 − ŵ)^μ₊·K₊, then w = min(ŵ, 1)·W_max;
/// depression at a pre spike, K₋ the post trace (delayed by the dendritic delay) just before it:
/// ŵ ← ŵ − α·λ·ŵ^μ₋·K₋, then w = max(ŵ, 0)·W_max.
/// μ = 0 is additive STDP (Song, Miller &amp; Abbott 2000), μ = 1 multiplicative (van Rossum, Bi &amp; Turrigiano
/// 2000; Rubin et al. 2001); any μ ≥ 0 interpolates (Gütig et al. 2003). Traces: K₊ with τ₊ over the pre spikes,
/// K₋ with τ₋ over the post spikes (kept per neuron, lazily decayed). Defaults are NEST's except W_max (NEST: 100).
/// </summary>
public sealed record StdpParameters
{
    /// <summary>τ₊ (ms) of the presynaptic trace K₊ (the potentiation window).</summary>
    public double TauPlusMs { get; init; } = 20.0;
    /// <summary>τ₋ (ms) of the postsynaptic trace K₋ (the depression window).</summary>
    public double TauMinusMs { get; init; } = 20.0;
    /// <summary>λ: the learning rate, in units of W_max per unit trace.</summary>
    public double Lambda { get; init; } = 0.01;
    /// <summary>α: depression relative to potentiation.</summary>
    public double Alpha { get; init; } = 1.0;
    /// <summary>μ₊ ≥ 0: weight dependence of potentiation (0 additive, 1 multiplicative).</summary>
    public double MuPlus { get; init; } = 1.0;
    /// <summary>μ₋ ≥ 0: weight dependence of depression (0 additive, 1 multiplicative).</summary>
    public double MuMinus { get; init; } = 1.0;
    /// <summary>W_max: the upper bound (weights stay in [0, W_max], or [W_max, 0] for W_max &lt; 0), in the projection's weight unit.</summary>
    public double WMax { get; init; } = 1.0;
    /// <summary>Which spike pairs count.</summary>
    public StdpPairing Pairing { get; init; } = StdpPairing.AllToAll;

    /// <summary>Additive STDP (μ₊ = μ₋ = 0).</summary>
    public static StdpParameters Additive => new() { MuPlus = 0, MuMinus = 0 };
    /// <summary>Multiplicative STDP (μ₊ = μ₋ = 1).</summary>
    public static StdpParameters Multiplicative => new();

    /// <summary>The problems of these parameters, each naming its field in file spelling (empty when valid).</summary>
    public IReadOnlyList<(string Field, string Message)> Problems()
    {
        var p = new List<(string, string)>();
        if (!(TauPlusMs > 0) || !double.IsFinite(TauPlusMs)) p.Add(("tau_plus_ms", $"must be a finite time > 0 ms, got {TauPlusMs}"));
        if (!(TauMinusMs > 0) || !double.IsFinite(TauMinusMs)) p.Add(("tau_minus_ms", $"must be a finite time > 0 ms, got {TauMinusMs}"));
        if (!(Lambda >= 0) || !double.IsFinite(Lambda)) p.Add(("lambda", $"must be finite and ≥ 0, got {Lambda}"));
        if (!(Alpha >= 0) || !double.IsFinite(Alpha)) p.Add(("alpha", $"must be finite and ≥ 0, got {Alpha}"));
        if (!(MuPlus >= 0) || !double.IsFinite(MuPlus)) p.Add(("mu_plus", $"must be finite and ≥ 0, got {MuPlus}"));
        if (!(MuMinus >= 0) || !double.IsFinite(MuMinus)) p.Add(("mu_minus", $"must be finite and ≥ 0, got {MuMinus}"));
        if (WMax == 0 || !double.IsFinite(WMax)) p.Add(("w_max", $"must be finite and not 0, got {WMax}"));
        if (!Enum.IsDefined(Pairing)) p.Add(("pairing", $"must be all_to_all or nearest, got {Pairing}"));
        return p;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming every bad field.</summary>
    public void Validate()
    {
        var p = Problems();
        if (p.Count > 0) throw new ArgumentException("stdp: " + string.Join("; ", p.Select(x => $"{x.Field} {x.Message}")));
    }
}
