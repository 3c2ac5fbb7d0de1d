// The readout limit of the store-and-recall task (docs/rules/rank_r.md step 2) at τ⋆ = 4.64 dt: the recipe (full-batch
// gradient descent, 5000 iterations, lr 0.0025), the same with 50 000 iterations, and the least-squares optimum.
// Run: dotnet run -c Release --project scripts/readout-limit [-- SEEDS [--authors] [--no-50k]]
//      (default seeds 1–3 with Sim's conventions, about 1 minute; not part of Sim.sln)
using Sim.Experiments;
using Sim.Plasticity;
int seeds = args.Length > 0 && int.TryParse(args[0], out int sArg) ? sArg : 3;
bool authors = args.Contains("--authors"), no50k = args.Contains("--no-50k");
Console.WriteLine("seed,target_spikes,silent_neurons,target_min,target_ms,gd5000,gd50000,least_squares");
for (ulong seed = 1; seed <= (ulong)seeds; seed++)
{
    var o = new StoreRecallOptions { Seed = seed };
    if (authors) o = o.WithAuthorsConventions();
    var task = new StoreRecall(o);
    var z = task.TargetSpikes();
    int n = o.Neurons, T = o.Steps, m = o.Outputs;
    var s = SpikeFilter.FilterTrain(z, n, 1.0, o.TauStarDt);
    double gd5k = task.Mse(task.TrainReadout(s), s);
    double gd50k = no50k ? double.NaN : task.Mse(new StoreRecall(o with { ReadoutIterations = 50000 }).TrainReadout(s), s);
    // LS: minimise Σ_t ||y*_t − W s_t||² → W = Y Sᵀ (S Sᵀ + λI)⁻¹, solved per output by Cholesky.
    var A = new double[n, n];
    for (int t = 0; t < T; t++) for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) A[i, j] += s[t][i] * s[t][j];
    for (int i = 0; i < n; i++) A[i, i] += 1e-9;
    var L = new double[n, n];
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++)
        {
            double sum = A[i, j];
            for (int k = 0; k < j; k++) sum -= L[i, k] * L[j, k];
            L[i, j] = i == j ? Math.Sqrt(Math.Max(sum, 1e-300)) : sum / L[j, j];
        }
    var w = new double[m * n];
    for (int k = 0; k < m; k++)
    {
        var b = new double[n];
        for (int t = 0; t < T; t++) for (int i = 0; i < n; i++) b[i] += task.Target[t][k] * s[t][i];
        var y = new double[n];
        for (int i = 0; i < n; i++) { double sum = b[i]; for (int j = 0; j < i; j++) sum -= L[i, j] * y[j]; y[i] = sum / L[i, i]; }
        for (int i = n - 1; i >= 0; i--) { double sum = y[i]; for (int j = i + 1; j < n; j++) sum -= L[j, i] * w[k * n + j]; w[k * n + i] = sum / L[i, i]; }
    }
    double ls = task.Mse(w, s);
    long spikes = z.Sum(r => (long)r.Sum());
    int silent = Enumerable.Range(0, n).Count(i => z.All(r => r[i] == 0));
    Console.WriteLine(FormattableString.Invariant($"{seed},{spikes},{silent},{task.Target.Min(r => r.Min()):G4},{task.Target.Average(r => r.Average(v => v * v)):G4},{gd5k:G4},{gd50k:G4},{ls:G4}"));
}
