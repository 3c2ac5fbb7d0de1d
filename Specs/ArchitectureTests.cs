using Xunit;

namespace Sim.Specs;

/// <summary>The dependency direction of docs/architecture.md: EventCore ← Plasticity; EventCore ← GpuBridge; EventCore ← Probes; never the other way.</summary>
public class ArchitectureTests
{
    private static string[] References(Type t) => [.. t.Assembly.GetReferencedAssemblies().Select(a => a.Name!)];

    [Fact]
    public void EventCoreNamesNoConsumer()
    {
        var refs = References(typeof(Sim.EventCore.Engine.EventEngine));
        Assert.DoesNotContain(refs, r => r.StartsWith("Sim.", StringComparison.Ordinal));
        Assert.DoesNotContain(refs, r => r.StartsWith("TorchSharp", StringComparison.Ordinal));
    }

    [Fact]
    public void ProbesAndGpuBridgeDependOnlyOnEventCore()
    {
        Assert.Equal(["Sim.EventCore"], References(typeof(Sim.Probes.MonitorSet)).Where(r => r.StartsWith("Sim.", StringComparison.Ordinal)));
        Assert.Equal(["Sim.EventCore"], References(typeof(Sim.GpuBridge.DenseEngine)).Where(r => r.StartsWith("Sim.", StringComparison.Ordinal)));
    }

    [Fact]
    public void PlasticityDependsOnlyOnEventCore()
        => Assert.Equal(["Sim.EventCore"], References(typeof(Sim.Plasticity.RankRRule)).Where(r => r.StartsWith("Sim.", StringComparison.Ordinal)));
}
