using System.Numerics.Tensors;

namespace Sim.Plasticity;

/// <summary>
/// Applies an update direction to a weight vector. <c>d</c> is the rule's direction of change (the negative gradient;
/// for the rank-R rule d_ij = (D·err)_i·p_i·ej_j), so every optimizer moves w along +d. Each element's arithmetic is a
/// fixed IEEE sequence (written in the implementations), with no transcendental and no fused multiply-add, so a dense
/// mirror can reproduce it bit for bit.
/// </summary>
public interface IOptimizer
{
    /// <summary>Name and hyper-parameters, for reports.</summary>
    string Name { get; }
    /// <summary>w ← w + step(d), element-wise.</summary>
    void Step(Span<double> w, ReadOnlySpan<double> d);
    /// <summary>Forgets any internal state (moments, step count).</summary>
    void Reset();

    /// <summary>The internal state for a checkpoint (name → values); empty for stateless optimizers.</summary>
    IReadOnlyDictionary<string, double[]> Capture() => new Dictionary<string, double[]>();

    /// <summary>Sets the internal state from <see cref="Capture"/>.</summary>
    void Restore(IReadOnlyDictionary<string, double[]> state) { }
}

/// <summary>Plain SGD (the paper's choice): w_k ← w_k + η·d_k.</summary>
/// <param name="rate">η and how it was chosen.</param>
public sealed class Sgd(LearningRate rate) : IOptimizer
{
    /// <summary>The learning rate.</summary>
    public LearningRate Rate { get; } = rate;
    /// <inheritdoc/>
    public string Name => $"sgd, {Rate}";

    /// <inheritdoc/>
    public void Step(Span<double> w, ReadOnlySpan<double> d)
    {
        if (w.Length != d.Length) throw new ArgumentException("w and d differ in length", nameof(d));
        TensorPrimitives.MultiplyAdd(d, Rate.Eta, w, w);   // w_k + d_k·η, element-wise, never fused
    }

    /// <inheritdoc/>
    public void Reset() { }
}

/// <summary>
/// Adam (Kingma &amp; Ba 2015) moving along +d, per element, with step count t (starting at 1) and the running powers
/// β1^t, β2^t kept by repeated multiplication (no pow):
/// <code>
/// m ← β1·m + (1 − β1)·d;   v ← β2·v + (1 − β2)·(d·d)
/// m̂ = m/(1 − β1^t);  v̂ = v/(1 − β2^t);   w ← w + η·m̂/(√v̂ + ε)
/// </code>
/// (√ is correctly rounded IEEE, allowed by the numerics contract.)
/// </summary>
public sealed class Adam : IOptimizer
{
    private double[] _m = [], _v = [];
    private double _b1t = 1, _b2t = 1;
    private double _eta;

    /// <summary>Adam with the usual defaults β1 = 0.9, β2 = 0.999, ε = 10^-8.</summary>
    /// <param name="rate">η at the first step.</param>
    /// <param name="beta1">β1.</param>
    /// <param name="beta2">β2.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="decayEvery">
    /// Step decay of η (the authors' behavioural-cloning optimizer): before step s (counted from 1), η ← η·<paramref name="decayFactor"/>
    /// when s is a multiple of this; 0 for a constant η.
    /// </param>
    /// <param name="decayFactor">The factor of the step decay, in (0, 1].</param>
    public Adam(LearningRate rate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, long decayEvery = 0, double decayFactor = 1.0)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1));
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2));
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon));
        ArgumentOutOfRangeException.ThrowIfNegative(decayEvery);
        if (!(decayFactor > 0 && decayFactor <= 1)) throw new ArgumentOutOfRangeException(nameof(decayFactor), "the decay factor must lie in (0, 1]");
        Rate = rate; Beta1 = beta1; Beta2 = beta2; Epsilon = epsilon;
        DecayEvery = decayEvery; DecayFactor = decayFactor;
        _eta = rate.Eta;
    }

    /// <summary>Every how many steps η is multiplied by <see cref="DecayFactor"/> (0: never).</summary>
    public long DecayEvery { get; }
    /// <summary>The step-decay factor.</summary>
    public double DecayFactor { get; }
    /// <summary>η of the next step (after the decays so far).</summary>
    public double CurrentEta => _eta;

    /// <summary>The learning rate.</summary>
    public LearningRate Rate { get; }
    /// <summary>β1.</summary>
    public double Beta1 { get; }
    /// <summary>β2.</summary>
    public double Beta2 { get; }
    /// <summary>ε.</summary>
    public double Epsilon { get; }
    /// <summary>Steps taken.</summary>
    public long Steps { get; private set; }
    /// <inheritdoc/>
    public string Name => DecayEvery > 0
        ? FormattableString.Invariant($"adam(beta1={Beta1}, beta2={Beta2}, eps={Epsilon}, eta x{DecayFactor} every {DecayEvery} steps), {Rate}")
        : FormattableString.Invariant($"adam(beta1={Beta1}, beta2={Beta2}, eps={Epsilon}), {Rate}");

    /// <inheritdoc/>
    public void Step(Span<double> w, ReadOnlySpan<double> d)
    {
        if (w.Length != d.Length) throw new ArgumentException("w and d differ in length", nameof(d));
        if (_m.Length != w.Length) { _m = new double[w.Length]; _v = new double[w.Length]; }
        Steps++;
        if (DecayEvery > 0 && Steps % DecayEvery == 0) _eta *= DecayFactor;
        _b1t *= Beta1; _b2t *= Beta2;
        double b1 = Beta1, c1 = 1.0 - Beta1, b2 = Beta2, c2 = 1.0 - Beta2;
        double k1 = 1.0 - _b1t, k2 = 1.0 - _b2t, eta = _eta, eps = Epsilon;
        for (int k = 0; k < w.Length; k++)
        {
            double m = b1 * _m[k] + c1 * d[k];
            double v = b2 * _v[k] + c2 * (d[k] * d[k]);
            _m[k] = m; _v[k] = v;
            double mHat = m / k1, vHat = v / k2;
            w[k] += eta * mHat / (Math.Sqrt(vHat) + eps);
        }
    }

    /// <inheritdoc/>
    public void Reset() { _m = []; _v = []; _b1t = _b2t = 1; Steps = 0; _eta = Rate.Eta; }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, double[]> Capture() => new Dictionary<string, double[]>
    {
        ["m"] = (double[])_m.Clone(), ["v"] = (double[])_v.Clone(), ["powers"] = [_b1t, _b2t, Steps, _eta],
    };

    /// <inheritdoc/>
    public void Restore(IReadOnlyDictionary<string, double[]> state)
    {
        if (!state.TryGetValue("m", out var m) || !state.TryGetValue("v", out var v) || !state.TryGetValue("powers", out var p) || p.Length is not (3 or 4) || m.Length != v.Length)
            throw new InvalidDataException("Adam state incomplete");
        _m = (double[])m.Clone(); _v = (double[])v.Clone(); _b1t = p[0]; _b2t = p[1]; Steps = (long)p[2];
        _eta = p.Length == 4 ? p[3] : Rate.Eta;   // a state saved before the step decay existed: the constant η
    }
}
