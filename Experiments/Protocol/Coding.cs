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
    private readonly double[] _wT, _bias;

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
        var w = weights;
        _bias = bias is null ? new double[_n] : bias.Length == _n ? (double[])bias.Clone() : throw new ArgumentException($"b must have {_n} values", nameof(bias));
        _wT = new double[w.Length];   // column k of W contiguous: the sums run across i, each in k order
        for (int i = 0; i < _n; i++)
            for (int k = 0; k < _k; k++) _wT[k * _n + i] = w[i * _k + k];
        Populations = [population];
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> Populations { get; }

    /// <inheritdoc/>
    public void Encode(ReadOnlySpan<double> observation, ITickInputs inputs)
    {
        if (observation.Length != _k) throw new ArgumentException($"expected {_k} observation values, got {observation.Length}", nameof(observation));
        // The same operation sequence per neuron as Apply (s ← b_i; s ← W_ik·o_k + s for k ascending, multiply then add,
        // never fused), vectorised across the neurons.
        var current = inputs.Current(_population);
        _bias.CopyTo(current);
        for (int k = 0; k < _k; k++) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(_wT.AsSpan(k * _n, _n), observation[k], current, current);
    }

    /// <summary>y_i = b_i + Σ_k W_ik·x_k in the encoder's order (k ascending from b_i), for tasks that form the same currents off-line.</summary>
    public static void Apply(ReadOnlySpan<double> weights, ReadOnlySpan<double> bias, ReadOnlySpan<double> x, Span<double> y)
    {
        int n = y.Length, k = x.Length;
        if (weights.Length != n * k) throw new ArgumentException($"W must be {n}×{k}", nameof(weights));
        for (int i = 0; i < n; i++)
        {
            double s = bias.IsEmpty ? 0.0 : bias[i];
            for (int j = 0; j < k; j++) s = weights[i * k + j] * x[j] + s;
            y[i] = s;
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

/// <summary>
/// Gaussian population code (radial basis functions), the input code of the Button &amp; Food task (Capone, Muratore &amp;
/// Paolucci 2022; docs/tasks/button_food.md): every coordinate x_d, clipped to [lo, hi], is represented by K bumps with
/// centres μ_k = lo + k·(hi − lo)/(K − 1) (linspace) and width σ, φ_{d,k} = exp(−½((x_d − μ_k)/σ)²). Features are laid
/// out coordinate after coordinate (the K bumps of x_0, then those of x_1, …). The paper's code: K = 20 on [−1, 1],
/// σ = 2/20 = 0.1.
/// </summary>
public sealed class GaussianPopulationCode
{
    private readonly double[] _centres;

    /// <summary>A code of <paramref name="bumps"/> bumps per coordinate on [<paramref name="low"/>, <paramref name="high"/>].</summary>
    public GaussianPopulationCode(int coordinates, int bumps = 20, double low = -1, double high = 1, double? width = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(coordinates);
        if (bumps < 2) throw new ArgumentOutOfRangeException(nameof(bumps), "a population code needs at least 2 bumps");
        if (!(high > low) || !double.IsFinite(low) || !double.IsFinite(high)) throw new ArgumentException("the range must be finite with high > low");
        Width = width ?? (high - low) / bumps;
        if (!(Width > 0) || !double.IsFinite(Width)) throw new ArgumentOutOfRangeException(nameof(width), "the bump width must be finite and > 0");
        Coordinates = coordinates; Bumps = bumps; Low = low; High = high;
        _centres = new double[bumps];
        for (int k = 0; k < bumps; k++) _centres[k] = low + k * (high - low) / (bumps - 1);
    }

    /// <summary>Coordinates of an input vector.</summary>
    public int Coordinates { get; }
    /// <summary>K, bumps per coordinate.</summary>
    public int Bumps { get; }
    /// <summary>The clipping range.</summary>
    public double Low { get; }
    /// <summary>The clipping range.</summary>
    public double High { get; }
    /// <summary>σ, the width of a bump.</summary>
    public double Width { get; }
    /// <summary>Features: coordinates × bumps.</summary>
    public int Features => Coordinates * Bumps;

    /// <summary>Writes the features of <paramref name="x"/> (length <see cref="Coordinates"/>) into <paramref name="features"/>.</summary>
    public void Encode(ReadOnlySpan<double> x, Span<double> features)
    {
        if (x.Length != Coordinates) throw new ArgumentException($"expected {Coordinates} coordinates, got {x.Length}", nameof(x));
        if (features.Length != Features) throw new ArgumentException($"expected {Features} features", nameof(features));
        for (int d = 0; d < x.Length; d++)
        {
            double v = Math.Clamp(x[d], Low, High);   // a NaN stays NaN: it shows up in the currents, not as a silent zero
            for (int k = 0; k < Bumps; k++)
            {
                double u = (v - _centres[k]) / Width;
                features[d * Bumps + k] = Math.Exp(-0.5 * (u * u));
            }
        }
    }
}

/// <summary>
/// Encoder of an observation through a <see cref="GaussianPopulationCode"/> and a linear current: I_i = Σ_f J_if·φ_f
/// (<see cref="LinearCurrentEncoder"/>, J = N × features). Allocation-free per tick.
/// </summary>
public sealed class GaussianPopulationEncoder : IObservationEncoder
{
    private readonly GaussianPopulationCode _code;
    private readonly LinearCurrentEncoder _current;
    private readonly double[] _features;

    /// <summary>An encoder into population <paramref name="population"/> with input weights J (N × features, row-major).</summary>
    public GaussianPopulationEncoder(CompiledNetwork network, string population, GaussianPopulationCode code, double[] weights)
    {
        _code = code;
        var p = network.Population(population);
        if (weights.Length != p.Size * code.Features) throw new ArgumentException($"J must be {p.Size}×{code.Features}", nameof(weights));
        _current = new LinearCurrentEncoder(network, population, weights);
        _features = new double[code.Features];
        Populations = [population];
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> Populations { get; }

    /// <summary>The features of the last observation encoded.</summary>
    public ReadOnlySpan<double> Features => _features;

    /// <inheritdoc/>
    public void Encode(ReadOnlySpan<double> observation, ITickInputs inputs)
    {
        _code.Encode(observation, _features);
        _current.Encode(_features, inputs);
    }
}
