using Sim.Plasticity;
using Xunit;

namespace Sim.Specs.Plasticity;

/// <summary>Feedback matrices (docs/rules/rank_r.md step 3), the spike filter and the optimizers.</summary>
public class FeedbackAndOptimizerTests
{
    private static double[] ReadoutWeights(int o, int n)
    {
        var rng = new Random(5);
        return [.. Enumerable.Range(0, o * n).Select(_ => (rng.NextDouble() - 0.5) / Math.Sqrt(n))];
    }

    /// <summary>Numerical rank by Gaussian elimination with full pivoting (pivots below tol·max are zero).</summary>
    private static int Rank(double[] m, int n, double tol = 1e-9)
    {
        var a = (double[])m.Clone();
        double max = a.Max(Math.Abs);
        int rank = 0;
        var usedRow = new bool[n]; var usedCol = new bool[n];
        for (int step = 0; step < n; step++)
        {
            int pr = -1, pc = -1; double best = 0;
            for (int i = 0; i < n; i++)
                if (!usedRow[i])
                    for (int j = 0; j < n; j++)
                        if (!usedCol[j] && Math.Abs(a[i * n + j]) > best) { best = Math.Abs(a[i * n + j]); pr = i; pc = j; }
            if (best <= tol * max) break;
            rank++; usedRow[pr] = usedCol[pc] = true;
            for (int i = 0; i < n; i++)
            {
                if (usedRow[i]) continue;
                double f = a[i * n + pc] / a[pr * n + pc];
                for (int j = 0; j < n; j++) a[i * n + j] -= f * a[pr * n + j];
            }
        }
        return rank;
    }

    [Theory]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(19)]
    [InlineData(30)]
    public void RankRFeedbackHasRankR(int r)
    {
        const int n = 30, o = 3;
        var wOut = ReadoutWeights(o, n);
        var b = Feedback.Matrix(wOut, o, n, seed: 9);
        var d = Feedback.RankR(b, n, r);
        Assert.Equal(r, Rank(d, n));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) Assert.Equal(d[i * n + j], d[j * n + i]);
    }

    [Fact]
    public void FeedbackNormsAreTheLargestEigenvalueAndTheTrace()
    {
        const int n = 12;
        var diag = new double[n * n];
        for (int i = 0; i < n; i++) diag[i * n + i] = i + 1;
        var (norm, trace) = Feedback.Norms(diag, n);
        Assert.Equal(n, norm, 1e-9);
        Assert.Equal(n * (n + 1) / 2.0, trace, 1e-12);
        // Rank one: D = b·bᵀ has the single non-zero eigenvalue ‖b‖² = tr D.
        var b = new double[n];
        for (int i = 0; i < n; i++) b[i] = Math.Sin(i + 1.0);
        var d = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) d[i * n + j] = b[i] * b[j];
        double b2 = b.Sum(x => x * x);
        (norm, trace) = Feedback.Norms(d, n);
        Assert.Equal(b2, norm, 1e-9);
        Assert.Equal(b2, trace, 1e-12);
        Assert.Equal((0.0, 0.0), Feedback.Norms(new double[n * n], n));
    }

    [Fact]
    public void FeedbackStartsWithTheReadoutTransposedAndScalesItsRandomPart()
    {
        const int n = 60, o = 3;
        var wOut = ReadoutWeights(o, n);
        var b = Feedback.Matrix(wOut, o, n, seed: 9);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < o; k++) Assert.Equal(wOut[k * n + i], b[i * n + k]);
        var rest = Enumerable.Range(0, n).SelectMany(i => Enumerable.Range(o, n - o).Select(c => b[i * n + c])).ToArray();
        double expected = 2 * Feedback.StandardDeviation(wOut);
        Assert.InRange(Feedback.StandardDeviation(rest), 0.95 * expected, 1.05 * expected);
        Assert.Equal(b, Feedback.Matrix(wOut, o, n, seed: 9));
        Assert.NotEqual(b, Feedback.Matrix(wOut, o, n, seed: 10));
    }

    [Fact]
    public void LttsFeedbackIsTheMeanSquaredRowNormTimesIdentity()
    {
        const int n = 20, o = 3;
        var b = Feedback.Matrix(ReadoutWeights(o, n), o, n, seed: 2);
        var d = Feedback.Ltts(b, n);
        double mean = Enumerable.Range(0, n).Average(i => Enumerable.Range(0, n).Sum(c => b[i * n + c] * b[i * n + c]));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i == j) Assert.Equal(mean, d[i * n + j], 12);
                else Assert.Equal(0.0, d[i * n + j]);
        Assert.Equal(n, Rank(d, n));
    }

    [Fact]
    public void SpikeFilterFollowsTheExponentialRecursion()
    {
        var f = new SpikeFilter(2, 1.0, 4.64);
        Assert.Equal(Math.Exp(-1 / 4.64), f.Alpha);
        f.Step([1, 0]);
        f.Step([0, 1]);
        double a = f.Alpha;
        Assert.Equal((1 - a) * a, f.Value[0], 15);
        Assert.Equal(1 - a, f.Value[1], 15);
        var train = SpikeFilter.FilterTrain([[1.0, 0.0], [0.0, 1.0]], 2, 1.0, 4.64);
        Assert.Equal(f.Value.ToArray(), train[1]);
        f.Reset();
        Assert.All(f.Value.ToArray(), x => Assert.Equal(0.0, x));
    }

    [Fact]
    public void AdamMatchesAHandComputedTwoSteps()
    {
        // β1 = 0.9, β2 = 0.999, ε = 1e-8, η = 0.1; d = (0.5, −2) then (0.25, 1).
        // Step 1: m̂ = d, v̂ = d², w += η·d/(|d| + ε) → (1.099999998, −0.5999999995).
        // Step 2: m = (0.07, −0.08), v = (0.00031225, 0.004996); m̂ = m/0.19, v̂ = v/0.001999 → (1.1932179595225376, −0.6266337032975685).
        var adam = new Adam(LearningRate.Fixed(0.1));
        double[] w = [1.0, -0.5];
        adam.Step(w, [0.5, -2.0]);
        Assert.Equal(1.099999998, w[0], 15);
        Assert.Equal(-0.5999999995, w[1], 15);
        adam.Step(w, [0.25, 1.0]);
        Assert.Equal(1.1932179595225376, w[0], 14);
        Assert.Equal(-0.6266337032975685, w[1], 14);
        Assert.Equal(2, adam.Steps);
        adam.Reset();
        Assert.Equal(0, adam.Steps);
    }

    [Fact]
    public void SgdAddsEtaTimesTheDirection()
    {
        var sgd = new Sgd(LearningRate.Fixed(0.5));
        double[] w = [1, 2];
        sgd.Step(w, [0.25, -1]);
        Assert.Equal([1.125, 1.5], w);
        Assert.Contains("fixed(0.5)", sgd.Name);
    }
}

/// <summary>The output-space form of the rule (Eq. 8).</summary>
public class OutputSpaceFeedbackTests
{
    [Fact]
    public void ProjectionEqualsANaiveTranscriptionAndMatchesTheNeuronSpaceFormForAnExactReadout()
    {
        const int n = 16, o = 3, r = 7;
        var rng = new Random(4);
        var wOut = Enumerable.Range(0, o * n).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var b = Feedback.Matrix(wOut, o, n, seed: 1);
        var fb = new OutputSpaceFeedback(b, n, r);
        var sStar = new[] { Enumerable.Range(0, n).Select(_ => rng.NextDouble()).ToArray() };
        var s = Enumerable.Range(0, n).Select(_ => rng.NextDouble()).ToArray();

        // y* produced exactly by the readout: Y* = B⁺ᵀ·ŝ*, so e = B⁺(B⁺ᵀ(ŝ* − ŝ)) ≈ D·(ŝ* − ŝ).
        var y = new[] { Enumerable.Range(0, o).Select(k => Enumerable.Range(0, n).Sum(j => wOut[k * n + j] * sStar[0][j])).ToArray() };
        var target = fb.Targets(y, sStar);
        Assert.Equal(r, target[0].Length);
        Assert.Equal(y[0], target[0][..o]);
        var e = new double[n];
        fb.Project(target[0], s, e);

        // Naive transcription of Eq. 8.
        var c = new double[r];
        for (int q = 0; q < r; q++)
        {
            double acc = 0;
            for (int j = 0; j < n; j++) acc += b[j * n + q] * s[j];
            c[q] = target[0][q] - acc;
        }
        for (int i = 0; i < n; i++)
        {
            double acc = 0;
            for (int q = 0; q < r; q++) acc += b[i * n + q] * c[q];
            Assert.Equal(acc, e[i]);
        }

        var dForm = new NeuronSpaceFeedback(Feedback.RankR(b, n, r), n);
        var e2 = new double[n];
        dForm.Project(sStar[0], s, e2);
        for (int i = 0; i < n; i++) Assert.Equal(e2[i], e[i], 12);
    }
}
