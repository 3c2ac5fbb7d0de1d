using Sim.EventCore.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Sim.GpuBridge;

/// <summary>
/// Exact tensor ports of the numerics-contract primitives (docs/numerics.md, items 5, 6 and 8): the counter-based
/// RNG of <see cref="CounterRng"/>, the escape-noise decision of <see cref="EscapeNoiseTable"/> and the grid
/// rounding of <see cref="FixedPoint.RoundToGrid"/>. Every function gives the same bits as its C# original,
/// on any device (only integer add, multiply, xor, and, shift, gather, comparison and IEEE multiply/round).
/// </summary>
/// <remarks>
/// <para>Random words live in <c>int64</c> tensors holding the two's-complement bit pattern of the
/// <c>ulong</c> (<c>unchecked((long)u)</c>). Integer add and multiply wrap modulo 2^64 in libtorch (CPU and
/// CUDA), exactly like C#'s unchecked <c>ulong</c> arithmetic, and xor/and are bitwise, so signedness only
/// matters for the right shift: torch's <c>&gt;&gt;</c> on int64 is arithmetic (copies the sign bit), so the
/// logical shift <c>z &gt;&gt;&gt; s</c> is emulated as <c>(z &gt;&gt; s) &amp; (2^(64−s) − 1)</c>.</para>
/// <para>Functions return new tensors owned by the caller; intermediate tensors and scalars are disposed
/// before returning, so the functions may be called in loops with or without a dispose scope.</para>
/// </remarks>
public static class TorchNumerics
{
    private static readonly long Gamma = unchecked((long)CounterRng.Gamma);
    private static readonly long M1 = unchecked((long)CounterRng.M1);
    private static readonly long M2 = unchecked((long)CounterRng.M2);

    /// <summary>
    /// The integer Scalar 1, alive for the whole process, to pass as the explicit alpha of <c>add</c>/<c>add_</c>/<c>sub</c>
    /// (a + 1·b, exactly a + b; the same value TorchSharp's one-argument overloads pass). Those overloads create a
    /// temporary Scalar for alpha that nothing references during the native call, so under GC pressure from other threads
    /// its finalizer may free it mid-call (seen as "toDouble" check failures in parallel specs); a static one cannot be.
    /// </summary>
    internal static readonly Scalar One = 1;

    /// <summary>2^-53 (exact), the scale of <see cref="CounterRng.Uniform01"/>.</summary>
    private const double TwoPowMinus53 = 1.0 / (1UL << 53);

    /// <summary>Reinterprets a <c>ulong</c> as the <c>long</c> with the same bits (how words are stored in int64 tensors).</summary>
    public static long ToInt64Bits(ulong value) => unchecked((long)value);

    /// <summary>Reinterprets a <c>long</c> read from an int64 tensor as the <c>ulong</c> with the same bits.</summary>
    public static ulong ToUInt64Bits(long value) => unchecked((ulong)value);

    /// <summary>An int64 tensor holding the bit patterns of <paramref name="values"/> on <paramref name="device"/>.</summary>
    public static Tensor FromUInt64(ReadOnlySpan<ulong> values, Device? device = null)
    {
        var bits = new long[values.Length];
        for (int i = 0; i < bits.Length; i++) bits[i] = unchecked((long)values[i]);
        using Tensor cpu = tensor(bits, dtype: ScalarType.Int64);
        return device is null || device.type == DeviceType.CPU ? cpu.clone() : cpu.to(device);
    }

    /// <summary>The words of an int64 tensor (any device, any shape; row-major order) as <c>ulong</c>s.</summary>
    public static ulong[] ToUInt64(Tensor words)
    {
        RequireInt64(words, nameof(words));
        using Tensor flat = words.detach().cpu().contiguous().reshape(-1);
        long[] bits = flat.data<long>().ToArray();
        var result = new ulong[bits.Length];
        for (int i = 0; i < bits.Length; i++) result[i] = unchecked((ulong)bits[i]);
        return result;
    }

    /// <summary>Logical (unsigned) right shift of int64 bit patterns: <c>(z &gt;&gt; s) &amp; (2^(64−s) − 1)</c>. Returns a new tensor.</summary>
    /// <param name="z">An int64 tensor.</param>
    /// <param name="shift">Shift count, 1 ≤ shift ≤ 63.</param>
    public static Tensor ShiftRightLogical(Tensor z, int shift)
    {
        RequireInt64(z, nameof(z));
        ArgumentOutOfRangeException.ThrowIfLessThan(shift, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shift, 63);
        // TorchSharp 0.107 takes tensor operands here (an implicit long -> Tensor conversion would leak a
        // tensor), so the 0-dim operands are created and disposed explicitly; 0-dim CPU tensors combine with any device.
        using Tensor count = Int64Scalar(shift);
        using Tensor mask = Int64Scalar((1L << (64 - shift)) - 1);
        Tensor r = z.bitwise_right_shift(count);
        return r.bitwise_and_(mask);
    }

    /// <summary>Tensor port of <see cref="CounterRng.Mix"/> (SplitMix64), element-wise on an int64 tensor. Returns a new tensor.</summary>
    public static Tensor Mix(Tensor z)
    {
        RequireInt64(z, nameof(z));
        Tensor r;
        using (Scalar g = Gamma.ToScalar()) r = z.add(g, One);
        MixInPlaceAfterGamma(r);
        return r;
    }

    /// <summary>
    /// Tensor port of <see cref="CounterRng.Word"/>: <c>Mix(key ^ Mix(index))</c> for every element of the int64
    /// <paramref name="index"/> tensor (indices are bit patterns: an index ≥ 2^63 is stored as a negative long).
    /// </summary>
    public static Tensor Word(ulong key, Tensor index)
    {
        Tensor r = Mix(index);
        using (Tensor k = Int64Scalar(unchecked((long)key))) r.bitwise_xor_(k);
        using (Scalar g = Gamma.ToScalar()) r.add_(g, One);
        MixInPlaceAfterGamma(r);
        return r;
    }

    /// <summary>
    /// <see cref="CounterRng.Word"/> with a tensor of keys, broadcast against the indices (e.g. keys [B, 1] per trial
    /// and indices [N] per neuron give words [B, N]).
    /// </summary>
    public static Tensor Word(Tensor key, Tensor index)
    {
        RequireInt64(key, nameof(key));
        using Tensor mixedIndex = Mix(index);
        Tensor r = mixedIndex.bitwise_xor(key);
        using (Scalar g = Gamma.ToScalar()) r.add_(g, One);
        MixInPlaceAfterGamma(r);
        return r;
    }

    /// <summary>Tensor port of <see cref="CounterRng.Uniform01"/>: <c>(word &gt;&gt;&gt; 11) · 2^-53</c> as float64 in [0, 1).</summary>
    public static Tensor Uniform01(Tensor word)
    {
        using Tensor top53 = ShiftRightLogical(word, 11);
        // Values < 2^53 convert to float64 exactly; multiplying by a power of two is exact.
        Tensor u = top53.to_type(ScalarType.Float64);
        using Scalar scale = TwoPowMinus53.ToScalar();
        return u.mul_(scale);
    }

    /// <summary>The table <see cref="EscapeNoiseTable.Logit"/> as a float64 tensor of length 2^16 on <paramref name="device"/>. The caller owns it.</summary>
    public static Tensor CreateLogitTable(Device? device = null)
    {
        using Tensor cpu = tensor(EscapeNoiseTable.Logit, dtype: ScalarType.Float64);
        return device is null || device.type == DeviceType.CPU ? cpu.clone() : cpu.to(device);
    }

    /// <summary>Tensor port of <see cref="EscapeNoiseTable.Index"/>: the top 16 bits of each word, as int64 in [0, 2^16).</summary>
    public static Tensor EscapeNoiseIndex(Tensor word) => ShiftRightLogical(word, 64 - EscapeNoiseTable.Bits);

    /// <summary>
    /// The escape-noise decision: spike iff <c>x &gt; L[top 16 bits of word]</c>, with <c>x = (v − θ)/δv</c> already
    /// computed (float64) and <paramref name="logitTable"/> from <see cref="CreateLogitTable"/> on the same device.
    /// Returns a bool tensor of the broadcast shape of <paramref name="x"/> and <paramref name="word"/>.
    /// </summary>
    public static Tensor EscapeNoiseSpikes(Tensor x, Tensor word, Tensor logitTable)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(logitTable);
        if (x.dtype != ScalarType.Float64) throw new ArgumentException($"x must be float64, not {x.dtype}.", nameof(x));
        if (logitTable.dtype != ScalarType.Float64 || logitTable.numel() != EscapeNoiseTable.Logit.Length)
            throw new ArgumentException("logitTable must be the float64 table from CreateLogitTable.", nameof(logitTable));
        using Tensor k = EscapeNoiseIndex(word);
        using Tensor threshold = logitTable.take(k);   // gather: same shape as k
        return x.gt(threshold);
    }

    /// <summary>
    /// Tensor port of <see cref="FixedPoint.RoundToGrid"/>: <c>round_half_even(x · 2^G) · 2^-G</c> on a float64 tensor
    /// (torch.round rounds half to even, like <c>MidpointRounding.ToEven</c>). Returns a new tensor.
    /// </summary>
    public static Tensor RoundToGrid(Tensor x, double twoPowG, double twoPowMinusG)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dtype != ScalarType.Float64) throw new ArgumentException($"x must be float64, not {x.dtype}.", nameof(x));
        using Scalar up = twoPowG.ToScalar();
        using Scalar down = twoPowMinusG.ToScalar();
        Tensor r = x.mul(up);
        r.round_(0);   // decimals = 0: plain round, half to even
        return r.mul_(down);
    }

    /// <summary><see cref="RoundToGrid(Tensor, double, double)"/> for the grid 2^-<paramref name="gridBits"/>.</summary>
    public static Tensor RoundToGrid(Tensor x, int gridBits)
        => RoundToGrid(x, Math.ScaleB(1.0, gridBits), Math.ScaleB(1.0, -gridBits));

    // The SplitMix64 finaliser on r (which already holds z + γ), in place:
    // z = (z ^ (z >>> 30)) * M1; z = (z ^ (z >>> 27)) * M2; z ^= z >>> 31.
    private static void MixInPlaceAfterGamma(Tensor r)
    {
        using (Tensor s = ShiftRightLogical(r, 30)) r.bitwise_xor_(s);
        using (Scalar m = M1.ToScalar()) r.mul_(m);
        using (Tensor s = ShiftRightLogical(r, 27)) r.bitwise_xor_(s);
        using (Scalar m = M2.ToScalar()) r.mul_(m);
        using (Tensor s = ShiftRightLogical(r, 31)) r.bitwise_xor_(s);
    }

    private static Tensor Int64Scalar(long value) => tensor(value, dtype: ScalarType.Int64);

    private static void RequireInt64(Tensor t, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        if (t.dtype != ScalarType.Int64) throw new ArgumentException($"{name} must be an int64 tensor, not {t.dtype}.", name);
    }
}
