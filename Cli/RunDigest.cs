using System.Security.Cryptography;
using Sim.EventCore.Engine;

namespace Sim.Cli;

/// <summary>
/// A SHA-256 fingerprint of a run: every (tick, neuron) spike per instance, in order, then the final state's bits.
/// Two runs with the same digest produced the same spikes and state bit for bit (e.g. across thread counts or SIMD widths).
/// </summary>
public sealed class RunDigest : ISpikeSink
{
    private readonly Dictionary<int, IncrementalHash> _perInstance = [];

    /// <inheritdoc/>
    public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
    {
        if (neurons.IsEmpty) return;
        IncrementalHash h;
        lock (_perInstance)
            if (!_perInstance.TryGetValue(instance, out h!)) _perInstance[instance] = h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> buf = stackalloc byte[12];
        foreach (int n in neurons)
        {
            BitConverter.TryWriteBytes(buf, tick);
            BitConverter.TryWriteBytes(buf[8..], n);
            h.AppendData(buf);
        }
    }

    /// <summary>The digest of the spikes recorded and of the engine's final state, as hex.</summary>
    public (string Run, string State) Finish(ISimulationEngine engine)
    {
        using var total = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var state = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int b = 0; b < engine.BatchSize; b++)
        {
            if (_perInstance.TryGetValue(engine.FirstInstance + b, out var h)) total.AppendData(h.GetHashAndReset());
            foreach (var p in engine.Network.Populations)
                foreach (var v in Sim.EventCore.Description.Naming.StateVariables(p.Model))
                    foreach (double x in engine.GetVariable(b, p.Name, v))
                        state.AppendData(BitConverter.GetBytes(x));
        }
        byte[] s = state.GetHashAndReset();
        total.AppendData(s);
        return (Convert.ToHexString(total.GetHashAndReset()).ToLowerInvariant(), Convert.ToHexString(s).ToLowerInvariant());
    }
}
