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
