using Sim.Experiments;
using Sim.Plasticity;
using Xunit;

namespace Sim.Specs.Plasticity;

/// <summary>The pairing protocols of docs/tasks/stdp.md: the window against its closed form, the triplet rule's frequency dependence.</summary>
public class StdpProtocolTests
{
    /// <summary>
    /// 60 pairings at 1 Hz for each Δt: the measured window equals the closed form of isolated pairs (the neighbouring
    /// pairings contribute below 1e-20) to rounding, for additive and multiplicative all-to-all and nearest pairing;
    /// potentiation for Δt + d &gt; 0, depression below.
    /// </summary>
    [Theory]
    [InlineData(StdpPairing.AllToAll, 0.0)]
    [InlineData(StdpPairing.AllToAll, 1.0)]
    [InlineData(StdpPairing.Nearest, 0.5)]
    public void TheWindowMatchesTheClosedForm(StdpPairing pairing, double mu)
    {
        var o = new StdpWindowOptions { DeltaTsMs = [-60, -20, -10, -2, 0, 2, 10, 20, 60] };
        o = o with { Rule = o.Rule with { Pairing = pairing, MuPlus = mu, MuMinus = mu } };
        var r = StdpProtocols.Window(o);
        Assert.True(r.MaxDeviation < 1e-12, r.Summary());
        foreach (var p in r.Points)
            Assert.True(p.DeltaTMs >= 0 ? p.MeasuredDw > 0.001 : p.MeasuredDw < -0.001, $"dt {p.DeltaTMs}: dw {p.MeasuredDw}");
    }

    /// <summary>
    /// Triplet STDP with the visual-cortex parameters: the measured changes equal the direct evaluation of the
    /// equations; no potentiation at 0.1 Hz for Δt = +10 ms and depression for −10 ms, potentiation for both at 50 Hz,
    /// and the +10 ms change grows with the frequency (Sjöström et al. 2001's frequency dependence).
    /// </summary>
    [Fact]
    public void TripletStdpReproducesTheFrequencyDependence()
    {
        var r = StdpProtocols.Frequency(new TripletFrequencyOptions { FrequenciesHz = [0.1, 10, 20, 40, 50] });
        Assert.True(r.MaxDeviation < 1e-12, r.Summary());
        double At(double f, double dt) => r.Points.Single(p => p.FrequencyHz == f && p.DeltaTMs == dt).PercentChange;
        Assert.InRange(At(0.1, 10), -1, 1);
        Assert.True(At(0.1, -10) < -20, r.Summary());
        Assert.True(At(50, 10) > 40 && At(50, -10) > 40, r.Summary());
        Assert.True(At(10, 10) < At(20, 10) && At(20, 10) < At(40, 10) && At(40, 10) < At(50, 10), r.Summary());
        Assert.True(At(20, -10) < 0 && At(40, -10) > 0, r.Summary());
    }
}
