using Sim.Fuzz;
using Xunit;

namespace Sim.Specs.EventCore;

/// <summary>
/// Soak (docs/reliability.md): 10⁶ ticks of a small batch-2 network with Poisson input and random delays, once whole and
/// once cut at 100 random ticks, each cut through a checkpoint file into a fresh engine: identical spikes and final
/// state bit for bit. Two seeds (different networks, different cut points).
/// </summary>
public class SoakTests
{
    [Theory]
    [InlineData(1UL)]
    [InlineData(7UL)]
    public void AMillionTicksCutAtRandomAndResumedEqualTheWholeRun(ulong seed)
    {
        var output = new StringWriter();
        int code = Soak.Run(1_000_000, 100, seed, output);
        Assert.True(code == 0, output.ToString());
        Assert.Contains("identical", output.ToString());
    }
}
