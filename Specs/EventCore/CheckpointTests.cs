using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;
using Sim.Specs.Reference;
using Xunit;

namespace Sim.Specs.EventCore;

/// <summary>Save at tick a, restore (in a fresh engine, through a file), run to T: equals the uninterrupted run.</summary>
public class CheckpointTests
{
    [Property(Arbitrary = [typeof(SmallNetworks)], MaxTest = 80)]
    public Property ResumedRunEqualsUninterruptedRun(NetCase c, PositiveInt cut)
    {
        var net = NetworkCompiler.Compile(c.ToSpec());
        long a = cut.Get % (c.Ticks + 1);
        var whole = ReferenceModelTests.RunEngine(net, c.Ticks);

        string file = Path.Combine(Path.GetTempPath(), $"sim-ckpt-{Guid.NewGuid():N}.ckpt");
        var first = new SpikeRecorder();
        using (var e1 = new EventEngine(net))
        {
            e1.AddSpikeSink(first);
            e1.Run(a);
            e1.SaveCheckpoint().Save(file);
            e1.Run(3);   // running on after saving must not disturb the checkpoint
        }
        using var e2 = new EventEngine(net);
        e2.Run(Math.Min(5, c.Ticks));   // arbitrary prior state, overwritten by the restore
        e2.Restore(Checkpoint.Load(file));
        var second = new SpikeRecorder();
        e2.AddSpikeSink(second);
        File.Delete(file);
        e2.Run(c.Ticks - a);
        bool ok = e2.Tick == c.Ticks;
        for (int b = 0; b < e2.BatchSize; b++)
        {
            var spikes = first.Of(e2.FirstInstance + b).Where(s => s.Tick < a).Concat(second.Of(e2.FirstInstance + b).Where(s => s.Tick >= a)).ToList();
            ok &= spikes.SequenceEqual(whole.Spikes[b]);
            foreach (var (key, values) in whole.State[b])
            {
                var parts = key.Split('.');
                ok &= ReferenceModelTests.SameBits(values, e2.GetVariable(b, parts[0], parts[1]));
            }
        }
        return ok.Label($"{c}, checkpoint at {a}");
    }

    [Fact]
    public void CheckpointOfAnotherNetworkIsRefused()
    {
        var a = NetworkCompiler.Compile(Sim.EventCore.Description.BenchmarkNetworks.Cuba(10, seed: 1, scale: 0.1));
        var b = NetworkCompiler.Compile(Sim.EventCore.Description.BenchmarkNetworks.Cuba(10, seed: 2, scale: 0.1));
        using var ea = new EventEngine(a);
        using var eb = new EventEngine(b);
        ea.Run(10);
        Assert.Throws<InvalidDataException>(() => eb.Restore(ea.SaveCheckpoint()));
    }

    [Fact]
    public void TruncatedCheckpointFileIsReportedAsSuch()
    {
        var net = NetworkCompiler.Compile(Sim.EventCore.Description.BenchmarkNetworks.Cuba(10, seed: 1, scale: 0.1));
        using var e = new EventEngine(net);
        e.Run(20);
        string file = Path.Combine(Path.GetTempPath(), $"sim-ckpt-{Guid.NewGuid():N}.ckpt");
        e.SaveCheckpoint().Save(file);
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..(bytes.Length / 2)]);
        var ex = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(file));
        Assert.Contains("truncated", ex.Message);
        File.Delete(file);
    }

    private static readonly Lazy<(CompiledNetwork Net, byte[] Bytes)> Saved = new(() =>
    {
        var net = NetworkCompiler.Compile(Sim.EventCore.Description.BenchmarkNetworks.Cuba(100, seed: 1, scale: 0.1));
        using var e = new EventEngine(net);
        e.Run(437);   // spiking by then: pending deliveries in the file
        return (net, e.SaveCheckpoint().Serialize());
    });

    /// <summary>A CUBA checkpoint at tick 437, made once; callers change copies of its bytes only.</summary>
    private static (CompiledNetwork Net, byte[] Bytes) SavedCuba() => (Saved.Value.Net, (byte[])Saved.Value.Bytes.Clone());

    /// <summary>Any 64 bytes overwritten anywhere (the test of a damaged file) are refused by the checksum.</summary>
    [Property(MaxTest = 60)]
    public Property OverwrittenBytesAreRefusedByTheChecksum(PositiveInt at, byte fill)
    {
        var (_, bytes) = SavedCuba();
        int start = at.Get % (bytes.Length - 64);
        var damaged = (byte[])bytes.Clone();
        for (int i = start; i < start + 64; i++) damaged[i] = (byte)(damaged[i] ^ (fill | 1));
        var ex = Record.Exception(() => Checkpoint.Parse(damaged, "f.ckpt"));
        return (ex is InvalidDataException && (ex.Message.Contains("damaged") || ex.Message.Contains("not a Sim checkpoint"))).Label($"at {start}: {ex?.GetType().Name}: {ex?.Message}");
    }

    /// <summary>
    /// A body byte changed and the checksum recomputed (an edited or forged file): reading and restoring either works or
    /// fails with <see cref="InvalidDataException"/>, never with another exception, and never with a non-finite state.
    /// </summary>
    [Property(MaxTest = 200)]
    public Property EditedFilesWithAValidChecksumAreReadOrRefusedCleanly(PositiveInt at, byte value)
    {
        var (net, bytes) = SavedCuba();
        var edited = (byte[])bytes.Clone();
        int i = at.Get % (edited.Length - 8);
        edited[i] = value;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(edited.AsSpan(edited.Length - 8),
            System.IO.Hashing.XxHash3.HashToUInt64(edited.AsSpan(0, edited.Length - 8)));
        var ex = Record.Exception(() =>
        {
            var c = Checkpoint.Parse(edited, "f.ckpt");
            using var e = new EventEngine(net);
            e.Restore(c);
            e.Run(5);
        });
        return (ex is null or InvalidDataException).Label($"byte {i} = {value}: {ex}");
    }

    [Fact]
    public void NonFiniteOrOutOfRangeValuesAreRefusedOnRestore()
    {
        var (net, bytes) = SavedCuba();
        using var e = new EventEngine(net);
        var nan = Checkpoint.Parse(bytes);
        nan.Instances[0].State.First().Value[3] = double.NaN;
        Assert.Contains("is NaN", Assert.Throws<InvalidDataException>(() => e.Restore(nan)).Message);
        var future = Checkpoint.Parse(bytes);
        future.Instances[0].LastSpike[5] = future.Tick + 2;
        Assert.Contains("last spiked at tick", Assert.Throws<InvalidDataException>(() => e.Restore(future)).Message);
        var source = Checkpoint.Parse(bytes);
        Assert.NotEmpty(source.Instances[0].HistorySources);
        source.Instances[0].HistorySources[0] = net.SourceCount;
        Assert.Contains("sources", Assert.Throws<InvalidDataException>(() => e.Restore(source)).Message);
        Assert.Throws<InvalidDataException>(() => Checkpoint.Parse([.. bytes, 0], "f.ckpt"));   // a trailing byte breaks the checksum
    }
}
