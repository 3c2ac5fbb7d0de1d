using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Sim.EventCore.Description;

// The writer half of NetworkFile (the reader is NetworkFile.cs): one class for the format's vocabulary, two files.
public static partial class NetworkFile
{
    /// <summary>The spec as YAML in the file schema, every parameter written out, so that Parse(Write(s)) equals s.</summary>
    public static string Write(NetworkSpec spec)
    {
        var w = new StringBuilder();
        void Line(int indent, string text) => w.Append(' ', indent).Append(text).Append('\n');
        void Section<T>(string key, IReadOnlyList<T> items, Action<T> each)
        {
            if (items.Count == 0) { Line(0, key + ": []"); return; }
            Line(0, key + ":");
            foreach (var item in items) each(item);
        }

        Line(0, "# Fully resolved network description; schema: docs/network-file.md");
        Line(0, "name: " + Str(spec.Name));
        var r = spec.Run;
        Line(0, "run:");
        Line(2, "dt_ms: " + Num(r.DtMs));
        Line(2, "duration_ms: " + Num(r.DurationMs));
        Line(2, "seed: " + r.Seed.ToString(CultureInfo.InvariantCulture));
        Line(2, "batch: " + Int(r.Batch));
        Line(2, "instance_offset: " + Int(r.InstanceOffset));
        Line(2, "threads: " + Int(r.Threads));
        Line(2, "max_rate_hz: " + Opt(r.MaxRateHz));
        Line(2, "guard_window_ms: " + Num(r.GuardWindowMs));

        Section("populations", spec.Populations, p =>
        {
            Line(2, "- name: " + Str(p.Name));
            Line(4, "size: " + Int(p.Size));
            Line(4, "model: " + p.Parameters.Model.Name);
            Line(4, "params:");
            foreach (var f in Naming.Fields(p.Parameters.GetType()))
                Line(6, $"{f.Key}: " + (f.Property.GetValue(p.Parameters) switch
                {
                    int i => Int(i),
                    Value v => Val(v),
                    _ => "null",
                }));
            Line(4, "escape_noise: " + (p.Noise is { } n ? $"{{delta_v: {Num(n.DeltaV)}}}" : "null"));
        });

        Section("inputs", spec.Inputs, inp =>
        {
            Line(2, "- name: " + Str(inp.Name));
            switch (inp)
            {
                case PoissonInput pi:
                    Line(4, "kind: poisson");
                    Line(4, "size: " + Int(pi.Size));
                    Line(4, "rate_hz: " + Val(pi.RateHz));
                    Line(4, "start_ms: " + Num(pi.StartMs));
                    Line(4, "stop_ms: " + Opt(pi.StopMs));
                    break;
                case SpikeTimesInput st:
                    Line(4, "kind: spike_times");
                    Line(4, "size: " + Int(st.Size));
                    Line(4, "times_ms: " + List(st.TimesMs.Select(Num)));
                    Line(4, "indices: " + List(st.Indices.Select(Int)));
                    break;
                case ClockInput ci:
                    Line(4, "kind: clock");
                    Line(4, "channels: " + Int(ci.Channels));
                    Line(4, "span_ms: " + Num(ci.SpanMs));
                    Line(4, "period_ms: " + Opt(ci.PeriodMs));
                    break;
                default: throw new ArgumentException($"cannot write input kind {inp.GetType().Name}", nameof(spec));
            }
        });

        Section("projections", spec.Projections, p =>
        {
            Line(2, "- name: " + (p.Name is null ? "null" : Str(p.Name)));
            Line(4, "source: " + Str(p.Source));
            Line(4, "target: " + Str(p.Target));
            Line(4, "connectivity: " + (p.Connectivity switch
            {
                Connectivity.AllToAll a => $"{{rule: all_to_all, autapses: {Bool(a.Autapses)}}}",
                Connectivity.OneToOne => "one_to_one",
                Connectivity.FixedProbability fp => $"{{rule: fixed_probability, p: {Num(fp.P)}, autapses: {Bool(fp.Autapses)}}}",
                Connectivity.FixedInDegree fi => $"{{rule: fixed_in_degree, k: {Int(fi.K)}, autapses: {Bool(fi.Autapses)}, multapses: {Bool(fi.Multapses)}}}",
                Connectivity.PairList pl => $"{{rule: pairs, pre: {List(pl.Pre.Select(Int))}, post: {List(pl.Post.Select(Int))}}}",
                _ => throw new ArgumentException($"cannot write connectivity {p.Connectivity.GetType().Name}", nameof(spec)),
            }));
            Line(4, "weight: " + Val(p.Weight));
            Line(4, "delay_ms: " + Val(p.DelayMs));
            Line(4, "weight_fraction_bits: " + (p.WeightFractionBits is { } b ? Int(b) : "null"));
            if (p.Plasticity is { } rule)
                Line(4, "plasticity: {" + string.Join(", ", new[] { "rule: " + Str(rule.Rule) }.Concat(rule.Parameters.Select(kv => $"{kv.Key}: {(IsNumber(kv.Value) ? kv.Value : Str(kv.Value))}"))) + "}");
        });

        Section("currents", spec.Currents, c =>
        {
            Line(2, "- target: " + Str(c.Target));
            Line(4, "amplitude: " + Val(c.Amplitude));
            Line(4, "times_ms: " + (c.TimesMs is null ? "null" : List(c.TimesMs.Select(Num))));
            Line(4, "scales: " + (c.Scales is null ? "null" : List(c.Scales.Select(Num))));
        });

        Section("monitors", spec.Monitors, m =>
        {
            switch (m)
            {
                case SpikeMonitorSpec s:
                    Line(2, "- kind: spikes");
                    Line(4, "populations: " + List(s.Populations.Select(Str)));
                    break;
                case StateMonitorSpec s:
                    Line(2, "- kind: state");
                    Line(4, "population: " + Str(s.Population));
                    Line(4, "variables: " + List(s.Variables.Select(Str)));
                    Line(4, "indices: " + List(s.Indices.Select(Int)));
                    Line(4, "interval_ms: " + Num(s.IntervalMs));
                    break;
                case RateMonitorSpec s:
                    Line(2, "- kind: rate");
                    Line(4, "population: " + Str(s.Population));
                    Line(4, "bin_ms: " + Num(s.BinMs));
                    break;
                default: throw new ArgumentException($"cannot write monitor kind {m.GetType().Name}", nameof(spec));
            }
        });
        return w.ToString();
    }

    private static string Num(double v) => double.IsNaN(v) ? ".nan" : double.IsInfinity(v) ? (v > 0 ? ".inf" : "-.inf") : Value.Fmt(v);
    private static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);
    private static string Opt(double? v) => v is { } x ? Num(x) : "null";
    private static string Bool(bool b) => b ? "true" : "false";
    private static string List(IEnumerable<string> items) => "[" + string.Join(", ", items) + "]";

    private static string Val(Value v) => v switch
    {
        Value.Constant c => Num(c.V),
        Value.UniformValue u => $"{{uniform: [{Num(u.Low)}, {Num(u.High)}]}}",
        Value.NormalValue n when double.IsNegativeInfinity(n.Low) && double.IsPositiveInfinity(n.High) => $"{{normal: [{Num(n.Mean)}, {Num(n.Sd)}]}}",
        Value.NormalValue n => $"{{normal: {{mean: {Num(n.Mean)}, sd: {Num(n.Sd)}"
            + (double.IsNegativeInfinity(n.Low) ? "" : $", low: {Num(n.Low)}")
            + (double.IsPositiveInfinity(n.High) ? "" : $", high: {Num(n.High)}") + "}}",
        Value.ArrayValue a => List(a.Values.Select(Num)),
        _ => throw new ArgumentException($"cannot write value {v.GetType().Name}", nameof(v)),
    };

    /// <summary>A string as a plain scalar when it reads back as the same text, else double-quoted.</summary>
    // A plasticity parameter written as a number in the file is written back unquoted.
    private static bool IsNumber(string s) => PlainNumber().IsMatch(s);

    [GeneratedRegex("^[-+]?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$")]
    private static partial Regex PlainNumber();

    private static string Str(string s)
        => PlainText().IsMatch(s) && !Reserved().IsMatch(s) ? s
         : "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n").Replace("\t", "\\t") + "\"";

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_\\-]*$")]
    private static partial Regex PlainText();

    [GeneratedRegex("^(null|true|false|yes|no|on|off|y|n|nan|inf|infinity)$", RegexOptions.IgnoreCase)]
    private static partial Regex Reserved();
}
