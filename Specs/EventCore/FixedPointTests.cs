using System.Numerics;
using FsCheck.Xunit;
using Sim.EventCore.Numerics;
using Xunit;

namespace Sim.Specs.EventCore;

/// <summary>The vectorised grid kernels of <see cref="FixedPoint"/> against their one-line scalar definitions.</summary>
public class FixedPointTests
{
    private static readonly double[] Scales = [1.0, Math.ScaleB(1.0, 20), Math.ScaleB(1.0, -3), Math.ScaleB(1.0, 40)];

    /// <summary>Values that stress rounding: exact halves (ties to even), ±0, tiny, near the 2^51 limit.</summary>
    private static double[] Values(int seed, int length, double scale)
    {
        var rng = new Random(seed);
        var x = new double[length];
        for (int k = 0; k < length; k++)
        {
            double y = rng.Next(6) switch
            {
                0 => (rng.Next(-1000, 1000) + 0.5),                                       // a tie
                1 => rng.Next(2) == 0 ? 0.0 : -0.0,
                2 => (rng.NextDouble() - 0.5) * 1e-300,
                3 => (rng.NextDouble() * 2 - 1) * (FixedPoint.MaxQuantizedMagnitude - 1),  // large, still in range
                _ => (rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-3, 9)),
            };
            x[k] = y / scale;
        }
        return x;
    }

    [Property(MaxTest = 200)]
    public void QuantizeMatchesRoundHalfEvenOnEveryVectorWidthPath(ushort seed, byte length)
    {
        foreach (double scale in Scales)
        {
            var x = Values(seed, length, scale);
            var q2 = new long[length];
            var v = new double[length];
            Assert.Equal(-1, FixedPoint.QuantizeRow(x, scale, q2, v, out double sum));
            double naiveSum = 0;
            for (int k = 0; k < length; k++)
            {
                double r = Math.Round(x[k] * scale, MidpointRounding.ToEven);
                Assert.Equal((long)r, q2[k]);
                Assert.Equal(r, v[k]);
                naiveSum += Math.Abs(r);
            }
            if (naiveSum < 1e15) Assert.Equal(naiveSum, sum);   // integer sums below 2^53: exact in any order
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(40)]
    public void QuantizeReportsTheFirstValueOutOfRange(int at)
    {
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity, -FixedPoint.MaxQuantizedMagnitude, FixedPoint.MaxQuantizedMagnitude * 4, 1e300 })
        {
            var x = new double[41];
            for (int k = 0; k < x.Length; k++) x[k] = k - 20.25;
            x[at] = bad;
            if (at + 1 < x.Length) x[^1] = double.NaN;   // a later bad value must not be reported first
            int expected = at;
            Assert.Equal(expected, FixedPoint.QuantizeRow(x, 1.0, new long[x.Length], new double[x.Length], out _));
        }
    }

    [Property(MaxTest = 200)]
    public void SumAbsSaturatingIsTheExactSumCappedAt2To54(ushort seed, ushort length)
    {
        var rng = new Random(seed);
        int len = length % 3000;   // beyond 512 vectors, so the periodic clamp runs
        var q = new long[len];
        int mode = rng.Next(3);
        for (int k = 0; k < len; k++)
            q[k] = mode switch
            {
                0 => rng.NextInt64(-(1L << 40), 1L << 40),
                1 => rng.Next(20) == 0 ? (rng.Next(2) == 0 ? long.MinValue : long.MaxValue) : rng.NextInt64(),
                _ => rng.NextInt64(-(1L << 52), 1L << 52),
            };
        BigInteger exact = 0;
        foreach (long x in q) exact += BigInteger.Abs(x);
        BigInteger cap = BigInteger.One << 54;
        ulong got = FixedPoint.SumAbsSaturating(q);
        Assert.Equal((ulong)BigInteger.Min(exact, cap), got);
    }

    /// <summary>
    /// The kernels rely on x·y + z being rounded twice (numerics contract: never a fused multiply-add), in
    /// <c>TensorPrimitives.MultiplyAdd</c> (both overloads, vector and scalar tails) and in <c>Vector&lt;double&gt;</c>
    /// expressions, because the dense engine and the references compute it that way. Inputs where a fused operation
    /// gives a different result: x = y = 1 + 2^-30, z = −(1 + 2^-29): unfused 0, fused 2^-60.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(37)]
    public void MultiplyAddIsNeverFused(int length)
    {
        double a = 1 + Math.ScaleB(1.0, -30), c = -(1 + Math.ScaleB(1.0, -29));
        Assert.Equal(Math.ScaleB(1.0, -60), Math.FusedMultiplyAdd(a, a, c));   // the inputs do tell the two apart
        var x = Enumerable.Repeat(a, length).ToArray();
        var z = Enumerable.Repeat(c, length).ToArray();
        var d = new double[length];
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(x, a, z, d);
        Assert.All(d, v => Assert.Equal(0.0, v));
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(x, x, z, d);
        Assert.All(d, v => Assert.Equal(0.0, v));
        var vx = new Vector<double>(a);
        var r = vx * vx + new Vector<double>(c);
        for (int k = 0; k < Vector<double>.Count; k++) Assert.Equal(0.0, r[k]);
    }
}
