using Sim.EventCore.Models;

namespace Sim.EventCore.Description;

/// <summary>
/// Izhikevich: the simple model of Izhikevich (2003, "Simple model of spiking neurons", IEEE Trans. Neural Netw.
/// 14:1569), with exponentially decaying current synapses. Contract: docs/models/izhikevich.md.
/// <code>
/// dv/dt = 0.04·v² + 5·v + 140 − u + I       (v in mV, t in ms, u and I in mV/ms)
/// du/dt = a·(b·v − u)
/// spike when v &gt; v_peak (30 mV); then v ← c, u ← u + d
/// I = i_exc + i_inh + I_ext,   di_x/dt = −i_x/τ_x
/// </code>
/// Integrated by Izhikevich's own scheme: two forward-Euler half steps of dt/2 for v, then one step of dt for u with
/// the new v (his published code at dt = 1 ms). A weight w ≥ 0 adds w to i_exc, w &lt; 0 adds w to i_inh (mV/ms).
/// </summary>
public sealed record IzhikevichParameters : NeuronParameters
{
    /// <inheritdoc/>
    public override NeuronModelDefinition Model => IzhikevichModel.Instance;
    /// <summary>a: rate of the recovery variable u (1/ms); regular spiking 0.02.</summary>
    [Positive] public Value APerMs { get; init; } = 0.02;
    /// <summary>b: sensitivity of u to v (1/ms, Izhikevich's dimensionless b); regular spiking 0.2.</summary>
    public Value BPerMs { get; init; } = 0.2;
    /// <summary>c: after-spike reset of v (mV); regular spiking −65.</summary>
    public Value CMv { get; init; } = -65.0;
    /// <summary>d: after-spike increment of u (mV/ms); regular spiking 8.</summary>
    public Value DMvPerMs { get; init; } = 8.0;
    /// <summary>Spike cut-off v_peak (mV); a spike needs v &gt; v_peak. Izhikevich: 30.</summary>
    public Value VPeakMv { get; init; } = 30.0;
    /// <summary>Excitatory synaptic current time constant τ_e (ms).</summary>
    [Positive] public Value TauExcMs { get; init; } = 5.0;
    /// <summary>Inhibitory synaptic current time constant τ_i (ms).</summary>
    [Positive] public Value TauInhMs { get; init; } = 10.0;
    /// <summary>Constant input current I_ext (mV/ms, Izhikevich's I).</summary>
    public Value IExtMvPerMs { get; init; } = 0.0;
    /// <summary>Initial membrane potential (mV).</summary>
    public Value VInitMv { get; init; } = -65.0;
    /// <summary>Initial recovery variable (mV/ms); null means b·v_init (Izhikevich's u = b.*v).</summary>
    public Value? UMvPerMsInit { get; init; }
}
