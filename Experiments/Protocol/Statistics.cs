namespace Sim.Experiments;

/// <summary>Summary statistics shared by the tasks' reports.</summary>
public static class Statistics
{
    /// <summary>Sample standard deviation (n − 1 in the denominator); 0 for fewer than two values.</summary>
    public static double SampleSd(IReadOnlyList<double> v)
    {
        if (v.Count < 2) return 0;
        double m = v.Average();
        return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Count - 1));
    }
}
