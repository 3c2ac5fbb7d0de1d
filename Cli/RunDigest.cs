using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Sim.EventCore.Engine;

namespace Sim.Cli;

/// <summary>
/// A SHA-256 fingerprint of a run: every (tick, neuron) spike per instance, in order, then the final state's bits.
/// Two runs with the same digest produced the same spikes and state bit for bit (e.g. across thread counts or SIMD widths).
/// One hash and one buffer per instance, so instances on different threads never share anything.
/// </summary>
public sealed class RunDigest(int firstInstance, int batch) : ISpikeSink
{
    private const int BufferBytes = 12 * 4096;
    private readonly IncrementalHash[] _perInstance = [.. Enumerable.Range(0, batch).Select(_ => IncrementalHash.CreateHash(HashAlgorithmName.SHA256))];
    // Spikes are hashed in blocks of up to 4096 (SHA-256 of a byte stream does not depend on how it is cut into calls).
    private readonly byte[][] _buffer = [.. Enumerable.Range(0, batch).Select(_ => new byte[BufferBytes])];
    private readonly int[] _filled = new int[batch];

    /// <inheritdoc/>
    public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
    {
        if (neurons.IsEmpty) return;
        int b = instance - firstInstance;
        // 12 bytes per spike (tick, neuron), little-endian.
        var bytes = _buffer[b].AsSpan();
        ref int filled = ref _filled[b];
        for (int k = 0; k < neurons.Length; k++)
        {
            BitConverter.TryWriteBytes(bytes.Slice(filled, 8), tick);
            BitConverter.TryWriteBytes(bytes.Slice(filled + 8, 4), neurons[k]);
            filled += 12;
            if (filled == BufferBytes) { _perInstance[b].AppendData(bytes); filled = 0; }
        }
    }

    /// <summary>The digest of the spikes recorded and of the engine's final state, as hex.</summary>
    public (string Run, string State) Finish(ISimulationEngine engine)
    {
        using var total = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var state = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int b = 0; b < engine.BatchSize; b++)
        {
            _perInstance[b].AppendData(_buffer[b].AsSpan(0, _filled[b]));
            _filled[b] = 0;
            total.AppendData(_perInstance[b].GetHashAndReset());
            foreach (var p in engine.Network.Populations)
                foreach (var v in p.Model.ReportedVariableNames)
                    state.AppendData(MemoryMarshal.AsBytes(engine.GetVariable(b, p.Name, v).AsSpan()));
        }
        byte[] s = state.GetHashAndReset();
        total.AppendData(s);
        return (Convert.ToHexString(total.GetHashAndReset()).ToLowerInvariant(), Convert.ToHexString(s).ToLowerInvariant());
    }
}
