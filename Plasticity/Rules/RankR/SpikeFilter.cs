using System.Numerics.Tensors;

namespace Sim.Plasticity;

/// <summary>
/// Exponential spike filter at the tolerance time constant τ⋆ (Capone, Muratore &amp; Paolucci 2022; docs/rules/rank_r.md):
/// <code>
/// ŝ ← α⋆·ŝ + (1 − α⋆)·z,   α⋆ = e^{−dt/τ⋆}
/// </code>
/// applied alike to the target spikes z* (giving ŝ*) and to the network's spikes z (giving ŝ). α⋆ is computed once
/// (the only transcendental); each step is the fixed IEEE sequence <c>a ← z·(1−α⋆); ŝ ← ŝ·α⋆ + a</c> (two roundings
/// per operation, never fused), the same form as the GoalLif trace kernel, so a dense mirror can reproduce it bit for bit.
/// ŝ is kept in float64 (not on a fixed-point grid): it feeds only the canonical-order reductions of the rule and the readout.
/// </summary>
public sealed class SpikeFilter
{
    private readonly double[] _s, _t;

    /// <summary>A filter of <paramref name="size"/> channels, ŝ = 0.</summary>
    /// <param name="size">Number of channels (neurons).</param>
    /// <param name="dtMs">Time step (ms).</param>
    /// <param name="tauStarMs">τ⋆ (ms), &gt; 0.</param>
    public SpikeFilter(int size, double dtMs, double tauStarMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        if (!(dtMs > 0) || !double.IsFinite(dtMs)) throw new ArgumentOutOfRangeException(nameof(dtMs), "dt must be finite and > 0");
        if (!(tauStarMs > 0) || !double.IsFinite(tauStarMs)) throw new ArgumentOutOfRangeException(nameof(tauStarMs), "τ⋆ must be finite and > 0");
        _s = new double[size];
        _t = new double[size];
        Alpha = Math.Exp(-dtMs / tauStarMs);
        OneMinusAlpha = 1.0 - Alpha;
    }

    /// <summary>α⋆ = e^{−dt/τ⋆}.</summary>
    public double Alpha { get; }
    /// <summary>1 − α⋆.</summary>
    public double OneMinusAlpha { get; }
    /// <summary>The filtered trace ŝ.</summary>
    public ReadOnlySpan<double> Value => _s;
    /// <summary>Number of channels.</summary>
    public int Size => _s.Length;

    /// <summary>ŝ ← 0.</summary>
    public void Reset() => Array.Clear(_s);

    /// <summary>ŝ ← <paramref name="values"/> (a restore).</summary>
    public void Load(ReadOnlySpan<double> values)
    {
        if (values.Length != _s.Length) throw new InvalidDataException($"a filter of {_s.Length} channels cannot take {values.Length} values");
        values.CopyTo(_s);
    }

    /// <summary>One step: ŝ_i ← ŝ_i·α⋆ + z_i·(1 − α⋆).</summary>
    public void Step(ReadOnlySpan<double> z)
    {
        if (z.Length != _s.Length) throw new ArgumentException($"expected {_s.Length} spikes, got {z.Length}", nameof(z));
        // t = z·(1−α⋆); ŝ ← ŝ·α⋆ + t (element-wise, never fused)
        Span<double> t = _t;
        TensorPrimitives.Multiply(z, OneMinusAlpha, t);
        TensorPrimitives.MultiplyAdd(_s, Alpha, t, _s);
    }

    /// <summary>Filters a whole spike train z[t, i] (rows = ticks) from ŝ = 0; row t of the result is ŝ after z[t].</summary>
    public static double[][] FilterTrain(IReadOnlyList<double[]> spikes, int size, double dtMs, double tauStarMs)
    {
        var f = new SpikeFilter(size, dtMs, tauStarMs);
        var result = new double[spikes.Count][];
        for (int t = 0; t < spikes.Count; t++)
        {
            f.Step(spikes[t]);
            result[t] = f.Value.ToArray();
        }
        return result;
    }
}
