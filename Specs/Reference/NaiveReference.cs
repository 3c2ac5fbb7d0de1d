using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Numerics;

namespace Sim.Specs.Reference;

/// <summary>
/// A deliberately naive, dense transcription of the grid model contract (MODELS.md §1, DESIGN.md numerics contract),
/// written independently of the engine: spike history kept for every tick, synaptic input recomputed each tick as a
/// dense sum over (delay, source) from per-delay weight matrices, inputs regenerated from their definitions, one scalar
/// loop per neuron in the order the model text gives. Shares with the engine only the compiled constants and the
/// counter-based RNG, which are the specification.
/// </summary>
public static class NaiveReference
{
    public sealed record Result(List<(long Tick, int Neuron)> Spikes, Dictionary<string, double[]> FinalState);

    /// <param name="plasticity">
    /// Optional, called after the Threshold of every tick t with (t, v, z, ej, W_rec in q units [target, source]) over
    /// global neuron ids; it may rewrite W_rec, which then acts from tick t + 1 (the Plasticity phase of the contract).
    /// </param>
    public static Result Run(CompiledNetwork net, long ticks, int instance, Action<long, double[], double[], double[], double[,]>? plasticity = null)
    {
        int n = net.NeuronCount, nSrc = net.SourceCount;
        double dt = net.DtMs;
        ulong seed = net.Seed;
        int dMax = net.MaxDelayTicks;

        // Dense weights W[d][target, source] (q units), exc and inh separately.
        var wExc = new double[dMax + 1, n, nSrc];
        var wInh = new double[dMax + 1, n, nSrc];
        var syn = net.Synapses;
        for (int s = 0; s < nSrc; s++)
            for (int g = syn.SegmentOffsets[s]; g < syn.SegmentOffsets[s + 1]; g++)
                for (int k = syn.SegmentStart[g]; k < syn.SegmentStart[g + 1]; k++)
                {
                    if (syn.Q[k] >= 0) wExc[syn.SegmentDelay[g], syn.Target[k], s] += syn.Q[k];
                    else wInh[syn.SegmentDelay[g], syn.Target[k], s] += syn.Q[k];
                }
        var wRec = new double[n, n];
        var tr = net.TraceSynapses;
        for (int i = 0; i < n; i++)
            for (int k = tr.RowStart[i]; k < tr.RowStart[i + 1]; k++) wRec[i, tr.Source[k]] += tr.Q[k];

        // Input spike counts for every tick, from their definitions.
        var counts = new int[ticks, nSrc];
        foreach (var inp in net.Inputs)
        {
            switch (inp.Spec)
            {
                case PoissonInput pi:
                    for (int s = 0; s < inp.Size; s++)
                    {
                        if (inp.RatePerMs![s] <= 0) continue;
                        double t = pi.StartMs;
                        for (long k = 0; ; k++)
                        {
                            t = inp.NextPoissonTimeMs(seed, instance, s, k, t);
                            if (pi.StopMs is { } stop && t >= stop) break;
                            long tick = (long)Math.Floor(t / dt);
                            if (tick >= ticks) break;
                            counts[tick, inp.Offset + s]++;
                        }
                    }
                    break;
                case SpikeTimesInput st:
                    for (int k = 0; k < st.TimesMs.Length; k++)
                    {
                        long tick = (long)Math.Round(st.TimesMs[k] / dt, MidpointRounding.AwayFromZero);
                        if (tick < ticks) counts[tick, inp.Offset + st.Indices[k]]++;
                    }
                    break;
                case ClockInput:
                    for (long t = 0; t < ticks; t++)
                    {
                        long phase = inp.ClockPeriodTicks > 0 ? t % inp.ClockPeriodTicks : t;
                        long ch = phase / inp.ClockSpanTicks;
                        if (ch < inp.Size) counts[t, inp.Offset + (int)ch]++;
                    }
                    break;
            }
        }

        // State.
        var u = new double[n]; var ge = new double[n]; var gi = new double[n];
        var z = new double[n]; var hz = new double[n]; var ej = new double[n];
        var last = new long[n];
        Array.Fill(last, long.MinValue / 4);
        foreach (var p in net.Populations)
        {
            double[] Init(Value v, string name, Func<int, double>? minus = null)
            {
                var a = new double[p.Size];
                ulong key = CounterRng.Key(seed, RngStreams.PopulationValues(p.Index, "init:" + name), (ulong)instance, 0);
                for (int i = 0; i < p.Size; i++) a[i] = v.Draw(key, i) - (minus?.Invoke(i) ?? 0);
                return a;
            }
            switch (p.Spec.Parameters)
            {
                case LifExpParameters q:
                {
                    var c = (LifExpConstants)p.Constants;
                    if (q.VInitMv is not null) Init(q.VInitMv, "v_init_mv", i => c.ELeakMv[i]).CopyTo(u, p.Offset);
                    Init(q.GExcInitMv, "g_exc_init_mv").CopyTo(ge, p.Offset);
                    Init(q.GInhInitMv, "g_inh_init_mv").CopyTo(gi, p.Offset);
                    break;
                }
                case LifDeltaParameters q:
                {
                    var c = (LifDeltaConstants)p.Constants;
                    if (q.VInitMv is not null) Init(q.VInitMv, "v_init_mv", i => c.ELeakMv[i]).CopyTo(u, p.Offset);
                    break;
                }
                case GoalLifParameters q:
                    Init(q.VInit, "v_init").CopyTo(u, p.Offset);
                    break;
            }
        }

        var spikes = new List<(long, int)>();
        var spiked = new bool[ticks, n];
        var recIn = new double[n];
        for (long t = 0; t < ticks; t++)
        {
            // Delivered input of tick t: dense sum over delays and sources of the spikes emitted at t − d.
            var accE = new double[n];
            var accI = new double[n];
            for (int d = 1; d <= dMax; d++)
            {
                long te = t - d;
                if (te < 0) continue;
                for (int i = 0; i < n; i++)
                    for (int s = 0; s < nSrc; s++)
                    {
                        double c = s < n ? (spiked[te, s] ? 1 : 0) : counts[te, s];
                        if (c == 0) continue;
                        accE[i] += wExc[d, i, s] * c;
                        accI[i] += wInh[d, i, s] * c;
                    }
            }

            // GoalLif traces first, for every GoalLif neuron, then the recurrent input W_rec·hz'.
            foreach (var p in net.Populations)
            {
                if (p.Constants is not GoalLifConstants c) continue;
                for (int j = 0; j < p.Size; j++)
                {
                    int i = p.Offset + j;
                    hz[i] = Q(hz[i] * c.AlphaSyn[j] + z[i] * c.OneMinusAlphaSyn[j], c);
                    ej[i] = Q(ej[i] * c.AlphaMem[j] + hz[i] * c.OneMinusAlphaMem[j], c);
                }
            }
            foreach (var p in net.Populations)
            {
                if (p.Constants is not GoalLifConstants) continue;
                double unit = Math.Pow(2, -(p.TraceWeightFractionBits + p.TraceInputFractionBits));
                double gIn = Math.Pow(2, p.TraceInputFractionBits);
                for (int j = 0; j < p.Size; j++)
                {
                    double sum = 0;
                    for (int s = 0; s < n; s++) sum += wRec[p.Offset + j, s] * (hz[s] * gIn);
                    recIn[p.Offset + j] = sum * unit;
                }
            }

            ulong noiseKey = CounterRng.Key(seed, RngStreams.EscapeNoise, (ulong)instance, (ulong)t);
            foreach (var p in net.Populations)
            {
                double scale = Math.Pow(2, -p.WeightFractionBits);
                for (int j = 0; j < p.Size; j++)
                {
                    int i = p.Offset + j;
                    double drive = p.ConstantDrive[j];
                    foreach (var cur in p.Currents) drive = cur.Amplitude[j] * cur.ScaleAt(t) + drive;
                    bool spike = false;
                    switch (p.Constants)
                    {
                        case LifExpConstants c:
                        {
                            ge[i] = accE[i] * scale + ge[i];
                            gi[i] = accI[i] * scale + gi[i];
                            double a = u[i] * c.AlphaMem[j];
                            a = ge[i] * c.PExc[j] + a;
                            a = gi[i] * c.PInh[j] + a;
                            if (p.HasDrive) a = drive * c.DriveGain[j] + a;
                            ge[i] = ge[i] * c.AlphaExc[j];
                            gi[i] = gi[i] * c.AlphaInh[j];
                            if (t - last[i] >= c.RefractoryTicks[j])
                            {
                                u[i] = a;
                                spike = Fires(u[i] - c.ThetaU[j], p.NoiseDeltaV, noiseKey, i);
                                if (spike) { u[i] = c.ResetU[j]; last[i] = t; }
                            }
                            break;
                        }
                        case LifDeltaConstants c:
                        {
                            double jump = (accE[i] + accI[i]) * scale;
                            double a = u[i] * c.AlphaMem[j];
                            if (p.HasDrive) a = drive * c.DriveGain[j] + a;
                            a = a + jump;
                            if (t - last[i] >= c.RefractoryTicks[j])
                            {
                                u[i] = a;
                                spike = Fires(u[i] - c.ThetaU[j], p.NoiseDeltaV, noiseKey, i);
                                if (spike) { u[i] = c.ResetU[j]; last[i] = t; }
                            }
                            break;
                        }
                        case GoalLifConstants c:
                        {
                            double input = (accE[i] + accI[i]) * scale;
                            double cur = input + recIn[i];
                            cur = cur + c.Bias[j];
                            if (p.HasDrive) cur = cur + drive;
                            double a = u[i] * c.AlphaMem[j];
                            a = cur * c.OneMinusAlphaMem[j] + a;
                            a = c.ResetJump[j] * z[i] + a;
                            u[i] = a;
                            spike = Fires(u[i] - c.Threshold[j], p.NoiseDeltaV, noiseKey, i);
                            z[i] = spike ? 1 : 0;
                            break;
                        }
                    }
                    if (spike) { spiked[t, i] = true; spikes.Add((t, i)); }
                }
            }
            plasticity?.Invoke(t, u, z, ej, wRec);
        }

        var final = new Dictionary<string, double[]>();
        foreach (var p in net.Populations)
        {
            var idx = Enumerable.Range(p.Offset, p.Size);
            switch (p.Constants)
            {
                case LifExpConstants c:
                    final[p.Name + ".v_mv"] = [.. idx.Select(i => u[i] + c.ELeakMv[i - p.Offset])];
                    final[p.Name + ".g_exc_mv"] = [.. idx.Select(i => ge[i])];
                    final[p.Name + ".g_inh_mv"] = [.. idx.Select(i => gi[i])];
                    break;
                case LifDeltaConstants c:
                    final[p.Name + ".v_mv"] = [.. idx.Select(i => u[i] + c.ELeakMv[i - p.Offset])];
                    break;
                case GoalLifConstants:
                    final[p.Name + ".v"] = [.. idx.Select(i => u[i])];
                    final[p.Name + ".z"] = [.. idx.Select(i => z[i])];
                    final[p.Name + ".hz"] = [.. idx.Select(i => hz[i])];
                    final[p.Name + ".ej"] = [.. idx.Select(i => ej[i])];
                    break;
            }
        }
        return new Result(spikes, final);
    }

    private static double Q(double x, GoalLifConstants c) => Math.Round(x * c.TraceScale, MidpointRounding.ToEven) * c.TraceUnit;

    private static bool Fires(double vMinusTheta, double deltaV, ulong noiseKey, int id)
    {
        if (deltaV <= 0) return vMinusTheta > 0;
        ulong w = CounterRng.Word(noiseKey, (ulong)id);
        double logit = Math.Log((((w >> 48) + 0.5) / 65536.0) / (1 - ((w >> 48) + 0.5) / 65536.0));
        return vMinusTheta / deltaV > logit;
    }
}
