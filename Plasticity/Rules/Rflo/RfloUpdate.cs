using System.Numerics.Tensors;

namespace Sim.Plasticity;

/// <summary>
/// Random-feedback local online learning, RFLO (J. M. Murray 2019, "Local online learning in recurrent networks with
/// random feedback", eLife 8:e43299; docs/rules/rflo.md), for one population of N leaky tanh rate units
/// (<c>rate_tanh</c>), independent of any engine. The recurrent synapses are a list k = (i ← j) (the plastic
/// projection's synapses in id order); the readout y = W_out·h (N_out × N) lives here, its one home. One call of
/// <see cref="Step"/> per tick t, after the tick's u[t] and h[t] are known, with h[t−1] kept from the previous call:
/// <code>
/// p_k  ← (1 − k_i)·p_k + k_i·(ψ_i·h_j[t−1])        k_i = dt/τ_i (Murray's 1/τ), ψ_i = φ'(u_i[t]) = 1 − tanh² u_i[t]
/// y_o  = Σ_j W_out[o, j]·h_j[t]                      j ascending from +0.0
/// ε_o  = y*_o[t] − y_o
/// e_i  = Σ_o B[i, o]·ε_o                             o ascending from +0.0
/// A_out[o, j] += ε_o·h_j[t];   A_rec[k] += e_i·p_k;   L += Σ_o ε_o²;   T += 1
/// </code>
/// and at the end of the trial (<see cref="EndTrial"/>, model notes §3.4: per trial, the mean over the trial's ticks):
/// <code>
/// W_out ← W_out + (η_out/T)·A_out;   W_rec,k ← W_rec,k + (η_rec/T)·A_rec,k;   A, T, L cleared
/// </code>
/// B (N × N_out) is fixed; W_rec (float64, per synapse) and W_out are the master copies; the engine rounds W_rec onto the
/// projection's grid when the rule writes it.
/// </summary>
public sealed class RfloUpdate
{
    private readonly int[] _pre, _post;
    private readonly double[] _leak, _b, _wRec, _wOut, _p, _accRec, _accOut, _hPrev, _y, _eps, _e;

    /// <summary>Creates the update.</summary>
    /// <param name="n">N, units.</param>
    /// <param name="pre">Per recurrent synapse k: its source j (0 … N−1).</param>
    /// <param name="post">Per recurrent synapse k: its target i (0 … N−1).</param>
    /// <param name="leak">Per unit: k_i = dt/τ_i.</param>
    /// <param name="feedback">B, N × N_out row-major ([i, o]).</param>
    /// <param name="initialReadout">W_out, N_out × N row-major ([o, j]).</param>
    /// <param name="initialRecurrent">W_rec per synapse k.</param>
    /// <param name="etaRec">η_rec.</param>
    /// <param name="etaOut">η_out.</param>
    public RfloUpdate(int n, int[] pre, int[] post, double[] leak, double[] feedback, double[] initialReadout, double[] initialRecurrent, double etaRec, double etaOut)
    {
        if (pre.Length != post.Length || pre.Length != initialRecurrent.Length) throw new ArgumentException("pre, post and W_rec must have one entry per synapse");
        if (leak.Length != n) throw new ArgumentException($"leak needs {n} values", nameof(leak));
        if (feedback.Length == 0 || feedback.Length % n != 0) throw new ArgumentException($"B must be {n} × N_out", nameof(feedback));
        Outputs = feedback.Length / n;
        if (initialReadout.Length != Outputs * n) throw new ArgumentException($"W_out must be {Outputs} × {n}", nameof(initialReadout));
        foreach (int j in pre) if ((uint)j >= (uint)n) throw new ArgumentException("a source is out of range", nameof(pre));
        foreach (int i in post) if ((uint)i >= (uint)n) throw new ArgumentException("a target is out of range", nameof(post));
        N = n;
        _pre = (int[])pre.Clone(); _post = (int[])post.Clone(); _leak = (double[])leak.Clone();
        _b = (double[])feedback.Clone(); _wOut = (double[])initialReadout.Clone(); _wRec = (double[])initialRecurrent.Clone();
        _p = new double[pre.Length]; _accRec = new double[pre.Length]; _accOut = new double[_wOut.Length];
        _hPrev = new double[n]; _y = new double[Outputs]; _eps = new double[Outputs]; _e = new double[n];
        EtaRec = etaRec; EtaOut = etaOut;
    }

    /// <summary>N.</summary>
    public int N { get; }
    /// <summary>N_out.</summary>
    public int Outputs { get; }
    /// <summary>η_rec.</summary>
    public double EtaRec { get; set; }
    /// <summary>η_out.</summary>
    public double EtaOut { get; set; }
    /// <summary>When false, <see cref="Step"/> computes y and ε (and the loss) but accumulates no update.</summary>
    public bool Learning { get; set; } = true;
    /// <summary>Master W_rec, per synapse.</summary>
    public ReadOnlySpan<double> Recurrent => _wRec;
    /// <summary>W_out (N_out × N, row-major).</summary>
    public ReadOnlySpan<double> Readout => _wOut;
    /// <summary>B (N × N_out, row-major).</summary>
    public ReadOnlySpan<double> Feedback => _b;
    /// <summary>p per recurrent synapse.</summary>
    public ReadOnlySpan<double> EligibilityP => _p;
    /// <summary>y of the last step.</summary>
    public ReadOnlySpan<double> Output => _y;
    /// <summary>Ticks of the current trial so far.</summary>
    public int Ticks { get; private set; }
    /// <summary>Σ_t (Σ_o ε_o²) of the current trial so far (the inner sum per tick, o ascending, then added in tick order).</summary>
    public double SquaredError { get; private set; }
    /// <summary>The loss of the last finished trial: Σ_t Σ_o ε_o² / (T·N_out) (mean squared error); NaN before the first.</summary>
    public double LastTrialLoss { get; private set; } = double.NaN;

    /// <summary>Start of a trial: p = 0, h[t−1] = <paramref name="h0"/> (the initial state), sums cleared.</summary>
    public void StartTrial(ReadOnlySpan<double> h0)
    {
        Array.Clear(_p); Array.Clear(_accRec); Array.Clear(_accOut);
        h0.CopyTo(_hPrev);
        Ticks = 0; SquaredError = 0;
    }

    /// <summary>One tick (the class summary).</summary>
    /// <param name="h">h[t].</param>
    /// <param name="psi">ψ_i = φ'(u_i[t]).</param>
    /// <param name="target">y*[t] (N_out).</param>
    public void Step(ReadOnlySpan<double> h, ReadOnlySpan<double> psi, ReadOnlySpan<double> target)
    {
        int n = N, m = Outputs;
        if (h.Length != n || psi.Length != n) throw new ArgumentException($"expected vectors of length {n}");
        if (target.Length != m) throw new ArgumentException($"expected a target of length {m}", nameof(target));
        for (int k = 0; k < _p.Length; k++)
        {
            int i = _post[k];
            double a = psi[i] * _hPrev[_pre[k]];
            _p[k] = (1.0 - _leak[i]) * _p[k] + _leak[i] * a;
        }
        double sq = 0;
        for (int o = 0; o < m; o++)
        {
            double y = 0.0;
            var w = _wOut.AsSpan(o * n, n);
            for (int j = 0; j < n; j++) y += w[j] * h[j];
            _y[o] = y;
            double eps = target[o] - y;
            _eps[o] = eps;
            sq += eps * eps;
        }
        SquaredError += sq;
        Ticks++;
        if (Learning)
        {
            for (int i = 0; i < n; i++)
            {
                double e = 0.0;
                for (int o = 0; o < m; o++) e += _b[i * m + o] * _eps[o];
                _e[i] = e;
            }
            for (int o = 0; o < m; o++)
            {
                var a = _accOut.AsSpan(o * n, n);
                for (int j = 0; j < n; j++) a[j] += _eps[o] * h[j];
            }
            for (int k = 0; k < _p.Length; k++) _accRec[k] += _e[_post[k]] * _p[k];
        }
        h.CopyTo(_hPrev);
    }

    /// <summary>
    /// End of a trial: applies the mean updates (class summary) when learning and at least one tick ran, records the
    /// trial's loss and clears the sums.
    /// </summary>
    /// <returns>True when W_rec changed (the caller writes it into the network).</returns>
    public bool EndTrial()
    {
        if (Ticks == 0) return false;
        LastTrialLoss = SquaredError / ((double)Ticks * Outputs);
        bool applied = Learning;
        if (applied)
        {
            double cOut = EtaOut / Ticks, cRec = EtaRec / Ticks;
            TensorPrimitives.MultiplyAdd(_accOut, cOut, _wOut, _wOut);
            TensorPrimitives.MultiplyAdd(_accRec, cRec, _wRec, _wRec);
        }
        Array.Clear(_accRec); Array.Clear(_accOut);
        Ticks = 0; SquaredError = 0;
        return applied && EtaRec != 0;
    }

    /// <summary>
    /// The cosine of the angle between W_out and Bᵀ (both flattened as N_out × N), Murray's alignment measure: rises above
    /// 0 when the readout aligns with the feedback during learning.
    /// </summary>
    public double Alignment()
    {
        int n = N, m = Outputs;
        double dot = 0, ww = 0, bb = 0;
        for (int o = 0; o < m; o++)
            for (int j = 0; j < n; j++)
            {
                double w = _wOut[o * n + j], b = _b[j * m + o];
                dot += w * b; ww += w * w; bb += b * b;
            }
        return dot / Math.Sqrt(ww * bb);
    }

    /// <summary>The state for a checkpoint.</summary>
    public Dictionary<string, double[]> Capture() => new()
    {
        ["w_rec"] = (double[])_wRec.Clone(), ["w_out"] = (double[])_wOut.Clone(), ["p"] = (double[])_p.Clone(),
        ["acc_rec"] = (double[])_accRec.Clone(), ["acc_out"] = (double[])_accOut.Clone(), ["h_prev"] = (double[])_hPrev.Clone(),
        ["scalars"] = [Ticks, SquaredError, double.IsNaN(LastTrialLoss) ? 0 : 1, double.IsNaN(LastTrialLoss) ? 0 : LastTrialLoss, Learning ? 1 : 0],
    };

    /// <summary>Sets the state from <see cref="Capture"/>.</summary>
    public void Restore(IReadOnlyDictionary<string, double[]> state)
    {
        void Load(string key, double[] into)
        {
            if (!state.TryGetValue(key, out var v) || v.Length != into.Length) throw new InvalidDataException($"RFLO rule state: '{key}' missing or of the wrong length");
            v.CopyTo(into, 0);
        }
        Load("w_rec", _wRec); Load("w_out", _wOut); Load("p", _p); Load("acc_rec", _accRec); Load("acc_out", _accOut); Load("h_prev", _hPrev);
        var s = new double[5];
        Load("scalars", s);
        Ticks = (int)s[0]; SquaredError = s[1]; LastTrialLoss = s[2] != 0 ? s[3] : double.NaN; Learning = s[4] != 0;
    }
}
