using System.Runtime.CompilerServices;

namespace Sim.EventCore.Numerics;

/// <summary>
/// Counter-based random numbers: every draw is a pure function of
/// (seed, stream, instance, tick, index), so results never depend on thread count,
/// evaluation order or which engine asks (docs/numerics.md item 6).
/// </summary>
/// <remarks>
/// The mixing function is the SplitMix64 finaliser (Steele, Lea &amp; Flood 2014), built only from
/// 64-bit wrapping add, multiply, xor and logical right shift, so it can be reproduced exactly with
/// torch int64 tensor operations on CPU and CUDA (logical shift = arithmetic shift then mask).
/// <code>
/// Mix(z)        = f(z + γ),  f = SplitMix64 finaliser, γ = 0x9E3779B97F4A7C15
/// Key(s,k,b,t)  = Mix(Mix(Mix(Mix(s) ^ k) ^ b) ^ t)
/// Word(key, i)  = Mix(key ^ Mix(i))
/// </code>
/// </remarks>
public static class CounterRng
{
    /// <summary>The golden-ratio increment γ of SplitMix64.</summary>
    public const ulong Gamma = 0x9E3779B97F4A7C15UL;
    /// <summary>First multiplier of the SplitMix64 finaliser.</summary>
    public const ulong M1 = 0xBF58476D1CE4E5B9UL;
    /// <summary>Second multiplier of the SplitMix64 finaliser.</summary>
    public const ulong M2 = 0x94D049BB133111EBUL;

    /// <summary>SplitMix64 step: a bijective, well-mixed function of a 64-bit counter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong z)
    {
        z += Gamma;
        z = (z ^ (z >> 30)) * M1;
        z = (z ^ (z >> 27)) * M2;
        return z ^ (z >> 31);
    }

    /// <summary>The key of one (seed, stream, instance, tick) cell; combine with an index by <see cref="Word"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Key(ulong seed, ulong stream, ulong instance, ulong tick)
        => Mix(Mix(Mix(Mix(seed) ^ stream) ^ instance) ^ tick);

    /// <summary>The 64 random bits for element <paramref name="index"/> of a keyed cell.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Word(ulong key, ulong index) => Mix(key ^ Mix(index));

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Uniform01(ulong word) => (word >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform double in (0, 1]: safe as the argument of a logarithm.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double UniformOpen0(ulong word) => ((word >> 11) + 1) * (1.0 / (1UL << 53));

    /// <summary>Standard normal deviate from two words (Box–Muller, cosine branch). Used only at compile time in C#.</summary>
    public static double Normal(ulong w1, ulong w2)
    {
        double r = Math.Sqrt(-2.0 * Math.Log(UniformOpen0(w1)));
        return r * Math.Cos(2.0 * Math.PI * Uniform01(w2));
    }
}

/// <summary>Stream identifiers: the high 32 bits name the purpose, the low 32 bits the object (projection, input, population).</summary>
public static class RngStreams
{
    /// <summary>Connectivity of projection p.</summary>
    public static ulong Connectivity(int p) => (1UL << 32) | (uint)p;
    /// <summary>Weights of projection p.</summary>
    public static ulong Weights(int p) => (2UL << 32) | (uint)p;
    /// <summary>Delays of projection p.</summary>
    public static ulong Delays(int p) => (3UL << 32) | (uint)p;
    /// <summary>Per-neuron parameters and initial state of population p; the variable is folded in by hashing its name.</summary>
    public static ulong PopulationValues(int p, string variable) => (4UL << 32) ^ CounterRng.Mix((uint)p ^ StableHash(variable));
    /// <summary>Poisson spike times of input i.</summary>
    public static ulong Poisson(int i) => (5UL << 32) | (uint)i;
    /// <summary>Escape-noise draws (one word per neuron and tick, index = global neuron id).</summary>
    public const ulong EscapeNoise = 6UL << 32;
    /// <summary>Per-input values (e.g. Poisson rates) of input i.</summary>
    public static ulong InputValues(int i, string variable) => (7UL << 32) ^ CounterRng.Mix((uint)i ^ StableHash(variable));
    /// <summary>Closed-loop episodes: the environment seed of one instance (the episode index is the trial).</summary>
    public const ulong Episodes = 8UL << 32;

    /// <summary>FNV-1a over UTF-16 code units: stable across runs and platforms (string.GetHashCode is randomised).</summary>
    public static ulong StableHash(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s) { h ^= c; h *= 1099511628211UL; }
        return h;
    }
}
