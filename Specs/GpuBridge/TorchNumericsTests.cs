using FsCheck.Xunit;
using Sim.EventCore.Numerics;
using Sim.GpuBridge;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Sim.Specs.GpuBridge;

/// <summary>The torch ports of the numerics primitives give the C# bits exactly; libtorch runs as configured.</summary>
public sealed class TorchNumericsTests
{
    private readonly ITestOutputHelper output;

    public TorchNumericsTests(ITestOutputHelper output)
    {
        this.output = output;
        TorchRuntime.Initialize();
    }

    // ---- inputs -------------------------------------------------------------------------------------------

    /// <summary>Hand-picked corner values: around 0, 2^32, 2^63 (the int64 sign boundary) and 2^64.</summary>
    private static IEnumerable<ulong> EdgeValues()
    {
        foreach (ulong c in new[] { 0UL, 1UL << 32, 1UL << 63, ulong.MaxValue - 999 })
            for (ulong d = 0; d < 1000; d++) yield return unchecked(c + d);
        foreach (ulong c in new[] { 1UL << 63, 1UL << 32 })
            for (ulong d = 1; d <= 1000; d++) yield return unchecked(c - d);
        yield return CounterRng.Gamma;
        yield return unchecked(0UL - CounterRng.Gamma);
        yield return CounterRng.M1;
        yield return CounterRng.M2;
    }

    private static ulong[] RandomValues(int n, int seed)
    {
        var rng = new Random(seed);
        var v = new ulong[n];
        Span<byte> b = stackalloc byte[8];
        for (int i = 0; i < n; i++) { rng.NextBytes(b); v[i] = BitConverter.ToUInt64(b); }
        return v;
    }

    private static ulong[] TestValues() => [.. EdgeValues(), .. RandomValues(200_000, 12345)];

    // ---- CounterRng -----------------------------------------------------------------------------------------

    [Fact]
    public void Mix_equals_CounterRng_Mix_bit_for_bit()
    {
        ulong[] z = TestValues();
        using var scope = NewDisposeScope();
        ulong[] got = TorchNumerics.ToUInt64(TorchNumerics.Mix(TorchNumerics.FromUInt64(z)));
        for (int i = 0; i < z.Length; i++)
            if (got[i] != CounterRng.Mix(z[i])) Assert.Fail($"Mix(0x{z[i]:X16}): torch 0x{got[i]:X16}, C# 0x{CounterRng.Mix(z[i]):X16}");
    }

    [Fact]
    public void ShiftRightLogical_is_the_unsigned_shift()
    {
        ulong[] z = TestValues();
        using var scope = NewDisposeScope();
        Tensor t = TorchNumerics.FromUInt64(z);
        foreach (int s in new[] { 1, 11, 27, 30, 31, 48, 63 })
        {
            ulong[] got = TorchNumerics.ToUInt64(TorchNumerics.ShiftRightLogical(t, s));
            for (int i = 0; i < z.Length; i++) Assert.Equal(z[i] >> s, got[i]);
        }
    }

    [Fact]
    public void Word_equals_CounterRng_Word_for_keys_with_and_without_the_top_bit_and_indices_near_2_pow_63()
    {
        ulong[] index = TestValues();
        ulong[] keys = [0, 1, 1UL << 63, ulong.MaxValue, CounterRng.Key(1, RngStreams.EscapeNoise, 0, 0),
                        CounterRng.Key(42, 7, 3, 1_000_000), .. RandomValues(8, 99).Select(k => k | (1UL << 63))];
        using var scope = NewDisposeScope();
        Tensor idx = TorchNumerics.FromUInt64(index);
        foreach (ulong key in keys)
        {
            using var inner = NewDisposeScope();
            ulong[] got = TorchNumerics.ToUInt64(TorchNumerics.Word(key, idx));
            for (int i = 0; i < index.Length; i++)
                if (got[i] != CounterRng.Word(key, index[i]))
                    Assert.Fail($"Word(0x{key:X16}, 0x{index[i]:X16}): torch 0x{got[i]:X16}, C# 0x{CounterRng.Word(key, index[i]):X16}");
        }
    }

    [Property(MaxTest = 200)]
    public void Word_property_any_key_and_indices(ulong key, ulong[] indices)
    {
        // Complements move FsCheck's (mostly small) values next to 2^64 and set the top bit.
        ulong[] all = [.. indices, .. indices.Select(i => ~i), .. indices.Select(i => i ^ (1UL << 63))];
        using var scope = NewDisposeScope();
        Tensor idx = TorchNumerics.FromUInt64(all);
        foreach (ulong k in new[] { key, ~key })
        {
            ulong[] got = TorchNumerics.ToUInt64(TorchNumerics.Word(k, idx));
            for (int i = 0; i < all.Length; i++) Assert.Equal(CounterRng.Word(k, all[i]), got[i]);
        }
    }

    [Fact]
    public void Word_with_a_key_per_trial_broadcasts_against_indices()
    {
        ulong[] keys = Enumerable.Range(0, 5).Select(b => CounterRng.Key(2024, RngStreams.EscapeNoise, (ulong)b, 17)).ToArray();
        ulong[] index = [0, 1, 2, 1000, (1UL << 63) - 1, 1UL << 63, ulong.MaxValue];
        using var scope = NewDisposeScope();
        Tensor k = TorchNumerics.FromUInt64(keys).reshape(keys.Length, 1);
        Tensor words = TorchNumerics.Word(k, TorchNumerics.FromUInt64(index));
        Assert.Equal(new long[] { keys.Length, index.Length }, words.shape);
        ulong[] got = TorchNumerics.ToUInt64(words);
        for (int b = 0; b < keys.Length; b++)
            for (int i = 0; i < index.Length; i++)
                Assert.Equal(CounterRng.Word(keys[b], index[i]), got[b * index.Length + i]);
    }

    [Fact]
    public void Uniform01_equals_CounterRng_Uniform01_bit_for_bit()
    {
        ulong[] w = TestValues();
        using var scope = NewDisposeScope();
        Tensor u = TorchNumerics.Uniform01(TorchNumerics.FromUInt64(w));
        Assert.Equal(ScalarType.Float64, u.dtype);
        double[] got = u.data<double>().ToArray();
        for (int i = 0; i < w.Length; i++)
            Assert.Equal(BitConverter.DoubleToInt64Bits(CounterRng.Uniform01(w[i])), BitConverter.DoubleToInt64Bits(got[i]));
        Assert.True(got.Min() >= 0.0 && got.Max() < 1.0);
    }

    // ---- escape noise -----------------------------------------------------------------------------------------

    [Fact]
    public void Escape_noise_decisions_equal_the_CSharp_loop()
    {
        const int n = 100_000;
        ulong key = CounterRng.Key(7, RngStreams.EscapeNoise, 0, 123);
        var words = new ulong[n];
        var x = new double[n];
        var rng = new Random(5);
        for (int i = 0; i < n; i++)
        {
            words[i] = CounterRng.Word(key, (ulong)i);
            int k = EscapeNoiseTable.Index(words[i]);
            x[i] = (i % 4) switch
            {
                0 => EscapeNoiseTable.Logit[k],                                        // tie: no spike
                1 => Math.BitIncrement(EscapeNoiseTable.Logit[k]),                     // just above: spike
                2 => Math.BitDecrement(EscapeNoiseTable.Logit[k]),                     // just below: no spike
                _ => (rng.NextDouble() - 0.5) * 30.0,
            };
        }
        using var scope = NewDisposeScope();
        Tensor table = TorchNumerics.CreateLogitTable();
        Tensor w = TorchNumerics.FromUInt64(words);
        long[] idx = TorchNumerics.EscapeNoiseIndex(w).data<long>().ToArray();
        bool[] got = TorchNumerics.EscapeNoiseSpikes(tensor(x, dtype: ScalarType.Float64), w, table).data<bool>().ToArray();
        int spikes = 0;
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(EscapeNoiseTable.Index(words[i]), idx[i]);
            bool expected = x[i] > EscapeNoiseTable.Logit[EscapeNoiseTable.Index(words[i])];
            Assert.Equal(expected, got[i]);
            if (got[i]) spikes++;
        }
        Assert.InRange(spikes, n / 4, 3 * n / 4);   // both outcomes well represented
    }

    [Fact]
    public void Logit_table_tensor_holds_the_same_doubles()
    {
        using var scope = NewDisposeScope();
        double[] t = TorchNumerics.CreateLogitTable().data<double>().ToArray();
        Assert.Equal(EscapeNoiseTable.Logit.Length, t.Length);
        for (int k = 0; k < t.Length; k++)
            Assert.Equal(BitConverter.DoubleToInt64Bits(EscapeNoiseTable.Logit[k]), BitConverter.DoubleToInt64Bits(t[k]));
    }

    // ---- grid rounding --------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(24)]
    [InlineData(40)]
    [InlineData(-3)]
    public void RoundToGrid_equals_FixedPoint_RoundToGrid(int g)
    {
        double up = Math.ScaleB(1.0, g), down = Math.ScaleB(1.0, -g);
        var rng = new Random(g + 100);
        var x = new List<double>();
        for (int i = 0; i < 50_000; i++) x.Add((rng.NextDouble() - 0.3) * Math.ScaleB(1.0, rng.Next(-30, 10)));
        for (int k = -20; k <= 20; k++) x.Add((k + 0.5) * down);   // exact midpoints: half to even
        x.AddRange([0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -2.5, double.Epsilon, 1e300, Math.BitDecrement(0.5 * down), Math.BitIncrement(0.5 * down)]);
        double[] xs = [.. x];
        using var scope = NewDisposeScope();
        double[] got = TorchNumerics.RoundToGrid(tensor(xs, dtype: ScalarType.Float64), g).data<double>().ToArray();
        for (int i = 0; i < xs.Length; i++)
            Assert.Equal(BitConverter.DoubleToInt64Bits(FixedPoint.RoundToGrid(xs[i], up, down)), BitConverter.DoubleToInt64Bits(got[i]));
    }

    // ---- runtime -----------------------------------------------------------------------------------------------------

    [Fact]
    public void Deterministic_algorithms_are_on_after_initialisation_and_the_switch_reaches_libtorch()
    {
        Assert.True(TorchRuntime.AreDeterministicAlgorithmsEnabled());
        try
        {
            TorchRuntime.SetDeterministicAlgorithms(false);
            Assert.False(TorchRuntime.AreDeterministicAlgorithmsEnabled());
        }
        finally
        {
            TorchRuntime.SetDeterministicAlgorithms(true);
        }
        Assert.True(TorchRuntime.AreDeterministicAlgorithmsEnabled());
        output.WriteLine($"first torch initialisation (load + first op) took {TorchRuntime.InitializationTime.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public void Cpu_device_is_always_available()
    {
        Assert.Equal(DeviceType.CPU, TorchRuntime.Device("cpu").type);
        Assert.Equal(DeviceType.CPU, TorchRuntime.Device(" CPU ").type);
    }

    [Fact]
    public void Requesting_cuda_without_cuda_names_the_missing_package()
    {
        if (TorchRuntime.IsCudaAvailable)
        {
            Assert.Equal(DeviceType.CUDA, TorchRuntime.Device("cuda").type);
            return;
        }
        var e = Assert.Throws<NotSupportedException>(() => TorchRuntime.Device("cuda"));
        Assert.Contains("TorchSharp-cuda-linux", e.Message, StringComparison.Ordinal);
        Assert.Contains("libtorch-cuda", e.Message, StringComparison.Ordinal);
        Assert.Contains("CPU libtorch only", e.Message, StringComparison.Ordinal);
        Assert.Throws<NotSupportedException>(() => TorchRuntime.Device("cuda:0"));
    }

    [Fact]
    public void Unknown_device_is_an_argument_error()
        => Assert.Throws<ArgumentException>(() => TorchRuntime.Device("tpu"));

    [GpuFact]
    public void Word_and_escape_noise_on_cuda_equal_the_CSharp_functions()
    {
        Device cuda = TorchRuntime.Device("cuda");
        ulong[] index = TestValues();
        ulong key = CounterRng.Key(3, RngStreams.EscapeNoise, 1, 99) | (1UL << 63);
        using var scope = NewDisposeScope();
        Tensor w = TorchNumerics.Word(key, TorchNumerics.FromUInt64(index, cuda));
        Assert.Equal(DeviceType.CUDA, w.device_type);
        ulong[] got = TorchNumerics.ToUInt64(w);
        for (int i = 0; i < index.Length; i++) Assert.Equal(CounterRng.Word(key, index[i]), got[i]);
        double[] u = TorchNumerics.Uniform01(w).cpu().data<double>().ToArray();
        for (int i = 0; i < index.Length; i++) Assert.Equal(CounterRng.Uniform01(got[i]), u[i]);
        var x = new double[index.Length];
        for (int i = 0; i < x.Length; i++) x[i] = (i % 2000 - 1000) / 80.0;
        bool[] spikes = TorchNumerics.EscapeNoiseSpikes(tensor(x, dtype: ScalarType.Float64, device: cuda), w, TorchNumerics.CreateLogitTable(cuda)).cpu().data<bool>().ToArray();
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i] > EscapeNoiseTable.Logit[EscapeNoiseTable.Index(got[i])], spikes[i]);
    }

    // ---- the two TorchSharp facts the numerics contract relies on (docs/building.md) ------------------------------------

    [Fact]
    public void Float64_matmul_of_integer_valued_matrices_equals_a_naive_loop_exactly()
    {
        const int m = 48, k = 512, n = 40;
        var rng = new Random(77);
        var a = new double[m * k];   // spikes 0/1 and small integers
        var b = new double[k * n];   // fixed-point weights q · 2^-F, |q| ≤ 2^30
        for (int i = 0; i < a.Length; i++) a[i] = i % 3 == 0 ? rng.Next(-1024, 1025) : rng.Next(0, 2);
        const int f = 24;
        for (int i = 0; i < b.Length; i++) b[i] = Math.ScaleB(rng.NextInt64(-(1L << 30), (1L << 30) + 1), -f);
        using var scope = NewDisposeScope();
        double[] got = matmul(tensor(a, m, k), tensor(b, k, n)).data<double>().ToArray();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int l = 0; l < k; l++) s += a[i * k + l] * b[l * n + j];
                Assert.Equal(BitConverter.DoubleToInt64Bits(s), BitConverter.DoubleToInt64Bits(got[i * n + j]));
            }
    }

    [Fact]
    public void Multiply_then_add_as_two_torch_ops_equals_CSharp_v_times_a_plus_b()
    {
        const int n = 200_000;
        var rng = new Random(31);
        var v = new double[n]; var a = new double[n]; var b = new double[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = (rng.NextDouble() - 0.5) * 100;
            a[i] = rng.NextDouble();
            b[i] = (rng.NextDouble() - 0.5) * Math.ScaleB(1.0, rng.Next(-20, 20));
        }
        double decay = Math.Exp(-0.1 / 20.0), rest = -65.0 * (1 - decay);   // the propagator form, scalars from C#
        using var scope = NewDisposeScope();
        Tensor tv = tensor(v), ta = tensor(a), tb = tensor(b);
        double[] elementwise = tv.mul(ta).add_(tb).data<double>().ToArray();
        double[] scalars = tv.mul(decay).add_(rest).data<double>().ToArray();
        int fmaDiffers = 0;
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(v[i] * a[i] + b[i]), BitConverter.DoubleToInt64Bits(elementwise[i]));
            Assert.Equal(BitConverter.DoubleToInt64Bits(v[i] * decay + rest), BitConverter.DoubleToInt64Bits(scalars[i]));
            if (Math.FusedMultiplyAdd(v[i], a[i], b[i]) != v[i] * a[i] + b[i]) fmaDiffers++;
        }
        Assert.True(fmaDiffers > 0, "test data must be able to tell fused from unfused");
    }

    [Fact]
    public void Loops_under_a_dispose_scope_leave_no_live_tensors()
    {
        using var outer = NewDisposeScope();
        Tensor idx = TorchNumerics.FromUInt64(RandomValues(1000, 3));
        long before = outer.DisposablesCount;
        for (int t = 0; t < 50; t++)
        {
            using var step = NewDisposeScope();
            using Tensor w = TorchNumerics.Word((ulong)t, idx);
            _ = TorchNumerics.Uniform01(w);
        }
        Assert.Equal(before, outer.DisposablesCount);
    }
}
