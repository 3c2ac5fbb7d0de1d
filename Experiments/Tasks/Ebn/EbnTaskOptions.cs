using Sim.Experiments.Dynamics;

namespace Sim.Experiments;

/// <summary>
/// Options of the EBN tracking task (docs/tasks/ebn.md; Alemi, Machens, Denève &amp; Slotine 2018; Boerlin, Machens &amp;
/// Denève 2013). Baseline constants (issue 15): λ_d = 10 s⁻¹, λ_V = 20 s⁻¹, μ = 1e-6, ν = 0, σ_V = 1e-3,
/// dt = 0.1 ms, N = 40, the damped oscillator A = [[−4.8, −22.4], [40, 0]], decoder columns of norm 0.03.
/// </summary>
public sealed record EbnTaskOptions
{
    /// <summary>The teacher: <c>linear</c> (the damped oscillator, slow weights Ω_s = Dᵀ(A + λ_d I)D), <c>van_der_pol</c> or <c>lorenz</c>.</summary>
    public string System { get; init; } = "linear";
    /// <summary>Neurons N.</summary>
    public int Neurons { get; init; } = 40;
    /// <summary>Simulated time per condition (s), of which the first <see cref="WarmupS"/> are not scored.</summary>
    public double DurationS { get; init; } = 2.0;
    /// <summary>Time not scored at the start (s): the network starts silent with x̂ = 0 while x = x(0).</summary>
    public double WarmupS { get; init; } = 0.2;
    /// <summary>Time step (ms).</summary>
    public double DtMs { get; init; } = 0.1;
    /// <summary>Seed of the decoder, the input, the noise and the silenced subsets.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Grid engine: event, dense or dense-cuda.</summary>
    public string Engine { get; init; } = "event";
    /// <summary>Norm of every decoder column ‖D_i‖.</summary>
    public double DecoderNorm { get; init; } = 0.03;
    /// <summary>λ_d (s⁻¹).</summary>
    public double LambdaDecoderPerS { get; init; } = 10;
    /// <summary>λ_V (s⁻¹).</summary>
    public double LambdaVPerS { get; init; } = 20;
    /// <summary>μ.</summary>
    public double Mu { get; init; } = 1e-6;
    /// <summary>ν.</summary>
    public double Nu { get; init; } = 0;
    /// <summary>Membrane noise σ_V of the main run (V-units/√s): dV gets σ_V·dW, a white-noise current σ_V·ξ/√dt per tick.</summary>
    public double NoiseSigma { get; init; } = 1e-3;
    /// <summary>Error-feedback gain k (s⁻¹): the drive gets k·Dᵀ(x − x̂). 0: the network runs on its own slow weights.</summary>
    public double ErrorGain { get; init; }
    /// <summary>The input c(t): a new Gaussian value per component (this standard deviation, units of x per second) every <see cref="InputHoldMs"/>.</summary>
    public double InputSd { get; init; } = 10;
    /// <summary>How long each input value is held (ms).</summary>
    public double InputHoldMs { get; init; } = 50;
    /// <summary>Fractions of neurons silenced (their threshold +∞), each a run at <see cref="NoiseSigma"/>.</summary>
    public IReadOnlyList<double> SilencedFractions { get; init; } = [0, 0.25, 0.5];
    /// <summary>Noise levels σ_V, each a run with no neuron silenced.</summary>
    public IReadOnlyList<double> NoiseLevels { get; init; } = [0, 1e-3, 3e-3, 1e-2];

    /// <summary>Ticks per condition.</summary>
    public long Ticks => (long)Math.Round(DurationS * 1000 / DtMs);
    /// <summary>Ticks not scored.</summary>
    public long WarmupTicks => (long)Math.Round(WarmupS * 1000 / DtMs);

    /// <summary>Checks every option; throws naming it.</summary>
    public void Validate()
    {
        _ = Teacher.Named(System);
        if (Neurons < 2) throw new ArgumentException($"neurons must be ≥ 2, got {Neurons}");
        if (!(DtMs > 0 && double.IsFinite(DtMs))) throw new ArgumentException($"dt_ms must be > 0, got {DtMs}");
        if (!(DurationS > WarmupS && WarmupS >= 0 && double.IsFinite(DurationS))) throw new ArgumentException($"duration_s must exceed warmup_s = {WarmupS} s, got {DurationS}");
        foreach (var (name, v) in new[] { ("decoder_norm", DecoderNorm), ("lambda_decoder_per_s", LambdaDecoderPerS), ("lambda_v_per_s", LambdaVPerS), ("input_hold_ms", InputHoldMs) })
            if (!(v > 0 && double.IsFinite(v))) throw new ArgumentException($"{name} must be finite and > 0, got {v}");
        foreach (var (name, v) in new[] { ("mu", Mu), ("nu", Nu), ("noise_sigma", NoiseSigma), ("error_gain", ErrorGain), ("input_sd", InputSd) })
            if (!(v >= 0 && double.IsFinite(v))) throw new ArgumentException($"{name} must be finite and ≥ 0, got {v}");
        foreach (double f in SilencedFractions) if (!(f >= 0 && f < 1)) throw new ArgumentException($"silenced fractions must lie in [0, 1), got {f}");
        foreach (double s in NoiseLevels) if (!(s >= 0 && double.IsFinite(s))) throw new ArgumentException($"noise levels must be finite and ≥ 0, got {s}");
        if (System != "linear" && ErrorGain == 0)
            throw new ArgumentException($"system {System} has no analytic slow weights (learning them is the EBN local rule, not implemented yet); give an error_gain > 0 so that the network follows the teacher through the error feedback");
    }
}
