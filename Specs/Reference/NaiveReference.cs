using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Models;
using Sim.EventCore.Numerics;

namespace Sim.Specs.Reference;

/// <summary>
/// A deliberately naive, dense transcription of the grid model contract (docs/models/, docs/numerics.md),
/// written independently of the engine: spike history kept for every tick, synaptic input recomputed each tick as a
/// dense sum over (delay, source) from per-delay weight matrices, inputs regenerated from their definitions, one scalar
/// loop per neuron: each model's scalar reference step (<see cref="NeuronModelDefinition.ReferenceStep"/>), a plain
/// transcription of its page in docs/models/. Shares with the engines only what is the specification: the compiled
/// constants, the model's initial values and reference step, and the counter-based RNG.
/// </summary>
public static class NaiveReference
{
    public sealed record Result(List<(long Tick, int Neuron)> Spikes, Dictionary<string, double[]> FinalState);

    /// <param name="plasticity">
    /// Optional, called after the Threshold of every tick t with (t, state [population][variable][neuron] in the model
    /// frames, W_rec in q units [target, source]); it may rewrite W_rec, which then acts from tick t + 1 (the Plasticity
    /// phase of the contract).
    /// </param>
    public static Result Run(CompiledNetwork net, long ticks, int instance, Action<long, double[][][], double[,]>? plasticity = null)
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
        var wRecValue = new double[n, n];   // rows of populations without exact trace input: the float64 weights
        var tr = net.TraceSynapses;
        for (int i = 0; i < n; i++)
            for (int k = tr.RowStart[i]; k < tr.RowStart[i + 1]; k++) { wRec[i, tr.Source[k]] += tr.Q[k]; wRecValue[i, tr.Source[k]] += tr.QValue[k]; }

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

        // State: per population one array per stored variable, initial values from the model (the specification).
        var pops = net.Populations;
        var state = new double[pops.Length][][];
        var last = new long[n];
        Array.Fill(last, long.MinValue / 4);
        foreach (var p in pops)
        {
            state[p.Index] = [.. p.Model.StateVariables.Select(_ => new double[p.Size])];
            p.Model.Initialise(p, seed, instance, state[p.Index]);
        }
        var one = pops.Select(p => new double[p.Model.StateVariables.Count]).ToArray();
        double[] Gather(int pop, int j) { var a = one[pop]; for (int v = 0; v < a.Length; v++) a[v] = state[pop][v][j]; return a; }
        void Scatter(int pop, int j) { var a = one[pop]; for (int v = 0; v < a.Length; v++) state[pop][v][j] = a[v]; }

        var spikes = new List<(long, int)>();
        var spiked = new bool[ticks, n];
        var recIn = new double[n];
        var trace = new double[n];
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

            // Trace parts first, for every neuron, then the trace-coupled input W·trace' as a plain double sum.
            foreach (var p in pops)
                for (int j = 0; j < p.Size; j++) { p.Model.ReferenceTraces(p.Constants, j, Gather(p.Index, j)); Scatter(p.Index, j); }
            Array.Clear(trace);
            foreach (var p in pops)
                if (p.Model.CouplingTraceVariable >= 0)
                    for (int j = 0; j < p.Size; j++) trace[p.Offset + j] = state[p.Index][p.Model.CouplingTraceVariable][j];
            foreach (var p in pops)
            {
                if (!p.Model.TakesTraceInput) continue;
                if (!p.ExactTraceInput)
                {
                    // The unquantized comparison mode: float64 weights times the traces, sources ascending.
                    for (int j = 0; j < p.Size; j++)
                    {
                        double sum = 0;
                        for (int s = 0; s < n; s++) sum += wRecValue[p.Offset + j, s] * trace[s];
                        recIn[p.Offset + j] = sum;
                    }
                    continue;
                }
                double unit = Math.Pow(2, -(p.TraceWeightFractionBits + p.TraceInputFractionBits));
                double gIn = Math.Pow(2, p.TraceInputFractionBits);
                for (int j = 0; j < p.Size; j++)
                {
                    double sum = 0;
                    for (int s = 0; s < n; s++) sum += wRec[p.Offset + j, s] * (trace[s] * gIn);
                    recIn[p.Offset + j] = sum * unit;
                }
            }

            ulong noiseKey = CounterRng.Key(seed, RngStreams.EscapeNoise, (ulong)instance, (ulong)t);
            foreach (var p in pops)
            {
                double scale = Math.Pow(2, -p.WeightFractionBits);
                for (int j = 0; j < p.Size; j++)
                {
                    int i = p.Offset + j;
                    double drive = p.ConstantDrive[j];
                    foreach (var cur in p.Currents) drive = cur.Amplitude[j] * cur.ScaleAt(t) + drive;
                    double dv = p.NoiseDeltaV;
                    var input = new ReferenceInput(t, accE[i], accI[i], scale, p.HasDrive, drive, recIn[i], x => Fires(x, dv, noiseKey, i),
                        HasTraceInput: p.Model.TakesTraceInput && net.TraceSynapses.Count > 0);
                    var s = Gather(p.Index, j);
                    bool spike = p.Model.ReferenceStep(p.Constants, j, input, s, ref last[i]);
                    Scatter(p.Index, j);
                    if (spike) { spiked[t, i] = true; spikes.Add((t, i)); }
                }
                if (p.Model.FastCouplingOf(p.Constants) is { } fast)
                    foreach (int j in GreedyResolution(fast, state[p.Index]))
                    {
                        spiked[t, p.Offset + j] = true;
                        spikes.Add((t, p.Offset + j));
                    }
            }
            plasticity?.Invoke(t, state, wRec);
        }

        var final = new Dictionary<string, double[]>();
        foreach (var p in pops)
            for (int v = 0; v < p.Model.StateVariables.Count; v++)
            {
                var offset = p.Model.ReportOffset(p.Constants, v).ToArray();
                final[$"{p.Name}.{p.Model.StateVariables[v].Reported}"] = [.. state[p.Index][v].Select((x, j) => offset.Length == 0 ? x : x + offset[j])];
            }
        return new Result(spikes, final);
    }

    /// <summary>
    /// The greedy in-tick resolution of a fast coupling, transcribed from docs/models/ebn.md and docs/architecture.md
    /// ("Fast coupling") without the engine's kernel: all overshoots v − θ of unfired neurons, the largest positive one
    /// fires (the first index holding the maximum), every v takes w = q·2^-F of the firing neuron, its jump variable
    /// grows; until no unfired neuron is above threshold. Returns the neurons that fired, ascending.
    /// </summary>
    public static IEnumerable<int> GreedyResolution(FastCoupling fast, double[][] state)
    {
        int n = fast.Size;
        double[] v = state[fast.Variable], z = state[fast.SpikeVariable];
        double unit = Math.Pow(2, -fast.FractionBits);
        for (int i = 0; i < n; i++) z[i] = 0;
        while (true)
        {
            var over = new double[n];
            for (int i = 0; i < n; i++) over[i] = z[i] == 0 ? v[i] - fast.Threshold[i] : double.NaN;
            double max = double.NegativeInfinity;
            foreach (double o in over) if (o > max) max = o;
            if (!(max > 0)) break;
            int j = Array.IndexOf(over, max);
            z[j] = 1;
            if (fast.JumpVariable >= 0) state[fast.JumpVariable][j] += fast.Jump;
            for (int i = 0; i < n; i++) v[i] += fast.Q[(long)j * n + i] * unit;
        }
        return [.. Enumerable.Range(0, n).Where(i => z[i] != 0)];
    }

    private static bool Fires(double vMinusTheta, double deltaV, ulong noiseKey, int id)
    {
        if (deltaV <= 0) return vMinusTheta > 0;
        ulong w = CounterRng.Word(noiseKey, (ulong)id);
        double logit = Math.Log((((w >> 48) + 0.5) / 65536.0) / (1 - ((w >> 48) + 0.5) / 65536.0));
        return vMinusTheta / deltaV > logit;
    }
}
