using Sim.Experiments;
using Sim.Plasticity;
// Geometry of the rank-R feedback of the store-and-recall task (docs/rules/rank_r.md, docs/tasks/store_recall.md), seeds 1 and 2, τ⋆ = 4.64 dt:
// ‖D‖₂ and tr D (Feedback.Norms, as recorded by the sweep), the gain ‖D·ŝ*‖/‖ŝ*‖ (mean over t) and the share of D·ŝ* that lies in the span of
// the readout rows W_out (the only directions that change the output directly).
// Run: dotnet run -c Release --project scripts/feedback-geometry      (about 10 s; not part of Sim.sln)
foreach (ulong seed in new ulong[] { 1, 2 })
{
    var options = new StoreRecallOptions { Seed = seed };   // N = 150, T = 150, 3 outputs, τ⋆ = 4.64 dt (the defaults)
    int n = options.Neurons, outputs = options.Outputs;
    var task = new StoreRecall(options);
    var z = task.TargetSpikes();
    var s = SpikeFilter.FilterTrain(z, n, 1.0, options.TauStarDt);
    var wOut = task.TrainReadout(s);
    var b = Feedback.Matrix(wOut, outputs, n, seed, 0);
    var readoutBasis = OrthonormalRows(wOut, outputs, n);
    Console.WriteLine($"seed {seed}: std(W_out) = {Feedback.StandardDeviation(wOut):G4}");
    Console.WriteLine("R      ||D||_2     tr(D)    ||D s*||/||s*||  (mean over t)   ||P_out D s*|| share");
    foreach (int r in new[] { 3, 19, 35, 52, 101, 150, -1 })
    {
        var d = r > 0 ? Feedback.RankR(b, n, r) : Feedback.Ltts(b, n);
        var (lambda, tr) = Feedback.Norms(d, n);
        // Initial error of a free network with W_rec = 0 is roughly s* itself (the untrained net does not reproduce z*): use err = s*.
        double gain = 0, outShare = 0; int cnt = 0;
        foreach (var row in s)
        {
            double norm = Math.Sqrt(row.Sum(x => x * x)); if (norm == 0) continue;
            var e = new double[n];
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) e[i] += d[i * n + j] * row[j];
            double en = Math.Sqrt(e.Sum(x => x * x));
            gain += en / norm; cnt++;
            // share of D·err along the readout rows (span of W_out^T)
            double proj = 0;
            foreach (var qr in readoutBasis) { double c = 0; for (int i = 0; i < n; i++) c += qr[i] * e[i]; proj += c * c; }
            outShare += Math.Sqrt(proj) / Math.Max(en, 1e-300);
        }
        Console.WriteLine($"{(r > 0 ? r.ToString() : "LTTS"),-6} {lambda,9:G4} {tr,9:G4} {gain / cnt,12:G4} {outShare / cnt,22:G4}");
    }
}

static double[][] OrthonormalRows(double[] w, int m, int n)
{
    var q = new List<double[]>();
    for (int k = 0; k < m; k++)
    {
        var v = w.AsSpan(k * n, n).ToArray();
        foreach (var u in q) { double c = 0; for (int i = 0; i < n; i++) c += u[i] * v[i]; for (int i = 0; i < n; i++) v[i] -= c * u[i]; }
        double nn = Math.Sqrt(v.Sum(x => x * x)); for (int i = 0; i < n; i++) v[i] /= nn;
        q.Add(v);
    }
    return [.. q];
}
