using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Sim.GpuBridge;

/// <summary>
/// A reused CPU tensor through which host arrays reach the device: one memcpy into it, one <c>copy_</c> into the
/// destination; nothing is allocated after the first upload of a given shape. Used for the plastic weight matrices and
/// the per-tick drive.
/// </summary>
internal sealed class HostStaging : IDisposable
{
    private Tensor? _cpu;
    private long _length;

    /// <summary>Copies <paramref name="values"/> (row-major, of <paramref name="shape"/>) into <paramref name="destination"/>.</summary>
    public void Upload(ReadOnlySpan<double> values, long[] shape, Tensor destination)
    {
        if (_cpu is null || _length != values.Length)
        {
            _cpu?.Dispose();
            _cpu = zeros(shape, dtype: ScalarType.Float64);
            _length = values.Length;
        }
        MemoryMarshal.AsBytes(values).CopyTo(_cpu.bytes);
        using (no_grad()) destination.copy_(_cpu);
    }

    public void Dispose() => _cpu?.Dispose();
}
