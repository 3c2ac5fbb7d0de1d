using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Sim.EventCore.Compilation;

namespace Sim.Probes.Spikes;

/// <summary>
/// The spike stream file (<c>*.spikes</c>): an append-only, little-endian binary file written chunk by chunk while the
/// run goes on, one file for all instances of a batch (each record names its instance).
/// <code>
/// header : "SIMSPIKE" (8 ASCII bytes), int32 version (= 1), float64 dt_ms, int32 first_instance, int32 batch,
///          int32 population_count, then per population: int32 offset, int32 size, int32 recorded (0/1), int32 name_bytes, UTF-8 name
/// record : uint32 magic 0x4B4E4843 ("CHNK"), int32 instance, int32 count,
///          int64 ticks[count], int32 global_neuron_ids[count], uint32 crc32 (of instance, count, ticks and ids)
/// </code>
/// Within one instance, records follow each other in time and their entries are in ascending (tick, neuron id);
/// records of different instances interleave. Spike time = tick · dt_ms; the population-local id is
/// global id − offset. A record is flushed to the operating system as soon as it is written, so a process that
/// dies leaves a readable file; a torn last record (short, or with a wrong CRC) is where a reader stops.
/// </summary>
public static class SpikeStreamFormat
{
    /// <summary>File signature.</summary>
    public static ReadOnlySpan<byte> Signature => "SIMSPIKE"u8;
    /// <summary>Format version written by this code.</summary>
    public const int Version = 1;
    /// <summary>Marker that starts every record.</summary>
    public const uint RecordMagic = 0x4B4E4843;
}

/// <summary>One population as described in a spike stream header.</summary>
/// <param name="Name">Population name.</param>
/// <param name="Offset">First global neuron id.</param>
/// <param name="Size">Number of neurons.</param>
/// <param name="Recorded">Whether the monitor recorded its spikes.</param>
public sealed record StreamPopulation(string Name, int Offset, int Size, bool Recorded);

/// <summary>The header of a spike stream file.</summary>
/// <param name="DtMs">Time step (ms): spike time = tick · DtMs.</param>
/// <param name="FirstInstance">Instance index of batch element 0.</param>
/// <param name="BatchSize">Number of instances.</param>
/// <param name="Populations">All populations of the network (recorded or not), in global-id order.</param>
public sealed record SpikeStreamHeader(double DtMs, int FirstInstance, int BatchSize, IReadOnlyList<StreamPopulation> Populations);

/// <summary>Writes the spike stream (one writer thread; see <see cref="SpikeStreamFormat"/>).</summary>
internal sealed class SpikeStreamWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly byte[] _head = new byte[12];
    private readonly byte[] _tail = new byte[4];
    private readonly System.IO.Hashing.Crc32 _crc = new();   // IEEE 802.3 (zlib, PNG): the stream format's checksum

    public SpikeStreamWriter(string path, CompiledNetwork network, IReadOnlyList<CompiledPopulation> recorded, int firstInstance, int batchSize)
    {
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(SpikeStreamFormat.Signature);
            w.Write(SpikeStreamFormat.Version);
            w.Write(network.DtMs);
            w.Write(firstInstance);
            w.Write(batchSize);
            w.Write(network.Populations.Length);
            foreach (var p in network.Populations)
            {
                w.Write(p.Offset);
                w.Write(p.Size);
                w.Write(recorded.Contains(p) ? 1 : 0);
                byte[] name = Encoding.UTF8.GetBytes(p.Name);
                w.Write(name.Length);
                w.Write(name);
            }
        }
        _stream.Write(ms.GetBuffer(), 0, (int)ms.Length);
        _stream.Flush();
    }

    /// <summary>Appends one record and flushes it to the operating system.</summary>
    public void Write(SpikeChunk chunk)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the spike stream is written on little-endian machines only");
        BinaryPrimitives.WriteUInt32LittleEndian(_head, SpikeStreamFormat.RecordMagic);
        BinaryPrimitives.WriteInt32LittleEndian(_head.AsSpan(4), chunk.Instance);
        BinaryPrimitives.WriteInt32LittleEndian(_head.AsSpan(8), chunk.Count);
        var ticks = MemoryMarshal.AsBytes(chunk.Ticks.AsSpan(0, chunk.Count));
        var neurons = MemoryMarshal.AsBytes(chunk.Neurons.AsSpan(0, chunk.Count));
        _crc.Reset();
        _crc.Append(_head.AsSpan(4));
        _crc.Append(ticks);
        _crc.Append(neurons);
        BinaryPrimitives.WriteUInt32LittleEndian(_tail, _crc.GetCurrentHashAsUInt32());
        _stream.Write(_head);
        _stream.Write(ticks);
        _stream.Write(neurons);
        _stream.Write(_tail);
        _stream.Flush();
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>One record read back from a spike stream: spikes of one instance, ascending (tick, neuron id).</summary>
/// <param name="Instance">Instance index.</param>
/// <param name="Ticks">Tick of each spike.</param>
/// <param name="Neurons">Global neuron id of each spike.</param>
public sealed record SpikeStreamRecord(int Instance, long[] Ticks, int[] Neurons);

/// <summary>Reads a spike stream file written by <see cref="SpikeMonitor"/> (also one still being written, or torn).</summary>
public sealed class SpikeStreamReader : IDisposable
{
    private readonly Stream _stream;
    private readonly long _dataStart;

    /// <summary>Opens the file and reads its header.</summary>
    /// <exception cref="InvalidDataException">The file is not a spike stream of a known version, or its header is damaged.</exception>
    public SpikeStreamReader(string path)
        : this(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16), path) { }

    /// <summary>Reads the header of a spike stream from a seekable stream (owned and disposed by the reader).</summary>
    /// <exception cref="InvalidDataException">Not a spike stream of a known version, or its header is damaged.</exception>
    public SpikeStreamReader(Stream stream, string path)
    {
        _stream = stream;
        try
        {
            using var r = new BinaryReader(_stream, Encoding.UTF8, leaveOpen: true);
            var sig = r.ReadBytes(8);
            if (!sig.AsSpan().SequenceEqual(SpikeStreamFormat.Signature)) throw new InvalidDataException($"{path}: not a spike stream file (bad signature)");
            int version = r.ReadInt32();
            if (version != SpikeStreamFormat.Version) throw new InvalidDataException($"{path}: spike stream version {version}, expected {SpikeStreamFormat.Version}");
            double dt = r.ReadDouble();
            int first = r.ReadInt32(), batch = r.ReadInt32(), count = r.ReadInt32();
            long left = _stream.Length - _stream.Position;
            if (!double.IsFinite(dt) || dt <= 0 || first < 0 || batch < 1 || count < 0 || (long)count * 16 > left)
                throw new InvalidDataException($"{path}: damaged spike stream header (dt {dt}, instances {first}+{batch}, {count} populations)");
            var pops = new StreamPopulation[count];
            for (int p = 0; p < count; p++)
            {
                int offset = r.ReadInt32(), size = r.ReadInt32(), recorded = r.ReadInt32(), len = r.ReadInt32();
                if (offset < 0 || size < 1 || len < 0 || len > _stream.Length - _stream.Position || (p > 0 && offset < pops[p - 1].Offset + pops[p - 1].Size))
                    throw new InvalidDataException($"{path}: damaged spike stream header (population {p}: offset {offset}, size {size}, name of {len} bytes)");
                pops[p] = new StreamPopulation(Encoding.UTF8.GetString(r.ReadBytes(len)), offset, size, recorded != 0);
            }
            Header = new SpikeStreamHeader(dt, first, batch, pops);
            _dataStart = _stream.Position;
        }
        catch (EndOfStreamException e)
        {
            _stream.Dispose();
            throw new InvalidDataException($"{path}: truncated spike stream header", e);
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
    }

    /// <summary>The header.</summary>
    public SpikeStreamHeader Header { get; }

    /// <summary>True when the last enumeration of <see cref="Records"/> stopped at a torn or corrupt record.</summary>
    public bool Truncated { get; private set; }

    /// <summary>
    /// The intact records in file order, optionally of one instance only. Reading stops at the first record that is
    /// short or fails its CRC (then <see cref="Truncated"/> is true).
    /// </summary>
    public IEnumerable<SpikeStreamRecord> Records(int? instance = null)
    {
        Truncated = false;
        _stream.Position = _dataStart;
        var head = new byte[12];
        var crc = new System.IO.Hashing.Crc32();
        var tail = new byte[4];
        while (true)
        {
            int got = _stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (got == 0) yield break;
            if (got < head.Length || BinaryPrimitives.ReadUInt32LittleEndian(head) != SpikeStreamFormat.RecordMagic) { Truncated = true; yield break; }
            int inst = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(4));
            int count = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(8));
            if (count < 0 || (long)count * 12 + 4 > _stream.Length - _stream.Position) { Truncated = true; yield break; }
            var ticks = new long[count];
            var neurons = new int[count];
            _stream.ReadExactly(MemoryMarshal.AsBytes(ticks.AsSpan()));
            _stream.ReadExactly(MemoryMarshal.AsBytes(neurons.AsSpan()));
            _stream.ReadExactly(tail);
            crc.Reset();
            crc.Append(head.AsSpan(4));
            crc.Append(MemoryMarshal.AsBytes(ticks.AsSpan()));
            crc.Append(MemoryMarshal.AsBytes(neurons.AsSpan()));
            if (crc.GetCurrentHashAsUInt32() != BinaryPrimitives.ReadUInt32LittleEndian(tail)) { Truncated = true; yield break; }
            if (instance is null || instance == inst) yield return new SpikeStreamRecord(inst, ticks, neurons);
        }
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _stream.Dispose();
}
