namespace Sim.EventCore.Numerics;

/// <summary>
/// Escape noise without a per-step transcendental (docs/numerics.md item 5).
/// A neuron spikes with probability σ(x) = 1/(1 + e^-x), x = (v − θ)/δv. With u uniform,
/// u &lt; σ(x) ⇔ x &gt; logit(u). We quantise u to 2^16 levels: k = top 16 bits of the counter-based word,
/// and spike iff x &gt; L[k], L[k] = logit((k + ½)/2^16), a table computed once in C# and shared
/// with the dense engine. The realised probability is #{k : L[k] &lt; x}/2^16, within 2^-16 of σ(x).
/// </summary>
public static class EscapeNoiseTable
{
    /// <summary>Number of bits of the random word used as table index.</summary>
    public const int Bits = 16;

    /// <summary>L[k] = logit((k + ½)/2^16) = ln(p/(1−p)), ascending.</summary>
    public static readonly double[] Logit = Build();

    private static double[] Build()
    {
        var t = new double[1 << Bits];
        for (int k = 0; k < t.Length; k++)
        {
            double p = (k + 0.5) / t.Length;
            t[k] = Math.Log(p / (1.0 - p));
        }
        return t;
    }

    /// <summary>Table index from a random word: its top 16 bits.</summary>
    public static int Index(ulong word) => (int)(word >> (64 - Bits));
}
