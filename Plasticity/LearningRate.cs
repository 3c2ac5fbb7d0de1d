namespace Sim.Plasticity;

/// <summary>
/// A learning rate and the rule that produced it, recorded by name with every result (docs/rules/rank_r.md: the paper's
/// default is η = 5/√N; the authors' code also uses 0.05; the bipedal code scales η by √(N/R)).
/// </summary>
/// <param name="Name">How η was chosen, e.g. "fixed(0.05)", "5/sqrt(N), N=150", "0.05*sqrt(N/R), N=150, R=19".</param>
/// <param name="Eta">η.</param>
public sealed record LearningRate(string Name, double Eta)
{
    /// <summary>A fixed η.</summary>
    public static LearningRate Fixed(double eta) => new(FormattableString.Invariant($"fixed({eta:G6})"), Check(eta));

    /// <summary>η = 5/√N (the paper's default).</summary>
    public static LearningRate FivePerSqrtN(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        return new(FormattableString.Invariant($"5/sqrt(N), N={n}"), 5.0 / Math.Sqrt(n));
    }

    /// <summary>η·√(N/R) (the bipedal code's scaling with the rank).</summary>
    public static LearningRate SqrtNOverR(double eta, int n, int r)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(r);
        return new(FormattableString.Invariant($"{eta:G6}*sqrt(N/R), N={n}, R={r}"), Check(eta) * Math.Sqrt((double)n / r));
    }

    /// <summary>
    /// η = step/‖D‖₂: the same largest step η·‖D‖₂ for every feedback D (so that ranks are compared at equal step size;
    /// ‖D‖₂ from <see cref="Feedback.Norms"/>).
    /// </summary>
    public static LearningRate PerFeedbackNorm(double step, double feedbackNorm)
    {
        if (!(feedbackNorm > 0) || !double.IsFinite(feedbackNorm)) throw new ArgumentOutOfRangeException(nameof(feedbackNorm), "||D||_2 must be finite and > 0");
        return new(FormattableString.Invariant($"{step:G6}/||D||_2, ||D||_2={feedbackNorm:G6}"), Check(step / feedbackNorm));
    }

    private static double Check(double eta)
        => double.IsFinite(eta) && eta > 0 ? eta : throw new ArgumentOutOfRangeException(nameof(eta), "η must be finite and > 0");

    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"{Name} (eta = {Eta:G6})");
}
