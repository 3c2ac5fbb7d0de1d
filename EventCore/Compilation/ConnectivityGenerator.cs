using Sim.EventCore.Description;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Compilation;

/// <summary>
/// Draws the (pre, post) pairs of a projection from its connectivity rule with the counter-based RNG (keyed by seed,
/// projection and pre or post index, so the pairs do not depend on the order anything is visited in): all-to-all,
/// one-to-one, explicit pairs, Bernoulli p by geometric skipping (cost per synapse), fixed in-degree with or without
/// repeats (each post's inputs sorted).
/// </summary>
internal static class ConnectivityGenerator
{
    public static void Generate(ProjectionSpec pr, int pi, ulong seed, int nPre, int nPost, bool sameGroup, Action<int, int> add)
    {
        switch (pr.Connectivity)
        {
            case Connectivity.AllToAll a:
                for (int i = 0; i < nPre; i++)
                    for (int j = 0; j < nPost; j++)
                        if (a.Autapses || !sameGroup || i != j) add(i, j);
                break;
            case Connectivity.OneToOne:
                for (int i = 0; i < nPre; i++) add(i, i);
                break;
            case Connectivity.PairList pl:
                for (int k = 0; k < pl.Pre.Length; k++) add(pl.Pre[k], pl.Post[k]);
                break;
            case Connectivity.FixedProbability fp:
                if (fp.P <= 0) break;
                double logQ = fp.P >= 1 ? double.NegativeInfinity : Math.Log(1 - fp.P);
                // Below p ≈ 1.1e-16, 1 − p rounds to 1 and log(1 − p) to 0 (the skip would be −∞ and the loop endless; found
                // by fuzzing): log(1 − p) = −p − p²/2 − … is −p to the last bit there. Every larger p keeps log(1 − p), so
                // existing networks keep their synapses.
                if (logQ == 0) logQ = -fp.P;
                for (int i = 0; i < nPre; i++)
                {
                    // Geometric skipping (Bernoulli trials per pair, cost per synapse): gap ~ Geom(p).
                    ulong key = CounterRng.Key(seed, RngStreams.Connectivity(pi), 0, (ulong)i);
                    long j = -1;
                    for (ulong c = 0; ; c++)
                    {
                        double skip = fp.P >= 1 ? 0 : Math.Floor(Math.Log(CounterRng.UniformOpen0(CounterRng.Word(key, c))) / logQ);
                        if (!(j + 1 + skip < nPost)) break;   // also a NaN skip
                        j += 1 + (long)skip;
                        if (!fp.Autapses && sameGroup && j == i) continue;
                        add(i, (int)j);
                    }
                }
                break;
            case Connectivity.FixedInDegree fi:
                var taken = fi.Multapses ? null : new bool[nPre];
                var chosen = new List<int>(fi.K);
                for (int j = 0; j < nPost; j++)
                {
                    ulong key = CounterRng.Key(seed, RngStreams.Connectivity(pi), 1, (ulong)j);
                    chosen.Clear();
                    for (ulong c = 0; chosen.Count < fi.K; c++)
                    {
                        int i = (int)(CounterRng.Uniform01(CounterRng.Word(key, c)) * nPre);
                        if (!fi.Autapses && sameGroup && i == j) continue;
                        if (taken is not null) { if (taken[i]) continue; taken[i] = true; }
                        chosen.Add(i);
                    }
                    if (taken is not null) foreach (int i in chosen) taken[i] = false;
                    chosen.Sort();
                    foreach (int i in chosen) add(i, j);
                }
                break;
        }
    }
}
