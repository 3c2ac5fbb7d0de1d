using Sim.GpuBridge;
using Xunit;

namespace Sim.Specs.GpuBridge;

/// <summary>A <see cref="FactAttribute"/> that skips itself (reason "no CUDA device") where torch sees no CUDA device.</summary>
public sealed class GpuFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> unless <c>torch.cuda.is_available()</c>.</summary>
    public GpuFactAttribute()
    {
        if (!CudaProbe.Present) Skip = "no CUDA device";
    }
}

/// <summary>
/// A <see cref="FactAttribute"/> for what must hold where no CUDA device is present (e.g. a clear error when CUDA is
/// asked for): it skips itself, with that reason, on a machine with a CUDA device, instead of passing silently there.
/// </summary>
public sealed class NoGpuFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when <c>torch.cuda.is_available()</c>.</summary>
    public NoGpuFactAttribute()
    {
        if (CudaProbe.Present) Skip = "a CUDA device is present (this checks the behaviour without one)";
    }
}

/// <summary>Whether torch sees a CUDA device; false also where libtorch cannot be loaded at all.</summary>
internal static class CudaProbe
{
    public static bool Present
    {
        get
        {
            try { return TorchRuntime.IsCudaAvailable; }
            catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException or InvalidOperationException)
            {
                return false;
            }
        }
    }
}
