using Sim.GpuBridge;
using Xunit;

namespace Sim.Specs.GpuBridge;

/// <summary>A <see cref="FactAttribute"/> that skips itself (reason "no CUDA device") where torch sees no CUDA device.</summary>
public sealed class GpuFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> unless <c>torch.cuda.is_available()</c>.</summary>
    public GpuFactAttribute()
    {
        bool cuda;
        try { cuda = TorchRuntime.IsCudaAvailable; }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException or InvalidOperationException)
        {
            cuda = false;
        }
        if (!cuda) Skip = "no CUDA device";
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
        bool cuda;
        try { cuda = TorchRuntime.IsCudaAvailable; }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException or InvalidOperationException)
        {
            cuda = false;
        }
        if (cuda) Skip = "a CUDA device is present (this checks the behaviour without one)";
    }
}
