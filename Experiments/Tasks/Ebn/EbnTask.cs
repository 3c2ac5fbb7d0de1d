using System.Diagnostics;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.EventCore.Numerics;
using Sim.Experiments.Dynamics;

namespace Sim.Experiments;

/// <summary>One run of the EBN task: a fraction silenced and a noise level, and what was measured.</summary>
/// <param name="Nmse">Σ_t ‖x − x̂‖² / Σ_t ‖x − x̄‖² over the scored ticks.</param>
/// <param name="SpikesPerNeuronPerS">Spikes per living neuron per second over the scored time.</param>
/// <param name="MeanIsiCv">Mean over neurons with at least 3 scored spikes of std(ISI)/mean(ISI) (NaN when none).</param>
/// <param name="NeuronsWithIsi">How many neurons entered <paramref name="MeanIsiCv"/>.</param>
/// <param name="MeanCv2">Mean local variation CV2 = 2|I_{n+1} − I_n|/(I_{n+1} + I_n) over consecutive intervals of
/// those neurons (Holt et al. 1996): 1 for a Poisson train, and unlike the CV insensitive to slow changes of the rate.</param>
/// <param name="Stop">Why the run stopped early (a guard's reason), or null.</param>
public sealed record EbnCondition(double SilencedFraction, double NoiseSigma, double Nmse, double SpikesPerNeuronPerS, double MeanIsiCv, double MedianIsiCv,
    int NeuronsWithIsi, double MeanCv2, string? Stop);

/// <summary>One grid step of the convergence to continuous time (<see cref="EbnTask.Convergence"/>).</summary>
/// <param name="ReadoutDistance">RMS of x̂_grid − x̂_continuous over RMS of x̂_continuous (scored time, every ms).</param>
/// <param name="EarlyReadoutDistance">The same over the first 100 ms (warm-up included), before the spike trains part.</param>
/// <param name="MatchingSpikes">How many of the first spikes agree in neuron and order (by tick, then id).</param>
/// <param name="MeanSpikeTimeErrorMs">Mean |t_grid − t_continuous| over those (ms).</param>
public sealed record EbnConvergenceRow(double DtMs, double ReadoutDistance, double EarlyReadoutDistance, int MatchingSpikes, double MeanSpikeTimeErrorMs, double SpikesPerNeuronPerS, double Nmse);

/// <summary>The EBN task's result: the main run's traces and spikes and every condition's metrics.</summary>
public sealed record EbnResult(EbnTaskOptions Options, EbnCondition Main, IReadOnlyList<EbnCondition> Silencing, IReadOnlyList<EbnCondition> Noise,
    double[] TimesS, double[][] X, double[][] XHat, IReadOnlyList<(double TimeS, int Neuron)> Spikes, double[] IsiCvs, double[] RatesHz, string Engine, double Seconds);

/// <summary>
/// The EBN tracking task (docs/tasks/ebn.md): an efficient balanced network of <see cref="EbnModel"/> neurons with
/// decoder D (random directions of norm ‖D_i‖), slow weights Ω_s = Dᵀ(A + λ_d I)D (A: the linear teacher's matrix; 0
/// for the nonlinear ones) as a trace-coupled projection, and the drive Dᵀc(t) + k·Dᵀ(x − x̂) + σ_V·ξ/√dt written every
/// tick (the noise is drawn in C# from the counter RNG, so every engine gets the same doubles); the teacher x is
/// integrated alongside with the same c(t), and x̂ = D·r is read after every tick. Scored: normalised MSE, spikes per
/// neuron per second, ISI CV, under silencing and noise.
/// </summary>
public static class EbnTask
{
    /// <summary>Progress: fraction of all ticks done, and a detail.</summary>
    public delegate void Progress(double fraction, string detail);

    /// <summary>Runs every condition (the main run first); throws <see cref="OperationCanceledException"/> when cancelled.</summary>
    public static EbnResult Run(EbnTaskOptions o, Progress? progress = null, CancellationToken cancel = default)
    {
        o.Validate();
        var clock = Stopwatch.StartNew();
        var system = Teacher.Named(o.System);
        int n = o.Neurons, dims = system.Dimension;
        var decoder = Decoder(o, dims);
        var conditions = new List<(double F, double Sigma)> { (0, o.NoiseSigma) };
        foreach (double f in o.SilencedFractions) if (!conditions.Contains((f, o.NoiseSigma))) conditions.Add((f, o.NoiseSigma));
        foreach (double s in o.NoiseLevels) if (!conditions.Contains((0, s))) conditions.Add((0, s));
        var results = new Dictionary<(double, double), EbnCondition>();
        Recording? main = null;
        string engineName = "";
        for (int k = 0; k < conditions.Count; k++)
        {
            var (f, sigma) = conditions[k];
            var rec = RunCondition(o, system, decoder, f, sigma, record: k == 0, (x, d) => progress?.Invoke((k + x) / conditions.Count,
                FormattableString.Invariant($"run {k + 1}/{conditions.Count} ({f:P0} silenced, sigma {sigma:G3}): {d}")), cancel, out engineName);
            results[(f, sigma)] = rec.Condition;
            main ??= rec;
        }
        var m = main!;
        return new EbnResult(o, results[conditions[0]], [.. o.SilencedFractions.Select(f => results[(f, o.NoiseSigma)])], [.. o.NoiseLevels.Select(s => results[(0, s)])],
            [.. m.Times], [.. m.X.Select(a => a.ToArray())], [.. m.XHat.Select(a => a.ToArray())], m.Spikes, m.IsiCvs, m.Rates, engineName, clock.Elapsed.TotalSeconds);
    }

    /// <summary>D (J rows × N): Gaussian directions from the counter RNG, each column scaled to ‖D_i‖ = decoder_norm.</summary>
    public static double[][] Decoder(EbnTaskOptions o, int dims)
    {
        var d = new double[dims][];
        for (int k = 0; k < dims; k++) d[k] = new double[o.Neurons];
        ulong key = CounterRng.Key(o.Seed, StreamDecoder, 0, 0);
        for (int i = 0; i < o.Neurons; i++)
        {
            double norm = 0;
            for (int k = 0; k < dims; k++)
            {
                ulong idx = (ulong)(i * dims + k) * 2;
                d[k][i] = CounterRng.Normal(CounterRng.Word(key, idx), CounterRng.Word(key, idx + 1));
                norm += d[k][i] * d[k][i];
            }
            norm = Math.Sqrt(norm);
            for (int k = 0; k < dims; k++) d[k][i] *= o.DecoderNorm / norm;
        }
        return d;
    }

    /// <summary>The slow weights Ω_s[i, j] = D_iᵀ(A + λ_d I)D_j (V-units per second per unit of r), A = 0 for a nonlinear teacher.</summary>
    public static double[,] SlowWeights(IDynamicalSystem system, double[][] decoder, double lambdaDecoderPerS)
    {
        int dims = decoder.Length, n = decoder[0].Length;
        var a = new double[dims, dims];
        if (system is LinearSystem lin) a = (double[,])lin.A.Clone();
        for (int k = 0; k < dims; k++) a[k, k] += lambdaDecoderPerS;
        var w = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < dims; k++)
                    for (int l = 0; l < dims; l++) s += decoder[k][i] * a[k, l] * decoder[l][j];
                w[i, j] = s;
            }
        return w;
    }

    /// <summary>The network of one condition: the EBN population with the silenced subset, and Ω_s.</summary>
    public static NetworkSpec Network(EbnTaskOptions o, IDynamicalSystem system, double[][] decoder, bool[] alive)
    {
        int n = o.Neurons, dims = decoder.Length;
        var b = new NetworkBuilder("ebn")
        {
            Run = new RunOptions { DtMs = o.DtMs, DurationMs = o.DurationS * 1000, Seed = o.Seed, MaxRateHz = 1000, GuardWindowMs = 20 },
        };
        b.NeuronGroup(Population, n, new EbnParameters
        {
            Dimensions = dims,
            Decoder0 = Value.PerElement(decoder[0]),
            Decoder1 = dims > 1 ? Value.PerElement(decoder[1]) : 0.0,
            Decoder2 = dims > 2 ? Value.PerElement(decoder[2]) : 0.0,
            LambdaDecoderPerS = o.LambdaDecoderPerS, LambdaVPerS = o.LambdaVPerS, Mu = o.Mu, Nu = o.Nu,
            Alive = Value.PerElement([.. alive.Select(a => a ? 1.0 : 0.0)]),
        });
        var w = SlowWeights(system, decoder, o.LambdaDecoderPerS);
        var pre = new List<int>();
        var post = new List<int>();
        var weight = new List<double>();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (w[i, j] != 0) { pre.Add(j); post.Add(i); weight.Add(w[i, j]); }
        if (pre.Count > 0) b.Synapses(Population, Population, new Connectivity.PairList([.. pre], [.. post]), Value.PerElement([.. weight]), projectionName: "slow");
        return b.Build();
    }

    /// <summary>
    /// The grid against continuous time (docs/tasks/ebn.md, "Continuous time"): the deterministic network (σ_V = 0, k = 0,
    /// nobody silenced) simulated by <see cref="EbnContinuousTime"/> and on the grid engine at each dt, with the same
    /// decoder and input. Per dt: the RMS distance of x̂ to the continuous x̂ (sampled every ms after the warm-up) relative
    /// to the RMS of the continuous x̂; how many of the first spikes agree in neuron and order; their mean time error (the
    /// grid's spike of tick t is placed at (t + 1)·dt, the end of the step that crossed); the rate; the normalised MSE.
    /// </summary>
    public static (IReadOnlyList<EbnConvergenceRow> Rows, double ContinuousSpikesPerNeuronPerS, double ContinuousNmse) Convergence(EbnTaskOptions o, IReadOnlyList<double> dtsMs,
        Progress? progress = null, CancellationToken cancel = default)
    {
        var baseOptions = o with { NoiseSigma = 0, ErrorGain = 0, SilencedFractions = [0], NoiseLevels = [0] };
        baseOptions.Validate();
        var system = Teacher.Named(o.System);
        var decoder = Decoder(o, system.Dimension);
        var alive = Enumerable.Repeat(true, o.Neurons).ToArray();
        var compiled = NetworkCompiler.Compile(Network(baseOptions, system, decoder, alive));
        var sim = new EbnContinuousTime(decoder, (EbnConstants)compiled.Populations[0].Constants, SlowWeights(system, decoder, o.LambdaDecoderPerS));
        var teacher = new Teacher(system, 1e-3);
        var times = new List<double>();
        var xhat = new List<double[]>();
        var x = new List<double[]>();
        int dims = system.Dimension;
        var c = new double[dims];
        long samples = (long)Math.Round(o.DurationS * 1000);
        for (long m = 1; m <= samples; m++)
        {
            cancel.ThrowIfCancellationRequested();
            // c of the hold interval containing (m − 1, m] ms, the grid's CounterRng draw for that interval.
            long hold = (long)Math.Floor((m - 1) / o.InputHoldMs + 1e-9);
            InputAt(o, system, hold, c);
            sim.Run(m / 1000.0, c);
            teacher.Step(c);
            times.Add(m / 1000.0);
            xhat.Add(sim.Readout());
            x.Add((double[])teacher.State.Clone());
        }
        progress?.Invoke(1.0 / (dtsMs.Count + 1), "continuous time done");
        double contRate = sim.Spikes.Count(s => s.TimeS >= o.WarmupS) / (o.DurationS - o.WarmupS) / o.Neurons;
        double contNmse = Nmse(x, xhat, times, o.WarmupS);
        var rows = new List<EbnConvergenceRow>();
        for (int k = 0; k < dtsMs.Count; k++)
        {
            var grid = baseOptions with { DtMs = dtsMs[k] };
            var rec = RunCondition(grid, system, decoder, 0, 0, record: true, (_, _) => { }, cancel, out _);
            double num = 0, den = 0;
            var gridAt = new Dictionary<long, int>();
            for (int t = 0; t < rec.Times.Count; t++) gridAt[(long)Math.Round(rec.Times[t] * 1000)] = t;
            for (int t = 0; t < times.Count; t++)
            {
                if (times[t] < o.WarmupS || !gridAt.TryGetValue((long)Math.Round(times[t] * 1000), out int g)) continue;
                for (int d = 0; d < dims; d++)
                {
                    double e = rec.XHat[d][g] - xhat[t][d];
                    num += e * e;
                    den += xhat[t][d] * xhat[t][d];
                }
            }
            // Spikes compared in the grid's order: by tick, then ascending id (the grid reports a tick's spikes by id); a
            // continuous spike at t belongs to the tick whose end is the first ≥ t.
            double dtS = grid.DtMs / 1000;
            var gridSpikes = rec.Spikes.Select(s => (Tick: (long)Math.Round(s.Item1 / dtS), Neuron: s.Item2)).ToList();
            var contSpikes = sim.Spikes.Select(s => (Tick: (long)Math.Ceiling(s.TimeS / dtS - 1e-9) - 1, s.Neuron, s.TimeS)).OrderBy(s => s.Item1).ThenBy(s => s.Neuron).ToList();
            int prefix = 0;
            double timeError = 0;
            while (prefix < Math.Min(gridSpikes.Count, contSpikes.Count) && gridSpikes[prefix].Neuron == contSpikes[prefix].Neuron)
            {
                timeError += Math.Abs((gridSpikes[prefix].Tick + 1) * dtS - contSpikes[prefix].TimeS);
                prefix++;
            }
            // The early read-out (first 100 ms, before the spike trains part): x̂ against the continuous one.
            double earlyNum = 0, earlyDen = 0;
            for (int t = 0; t < times.Count && times[t] <= 0.1 + 1e-12; t++)
            {
                if (!gridAt.TryGetValue((long)Math.Round(times[t] * 1000), out int g)) continue;
                for (int d = 0; d < dims; d++) { double e = rec.XHat[d][g] - xhat[t][d]; earlyNum += e * e; earlyDen += xhat[t][d] * xhat[t][d]; }
            }
            rows.Add(new EbnConvergenceRow(dtsMs[k], Math.Sqrt(num / den), Math.Sqrt(earlyNum / earlyDen), prefix, prefix > 0 ? timeError / prefix * 1000 : double.NaN,
                rec.Condition.SpikesPerNeuronPerS, rec.Condition.Nmse));
            progress?.Invoke((k + 2.0) / (dtsMs.Count + 1), FormattableString.Invariant($"dt = {dtsMs[k]} ms done"));
        }
        return (rows, contRate, contNmse);
    }

    private static double Nmse(List<double[]> x, List<double[]> xhat, List<double> times, double warmupS)
    {
        int dims = x[0].Length;
        double err = 0, n = 0;
        var sum = new double[dims];
        var sum2 = new double[dims];
        for (int t = 0; t < x.Count; t++)
        {
            if (times[t] < warmupS) continue;
            n++;
            for (int d = 0; d < dims; d++) { double e = x[t][d] - xhat[t][d]; err += e * e; sum[d] += x[t][d]; sum2[d] += x[t][d] * x[t][d]; }
        }
        double variance = 0;
        for (int d = 0; d < dims; d++) variance += sum2[d] - sum[d] * sum[d] / n;
        return err / variance;
    }

    /// <summary>c of hold interval <paramref name="hold"/>: a Gaussian per component for the linear teacher, 0 for the others.</summary>
    internal static void InputAt(EbnTaskOptions o, IDynamicalSystem system, long hold, Span<double> c)
    {
        ulong key = CounterRng.Key(o.Seed, StreamInput, 0, (ulong)hold);
        for (int k = 0; k < c.Length; k++)
            c[k] = system is LinearSystem ? o.InputSd * CounterRng.Normal(CounterRng.Word(key, (ulong)(2 * k)), CounterRng.Word(key, (ulong)(2 * k + 1))) : 0.0;
    }

    /// <summary>The name of the population.</summary>
    public const string Population = "ebn";
    private const ulong StreamDecoder = 0xEB0_0001, StreamInput = 0xEB0_0002, StreamNoise = 0xEB0_0003, StreamSilence = 0xEB0_0004;

    /// <summary>Which neurons stay alive when a fraction is silenced: round(f·N) of a seeded permutation are silenced.</summary>
    public static bool[] Alive(EbnTaskOptions o, double fraction)
    {
        int n = o.Neurons;
        var order = Enumerable.Range(0, n).ToArray();
        ulong key = CounterRng.Key(o.Seed, StreamSilence, 0, 0);
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)(CounterRng.Word(key, (ulong)i) % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        var alive = Enumerable.Repeat(true, n).ToArray();
        int dead = (int)Math.Round(fraction * n);
        for (int k = 0; k < dead; k++) alive[order[k]] = false;
        return alive;
    }

    private sealed class Recording
    {
        public EbnCondition Condition = null!;
        public readonly List<double> Times = [];
        public List<double>[] X = [], XHat = [];
        public readonly List<(double, int)> Spikes = [];
        public double[] IsiCvs = [], Rates = [];
    }

    private static Recording RunCondition(EbnTaskOptions o, IDynamicalSystem system, double[][] decoder, double fraction, double sigma, bool record,
        Action<double, string> progress, CancellationToken cancel, out string engineName)
    {
        var alive = Alive(o, fraction);
        var net = EngineFactory.Compile(o.Engine, Network(o, system, decoder, alive));
        using var engine = EngineFactory.CreateGrid(o.Engine, net, new EngineSettings { Threads = 1 });
        engineName = engine.EngineName;
        var loop = new Loop(o, system, decoder, sigma, record);
        engine.AddTickIO(loop);
        engine.AddGuard(loop);
        var spikes = new SpikeLog(o.Neurons, o.WarmupTicks);
        engine.AddSpikeSink(spikes);
        long total = o.Ticks, done = 0;
        string? stop = null;
        while (done < total && stop is null)
        {
            cancel.ThrowIfCancellationRequested();
            long chunk = Math.Min(2000, total - done);
            var r = engine.Run(chunk, cancel);
            done += r.TicksRun;
            if (r.Cancelled) throw new OperationCanceledException(cancel);
            if (r.Stop is { } s) stop = s.Reason;
            progress((double)done / total, FormattableString.Invariant($"{done * o.DtMs / 1000:F2}/{o.DurationS:F2} s"));
        }
        double scoredS = Math.Max(0, done - o.WarmupTicks) * o.DtMs / 1000;
        int living = alive.Count(a => a);
        var (cvs, cv2) = spikes.IsiCvs();
        var rates = spikes.Counts.Select(c => scoredS > 0 ? c / scoredS : 0).ToArray();
        var sorted = cvs.OrderBy(x => x).ToArray();
        var rec = loop.Recording;
        rec.Condition = new EbnCondition(fraction, sigma, stop is null ? loop.Nmse : double.NaN,
            scoredS > 0 ? spikes.Counts.Sum() / scoredS / living : double.NaN,
            cvs.Length > 0 ? cvs.Average() : double.NaN, sorted.Length > 0 ? sorted[sorted.Length / 2] : double.NaN, cvs.Length, cv2, stop);
        if (record)
        {
            rec.Spikes.AddRange(spikes.All.Select(s => (s.Tick * o.DtMs / 1000, s.Neuron)));
            rec.IsiCvs = cvs;
            rec.Rates = [.. rates.Where((_, i) => alive[i])];
        }
        return rec;
    }

    /// <summary>Spike ticks per neuron after the warm-up (and all spikes, for the raster).</summary>
    private sealed class SpikeLog(int n, long warmup) : ISpikeSink
    {
        private readonly List<long>[] _ticks = [.. Enumerable.Range(0, n).Select(_ => new List<long>())];
        public readonly List<(long Tick, int Neuron)> All = [];
        public long[] Counts => [.. _ticks.Select(t => (long)t.Count)];

        public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
        {
            foreach (int i in neurons)
            {
                All.Add((tick, i));
                if (tick >= warmup) _ticks[i].Add(tick);
            }
        }

        public (double[] Cv, double MeanCv2) IsiCvs()
        {
            var cvs = new List<double>();
            double cv2 = 0;
            long pairs = 0;
            foreach (var t in _ticks)
            {
                if (t.Count < 3) continue;
                var isi = t.Zip(t.Skip(1), (a, b) => (double)(b - a)).ToArray();
                double mean = isi.Average();
                double sd = Math.Sqrt(isi.Sum(x => (x - mean) * (x - mean)) / (isi.Length - 1));
                cvs.Add(sd / mean);
                for (int k = 0; k + 1 < isi.Length; k++) { cv2 += 2 * Math.Abs(isi[k + 1] - isi[k]) / (isi[k + 1] + isi[k]); pairs++; }
            }
            return ([.. cvs], pairs > 0 ? cv2 / pairs : double.NaN);
        }
    }

    /// <summary>
    /// The per-tick loop: before tick t the drive Dᵀc(t) + k·Dᵀ(x − x̂) + σ·ξ/√dt and the teacher's step to t + dt; after
    /// it x̂ = D·r, the error sums and the recording. It is also the guard: a teacher that diverged or a non-finite or
    /// runaway x̂ stops the run with the reason.
    /// </summary>
    private sealed class Loop : ITickIO, IRunGuard
    {
        private readonly EbnTaskOptions _o;
        private readonly double[][] _d;
        private readonly Teacher _teacher;
        private readonly double[] _c, _xhat, _xNext;
        private readonly double _noiseScale;
        private readonly long _holdTicks;
        private readonly int _n, _dims;
        private StateHandle? _r;
        private string? _stop;
        private double _errSum;
        private readonly double[] _sum, _sum2;
        private long _scored;
        public readonly Recording Recording = new();
        private readonly bool _record;

        public Loop(EbnTaskOptions o, IDynamicalSystem system, double[][] decoder, double sigma, bool record)
        {
            _o = o;
            _d = decoder;
            _n = o.Neurons;
            _dims = decoder.Length;
            double dtS = o.DtMs / 1000;
            _teacher = new Teacher(system, dtS, substeps: 1);
            _c = new double[_dims];
            _xhat = new double[_dims];
            _xNext = new double[_dims];
            _sum = new double[_dims];
            _sum2 = new double[_dims];
            _noiseScale = sigma / Math.Sqrt(dtS);
            _holdTicks = Math.Max(1, (long)Math.Round(o.InputHoldMs / o.DtMs));
            _record = record;
            if (record)
            {
                Recording.X = [.. Enumerable.Range(0, _dims).Select(_ => new List<double>())];
                Recording.XHat = [.. Enumerable.Range(0, _dims).Select(_ => new List<double>())];
            }
        }

        public IReadOnlyList<string> InputPopulations => [Population];

        public double Nmse
        {
            get
            {
                double variance = 0;
                for (int k = 0; k < _dims; k++) variance += _sum2[k] - _sum[k] * _sum[k] / _scored;
                return _errSum / variance;
            }
        }

        public void BeforeTick(int instance, long tick, ITickInputs inputs)
        {
            if (_stop is not null) return;
            // c(t): a Gaussian value per component, held for hold ticks (the linear teacher's input; the nonlinear ones run free).
            InputAt(_o, _teacher.System, tick / _holdTicks, _c);
            var x = _teacher.State;
            var drive = inputs.Current(0);
            ulong noiseKey = CounterRng.Key(_o.Seed, StreamNoise, (ulong)instance, (ulong)tick);
            for (int i = 0; i < _n; i++)
            {
                double s = 0;
                for (int k = 0; k < _dims; k++) s += _d[k][i] * (_c[k] + _o.ErrorGain * (x[k] - _xhat[k]));
                if (_noiseScale > 0) s += _noiseScale * CounterRng.Normal(CounterRng.Word(noiseKey, (ulong)(2 * i)), CounterRng.Word(noiseKey, (ulong)(2 * i + 1)));
                drive[i] = s;
            }
            try { _teacher.Step(_c); }
            catch (InvalidOperationException e) { _stop = e.Message; }
        }

        public void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state)
        {
            if (_stop is not null) return;
            var r = _r ??= state.Resolve(0, "r");
            for (int k = 0; k < _dims; k++) _xhat[k] = 0;
            for (int i = 0; i < _n; i++)
            {
                double ri = state.Read(r, i);
                if (ri == 0) continue;
                for (int k = 0; k < _dims; k++) _xhat[k] += _d[k][i] * ri;
            }
            var x = _teacher.State;
            double bound = 1e3 * (1 + x.Max(Math.Abs));
            for (int k = 0; k < _dims; k++)
                if (!double.IsFinite(_xhat[k]) || Math.Abs(_xhat[k]) > bound)
                {
                    _stop = FormattableString.Invariant($"the network diverged: x̂[{k}] = {_xhat[k]:G4} at t = {(tick + 1) * _o.DtMs / 1000:F4} s, while |x| ≤ {x.Max(Math.Abs):G4}");
                    return;
                }
            if (tick >= _o.WarmupTicks)
            {
                _scored++;
                for (int k = 0; k < _dims; k++)
                {
                    double e = x[k] - _xhat[k];
                    _errSum += e * e;
                    _sum[k] += x[k];
                    _sum2[k] += x[k] * x[k];
                }
            }
            long every = Math.Max(1, (long)Math.Round(1.0 / _o.DtMs));   // one sample per ms
            if (_record && (tick + 1) % every == 0)
            {
                Recording.Times.Add((tick + 1) * _o.DtMs / 1000);
                for (int k = 0; k < _dims; k++) { Recording.X[k].Add(x[k]); Recording.XHat[k].Add(_xhat[k]); }
            }
        }

        public string? Check(int instance, long tick, ReadOnlySpan<int> spikes) => _stop;
    }
}
