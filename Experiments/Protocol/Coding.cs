using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;

namespace Sim.Experiments;

/// <summary>
/// Linear current encoder: the per-tick input of neuron i of one population is I_i = b_i + Σ_k W_ik·o_k (k ascending,
/// from b_i; each product then add a separate IEEE operation), in the model's drive unit. W is N×K row-major.
/// </summary>
public sealed class LinearCurrentEncoder : IObservationEncoder
{
    private readonly int _population, _n, _k;
    private readonly double[] _w, _bias;

    /// <summary>An encoder into population <paramref name="population"/> of <paramref name="network"/>.</summary>
    /// <param name="network">The network.</param>
    /// <param name="population">The population receiving the input.</param>
    /// <param name="weights">W (N×K, row-major).</param>
    /// <param name="bias">b (length N), or null for zeros.</param>
    public LinearCurrentEncoder(CompiledNetwork network, string population, double[] weights, double[]? bias = null)
    {
        var p = network.Population(population);
        _population = p.Index;
        _n = p.Size;
        if (weights.Length % _n != 0) throw new ArgumentException($"W must have {_n} rows", nameof(weights));
        _k = weights.Length / _n;
        _w = (double[])weights.Clone();
        _bias = bias is null ? new double[_n] : bias.Length == _n ? (double[])bias.Clone() : throw new ArgumentException($"b must have {_n} values", nameof(bias));
        Populations = [population];
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> Populations { get; }

    /// <inheritdoc/>
    public void Encode(ReadOnlySpan<double> observation, ITickInputs inputs)
    {
        if (observation.Length != _k) throw new ArgumentException($"expected {_k} observation values, got {observation.Length}", nameof(observation));
        var current = inputs.Current(_population);
        for (int i = 0; i < _n; i++)
        {
            double s = _bias[i];
            for (int k = 0; k < _k; k++) s = _w[i * _k + k] * observation[k] + s;
            current[i] = s;
        }
    }
}

/// <summary>
/// Filtered-spike readout decoder: ŝ_i ← α·ŝ_i + (1 − α)·z_i for the neurons of one population (α = exp(−dt/τ), computed
/// once), and the action y_k = Σ_i W_ki·ŝ_i (i ascending from +0), W = W_out (K×N, row-major): the readout of the
/// rank-R framework (docs/rules/rank_r.md) as an action.
/// </summary>
public sealed class FilteredSpikeReadout : IActionDecoder
{
    private readonly int _offset, _n, _k;
    private readonly double[] _w, _z;
    private readonly Sim.Plasticity.SpikeFilter _filter;   // the rank-R rule's filter, the same operation sequence

    /// <summary>A readout of population <paramref name="population"/> with time constant <paramref name="tauMs"/>.</summary>
    public FilteredSpikeReadout(CompiledNetwork network, string population, double tauMs, double[] readout)
    {
        var p = network.Population(population);
        _offset = p.Offset;
        _n = p.Size;
        if (readout.Length % _n != 0) throw new ArgumentException($"W_out must have {_n} columns", nameof(readout));
        _k = readout.Length / _n;
        _w = (double[])readout.Clone();
        _z = new double[_n];
        _filter = new Sim.Plasticity.SpikeFilter(_n, network.DtMs, tauMs);   // refuses a τ that is not finite and > 0
    }

    /// <summary>The filtered spikes ŝ.</summary>
    public ReadOnlySpan<double> Filtered => _filter.Value;

    /// <inheritdoc/>
    public void Reset() => _filter.Reset();

    /// <inheritdoc/>
    public void Decode(ReadOnlySpan<int> spikes, IStateReader state, Span<double> action)
    {
        if (action.Length != _k) throw new ArgumentException($"expected {_k} action values", nameof(action));
        Array.Clear(_z);
        foreach (int g in spikes) if (g >= _offset && g < _offset + _n) _z[g - _offset] = 1.0;
        _filter.Step(_z);
        var s = _filter.Value;
        for (int k = 0; k < _k; k++)
        {
            double y = 0;
            for (int i = 0; i < _n; i++) y += _w[k * _n + i] * s[i];
            action[k] = y;
        }
    }
}
