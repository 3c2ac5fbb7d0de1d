using Sim.EventCore.Description;
using Sim.EventCore.Models;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Compilation;

/// <summary>
/// Turns a validated <see cref="NetworkSpec"/> into a <see cref="CompiledNetwork"/>: draws connectivity, weights,
/// delays and per-neuron parameters once from the counter-based RNG, rounds delays and refractory periods to ticks,
/// puts weights on their fixed-point grid and computes every propagator (exp) once, in C#.
/// Before allocating synapses it estimates the memory they need and refuses networks that would not fit.
/// </summary>
public static class NetworkCompiler
{
    /// <summary>Compiles; throws <see cref="SpecException"/> for an invalid or too-large network.</summary>
    /// <param name="spec">The description.</param>
    /// <param name="memoryBudgetBytes">Memory the compiled network and one instance's state may use; defaults to 80 % of what the GC reports available.</param>
    /// <param name="exactDelays">Also keep each synapse's delay in ms before rounding (<see cref="SynapseTable.DelayMs"/>), for continuous-time engines.</param>
    public static CompiledNetwork Compile(NetworkSpec spec, long? memoryBudgetBytes = null, bool exactDelays = false)
    {
        spec.EnsureValid();
        double dt = spec.Run.DtMs;
        ulong seed = spec.Run.Seed;
        long budget = Engine.MemoryBudget.Resolve(memoryBudgetBytes);

        // Layout.
        var popIndex = new Dictionary<string, int>();
        var offsets = new int[spec.Populations.Count];
        int n = 0;
        for (int p = 0; p < spec.Populations.Count; p++) { popIndex[spec.Populations[p].Name] = p; offsets[p] = n; n += spec.Populations[p].Size; }
        var inputIndex = new Dictionary<string, int>();
        var inputOffsets = new int[spec.Inputs.Count];
        int nSrc = n;
        for (int i = 0; i < spec.Inputs.Count; i++) { inputIndex[spec.Inputs[i].Name] = i; inputOffsets[i] = nSrc; nSrc += spec.Inputs[i].Size; }

        var (spikeExpected, traceExpected, compileBytes) = EstimateMemory(spec, popIndex, inputIndex, n, nSrc, budget, exactDelays);

        // Synapses, drawn per projection in spec order.
        var spikeSyn = new SynapseTableBuilder.SynapseBuffer(spikeExpected, exactDelays);
        var traceSyn = new SynapseTableBuilder.SynapseBuffer(traceExpected, exactDelays: false);
        for (int pi = 0; pi < spec.Projections.Count; pi++)
        {
            var pr = spec.Projections[pi];
            int tp = popIndex[pr.Target];
            bool srcIsPop = popIndex.TryGetValue(pr.Source, out int sp);
            int srcOffset = srcIsPop ? offsets[sp] : inputOffsets[inputIndex[pr.Source]];
            int nPre = srcIsPop ? spec.Populations[sp].Size : spec.Inputs[inputIndex[pr.Source]].Size;
            int nPost = spec.Populations[tp].Size;
            bool trace = srcIsPop && NetworkSpecValidator.IsTraceCoupled(spec.Populations[sp], spec.Populations[tp]);
            var buf = trace ? traceSyn : spikeSyn;
            int first = buf.Count;
            ConnectivityGenerator.Generate(pr, pi, seed, nPre, nPost, srcIsPop && pr.Source == pr.Target, (pre, post) => buf.Add(srcOffset + pre, offsets[tp] + post, pi));
            ulong wKey = CounterRng.Key(seed, RngStreams.Weights(pi), 0, 0);
            ulong dKey = CounterRng.Key(seed, RngStreams.Delays(pi), 0, 0);
            for (int k = first; k < buf.Count; k++)
            {
                double w = pr.Weight.Draw(wKey, k - first);
                if (!double.IsFinite(w)) throw Error(spec, $"projections[{pi}].weight", $"drew a non-finite weight {w}");
                buf.Weight[k] = w;
                double d = pr.DelayMs.Draw(dKey, k - first);
                long ticks = TimeGrid.Ticks(d, dt);
                if (!double.IsFinite(d) || ticks < 1) throw Error(spec, $"projections[{pi}].delay_ms", $"drew delay {Value.Fmt(d)} ms, below one tick (dt = {Value.Fmt(dt)} ms)");
                if (ticks > 1 << 20) throw Error(spec, $"projections[{pi}].delay_ms", $"delay {Value.Fmt(d)} ms is {ticks} ticks; at most 2^20 ticks are supported");
                buf.Delay[k] = (int)ticks;
                if (buf.DelayMs.Length > 0) buf.DelayMs[k] = d;
            }
        }

        // Weight grids per target population.
        var popBits = new int[spec.Populations.Count];
        var traceBits = new int[spec.Populations.Count];
        var traceInputBits = new int[spec.Populations.Count];
        var exactTrace = new bool[spec.Populations.Count];
        var traceBound = new double[spec.Populations.Count];
        double dtMs = spec.Run.DtMs;
        for (int p = 0; p < spec.Populations.Count; p++)
        {
            // G_in: the finest grid among the traces read by this population (its own exported trace included, as before);
            // the bound: the largest value any of those traces can reach (1 for GoalLif's hz).
            var own = spec.Populations[p].Parameters;
            bool ownTrace = own.Model.TakesTraceInput && own.Model.CouplingTraceVariable >= 0;
            traceInputBits[p] = ownTrace ? own.Model.CouplingTraceBits(own) : 0;
            traceBound[p] = ownTrace ? own.Model.CouplingTraceBound(own, dtMs) : 1.0;
            exactTrace[p] = true;
            foreach (var pr in spec.Projections)
                if (popIndex[pr.Target] == p && popIndex.TryGetValue(pr.Source, out int sp) && NetworkSpecValidator.IsTraceCoupled(spec.Populations[sp], spec.Populations[p]))
                {
                    var src = spec.Populations[sp].Parameters;
                    int bits = src.Model.CouplingTraceBits(src);
                    traceInputBits[p] = Math.Max(traceInputBits[p], bits);
                    traceBound[p] = Math.Max(traceBound[p], src.Model.CouplingTraceBound(src, dtMs));
                    exactTrace[p] &= bits > 0;
                }
            popBits[p] = GridBits(spec, popIndex, p, spikeSyn, offsets, trace: false, 0, 1.0);
            traceBits[p] = GridBits(spec, popIndex, p, traceSyn, offsets, trace: true, traceInputBits[p], traceBound[p]);
        }

        var populations = new CompiledPopulation[spec.Populations.Count];
        for (int p = 0; p < populations.Length; p++)
            populations[p] = CompilePopulation(spec, p, offsets[p], popBits[p], traceBits[p], traceInputBits[p], exactTrace[p], traceBound[p]);

        var inputs = new CompiledInput[spec.Inputs.Count];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = CompileInput(spec, i, inputOffsets[i]);

        var table = SynapseTableBuilder.BuildSpikeTable(spikeSyn, nSrc, n, populations, exactDelays);
        var traceTable = SynapseTableBuilder.BuildTraceTable(traceSyn, n, populations);

        return new CompiledNetwork
        {
            Spec = spec, Populations = populations, Inputs = inputs, NeuronCount = n, SourceCount = nSrc,
            Synapses = table, TraceSynapses = traceTable, CompileMemoryEstimateBytes = compileBytes,
        };
    }

    /// <summary>An error at <paramref name="field"/>, located at the field or its nearest recorded parent in the file.</summary>
    internal static SpecException Error(NetworkSpec spec, string field, string message)
        => new([new SpecError(field, message, NetworkSpecValidator.Locate(spec, field))]);

    /// <summary>
    /// Refuses, before anything is drawn, a network whose compilation would not fit in <paramref name="budget"/>, from the
    /// sizes the compiler really allocates (docs/reliability.md, "Memory"): per spike synapse the build buffer
    /// (<see cref="SynapseTableBuilder.SynapseBuffer.BytesPerSynapse"/>: 24 B, 32 with exact delays), the sort's scratch
    /// (quantized weight and order: 8 B) and the table (target and weight: 8 B, 16 with exact delays); per segment of equal
    /// (source, delay, receptor, projection) 13 B, at most twice over while its lists grow; per trace synapse 24 B of
    /// buffer and 48 B of table and sorting; per neuron the populations' constants (16 doubles). Returns the expected
    /// numbers of spike and trace synapses (the buffers are sized with them) and the estimate in bytes.
    /// </summary>
    private static (long Spike, long Trace, double Bytes) EstimateMemory(NetworkSpec spec, Dictionary<string, int> popIndex, Dictionary<string, int> inputIndex,
        int n, int nSrc, long budget, bool exactDelays)
    {
        double spike = 0, trace = 0, segments = 0;
        int largest = -1;
        double largestCount = 0;
        for (int pi = 0; pi < spec.Projections.Count; pi++)
        {
            var pr = spec.Projections[pi];
            bool srcIsPop = popIndex.TryGetValue(pr.Source, out int sp);
            double nPre = srcIsPop ? spec.Populations[sp].Size : spec.Inputs[inputIndex[pr.Source]].Size;
            double nPost = spec.Populations[popIndex[pr.Target]].Size;
            double c = pr.Connectivity switch
            {
                Connectivity.AllToAll => nPre * nPost,
                Connectivity.OneToOne => nPost,
                Connectivity.FixedProbability fp => fp.P * nPre * nPost + 5 * Math.Sqrt(fp.P * nPre * nPost),
                Connectivity.FixedInDegree fi => (double)fi.K * nPost,
                Connectivity.PairList pl => pl.Pre.Length,
                _ => 0,
            };
            if (srcIsPop && NetworkSpecValidator.IsTraceCoupled(spec.Populations[sp], spec.Populations[popIndex[pr.Target]])) trace += c;
            else
            {
                spike += c;
                // Segments per source: at most its synapses, and at most 2 receptors × the delays the projection can draw.
                segments += nPre * Math.Min(c / Math.Max(1, nPre), 2 * DelayLevels(pr.DelayMs, spec.Run.DtMs));
            }
            if (c > largestCount) { largestCount = c; largest = pi; }
        }
        double perSpike = SynapseTableBuilder.SynapseBuffer.BytesPerSynapse(exactDelays) + 8 + (exactDelays ? 16 : 8);
        double bytes = spike * perSpike + 26 * segments + 4.0 * (nSrc + 1) + trace * 72 + (double)n * 16 * sizeof(double);
        double total = spike + trace;
        if (total > int.MaxValue - 1024 || bytes > budget)
        {
            string field = largest >= 0 ? $"projections[{largest}]" : "populations";
            throw Error(spec, field,
                $"the network needs about {Engine.MemoryBudget.GiB(bytes)} to compile {total:E2} synapses (largest: {spec.Projections[Math.Max(0, largest)].DisplayName}, {largestCount:E2}), " +
                $"more than the {Engine.MemoryBudget.GiB(budget)} available" + (total > int.MaxValue - 1024 ? " and more than 2^31 synapses" : "") +
                "; use fewer synapses, or raise the limit with --max-memory-gb");
        }
        return ((long)Math.Ceiling(spike), (long)Math.Ceiling(trace), bytes);
    }

    /// <summary>How many distinct tick delays a delay value can take (∞ when unbounded or per synapse).</summary>
    private static double DelayLevels(Value delay, double dt) => delay switch
    {
        Value.Constant => 1,
        Value.UniformValue u when dt > 0 => TimeGrid.Ticks(u.High, dt) - TimeGrid.Ticks(u.Low, dt) + 1,
        _ => double.PositiveInfinity,
    };

    private static int GridBits(NetworkSpec spec, Dictionary<string, int> popIndex, int p, SynapseTableBuilder.SynapseBuffer buf, int[] offsets, bool trace, int traceInputBits, double traceBound)
    {
        var pop = spec.Populations[p];
        int lo = offsets[p], hi = lo + pop.Size;
        int? explicitBits = null;
        double maxAbs = 0;
        var incoming = new List<int>();
        for (int pi = 0; pi < spec.Projections.Count; pi++)
        {
            var pr = spec.Projections[pi];
            if (popIndex[pr.Target] != p) continue;
            bool isTrace = popIndex.TryGetValue(pr.Source, out int sp) && NetworkSpecValidator.IsTraceCoupled(spec.Populations[sp], pop);
            if (isTrace != trace) continue;
            incoming.Add(pi);
            if (pr.WeightFractionBits is { } b)
            {
                if (explicitBits is { } e && e != b)
                    throw Error(spec, $"projections[{pi}].weight_fraction_bits", $"{b} differs from {e} set by another projection into '{pop.Name}'; projections into one population share one weight grid");
                explicitBits = b;
            }
        }
        for (int k = 0; k < buf.Count; k++) if (buf.Target[k] >= lo && buf.Target[k] < hi) maxAbs = Math.Max(maxAbs, Math.Abs(buf.Weight[k]));
        int bits = explicitBits ?? FixedPoint.AutoFractionBits(maxAbs);
        if (Math.ScaleB(maxAbs, bits) > FixedPoint.MaxAbsQ)
            throw Error(spec, $"projections[{incoming[0]}].weight_fraction_bits", $"weights up to {Value.Fmt(maxAbs)} into '{pop.Name}' do not fit the grid 2^-{bits} with |q| ≤ 2^30");

        // Exactness bound on one tick's input: Σ|q| per target (times 2^G for trace coupling) must stay below 2^53.
        // Spike inputs keep a factor 2^7 of headroom for several spikes of one source in one tick.
        double limit = trace ? FixedPoint.ExactLimit : Math.ScaleB(1.0, 46);
        double gScale = trace ? Math.ScaleB(1.0, traceInputBits) * traceBound : 1.0;
        var rowSum = new double[pop.Size];
        while (true)
        {
            Array.Clear(rowSum);
            double worst = 0;
            for (int k = 0; k < buf.Count; k++)
            {
                int t = buf.Target[k];
                if (t < lo || t >= hi) continue;
                double s = rowSum[t - lo] += Math.Abs(FixedPoint.Quantize(buf.Weight[k], bits)) * gScale;
                worst = Math.Max(worst, s);
            }
            if (worst < limit) return bits;
            if (explicitBits is not null || bits <= -30)
                throw Error(spec, $"projections[{incoming[0]}].weight_fraction_bits",
                    $"the summed |weights| into one neuron of '{pop.Name}' reach {worst:E2} grid units, beyond the exact range {limit:E2}; use fewer weight_fraction_bits");
            bits--;
        }
    }

    private static CompiledPopulation CompilePopulation(NetworkSpec spec, int p, int offset, int weightBits, int traceBits, int traceInputBits, bool exactTrace, double traceBound)
    {
        var ps = spec.Populations[p];
        int n = ps.Size;
        double dt = spec.Run.DtMs;
        ulong seed = spec.Run.Seed;
        var context = new ModelCompileContext(spec, p);
        var constants = ps.Parameters.Model.Compile(ps.Parameters, context);
        var constantDrive = context.ConstantDrive;

        var currents = new List<CompiledCurrent>();
        for (int ci = 0; ci < spec.Currents.Count; ci++)
        {
            var cs = spec.Currents[ci];
            if (cs.Target != ps.Name) continue;
            var amp = new double[n];
            ulong key = CounterRng.Key(seed, RngStreams.PopulationValues(p, $"current{ci}"), 0, 0);
            for (int i = 0; i < n; i++) amp[i] = cs.Amplitude.Draw(key, i);
            var times = cs.TimesMs ?? [];
            currents.Add(new CompiledCurrent
            {
                Amplitude = amp,
                ChangeTicks = [.. times.Select(t => TimeGrid.Ticks(t, dt))],
                Scales = cs.Scales ?? [],
            });
        }
        bool hasDrive = constantDrive.Any(x => x != 0) || currents.Any(c => c.Amplitude.Any(a => a != 0) && (c.ChangeTicks.Length == 0 || c.Scales.Any(s => s != 0)));

        return new CompiledPopulation
        {
            Index = p, Name = ps.Name, Model = ps.Parameters.Model, Offset = offset, Size = n,
            NoiseDeltaV = ps.Noise?.DeltaV ?? 0, WeightFractionBits = weightBits, TraceWeightFractionBits = traceBits, TraceInputFractionBits = traceInputBits, ExactTraceInput = exactTrace, TraceInputBound = traceBound,
            Constants = constants, Spec = ps, Currents = [.. currents], HasDrive = hasDrive, ConstantDrive = constantDrive,
        };
    }

    /// <summary>
    /// The per-neuron values of parameter <paramref name="name"/> (file key, e.g. <c>tau_mem_ms</c>) of population
    /// <paramref name="p"/>, drawn exactly as compilation draws them (stream <c>PopulationValues(p, name)</c>, index = neuron).
    /// Continuous-time engines use it to recover values the grid rounds (refractory periods) or keeps only as propagators (τ).
    /// </summary>
    public static double[] DrawPopulationValues(NetworkSpec spec, int p, Value v, string name)
    {
        int n = spec.Populations[p].Size;
        var a = new double[n];
        ulong key = CounterRng.Key(spec.Run.Seed, RngStreams.PopulationValues(p, name), 0, 0);
        for (int i = 0; i < n; i++) a[i] = v.Draw(key, i);
        return a;
    }

    private static CompiledInput CompileInput(NetworkSpec spec, int i, int offset)
    {
        var s = spec.Inputs[i];
        double dt = spec.Run.DtMs;
        switch (s)
        {
            case PoissonInput pi:
            {
                var rate = new double[pi.Size];
                ulong key = CounterRng.Key(spec.Run.Seed, RngStreams.InputValues(i, "rate_hz"), 0, 0);
                for (int k = 0; k < rate.Length; k++)
                {
                    rate[k] = pi.RateHz.Draw(key, k) / 1000.0;
                    if (!(rate[k] >= 0) || !double.IsFinite(rate[k])) throw Error(spec, $"inputs[{i}].rate_hz", $"source {k} drew rate {Value.Fmt(rate[k] * 1000)} Hz; must be finite and ≥ 0");
                }
                return new CompiledInput { Index = i, Name = s.Name, Offset = offset, Size = s.Size, Spec = s, RatePerMs = rate };
            }
            case SpikeTimesInput st:
            {
                var order = Enumerable.Range(0, st.TimesMs.Length)
                    .OrderBy(k => TimeGrid.Ticks(st.TimesMs[k], dt)).ThenBy(k => st.Indices[k]).ThenBy(k => st.TimesMs[k]).ToArray();
                return new CompiledInput
                {
                    Index = i, Name = s.Name, Offset = offset, Size = s.Size, Spec = s,
                    SpikeTicks = [.. order.Select(k => TimeGrid.Ticks(st.TimesMs[k], dt))],
                    SpikeIndices = [.. order.Select(k => st.Indices[k])],
                    SpikeTimesMs = [.. order.Select(k => st.TimesMs[k])],
                };
            }
            case ClockInput ci:
                return new CompiledInput
                {
                    Index = i, Name = s.Name, Offset = offset, Size = s.Size, Spec = s,
                    ClockSpanTicks = Math.Max(1, TimeGrid.Ticks(ci.SpanMs, dt)),
                    ClockPeriodTicks = ci.PeriodMs is { } per ? TimeGrid.Ticks(per, dt) : 0,
                };
            default: throw new InvalidOperationException("unknown input kind");
        }
    }
}
