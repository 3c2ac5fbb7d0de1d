using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sim.EventCore.Description;

/// <summary>
/// The human-editable network file (YAML, schema in <c>docs/network-file.md</c>). Reading reports every syntax and type
/// problem with file, line, column and field path, records where each field was written in
/// <see cref="NetworkSpec.Locations"/>, then validates, so constraint errors are located too.
/// Writing emits the fully resolved configuration: every parameter, defaults included.
/// </summary>
/// <remarks>One class of about 650 lines in two files (NetworkFile.cs reads, NetworkFile.Writer.cs writes): both halves share
/// the schema's keys and value syntax, which must not drift apart (a spec checks Parse(Write(s)) = s).</remarks>
public static partial class NetworkFile
{
    /// <summary>Reads and validates a network file; throws <see cref="SpecException"/> listing every problem.</summary>
    public static NetworkSpec Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Reads and validates network YAML; <paramref name="fileName"/> is the name used in locations.</summary>
    public static NetworkSpec Parse(string yamlText, string fileName = "<string>")
    {
        var reader = new Reader(fileName);
        var spec = reader.Read(yamlText);
        if (reader.Errors.Count > 0) throw new SpecException([.. reader.Errors.OrderBy(e => e.Location?.Line).ThenBy(e => e.Location?.Column)]);
        return spec.EnsureValid();
    }

    [GeneratedRegex("^[-+]?\\.?(nan|inf|infinity)$", RegexOptions.IgnoreCase)]
    private static partial Regex SpecialFloat();

    [GeneratedRegex("^\\(Line: \\d+, Col: \\d+, Idx: \\d+\\) - \\(Line: \\d+, Col: \\d+, Idx: \\d+\\): ")]
    private static partial Regex MarkPrefix();

    /// <summary>
    /// " (did you mean 'x'?)" for the closest option within edit distance 2, or else the only option that adds a
    /// unit suffix to the word (tau_mem → tau_mem_ms); "" when there is none.
    /// </summary>
    internal static string Suggest(string word, IEnumerable<string> options)
    {
        var best = options.Select(o => (o, d: Levenshtein(word, o))).Where(t => t.d <= 2).OrderBy(t => t.d).FirstOrDefault().o
            ?? (options.Where(o => o.StartsWith(word + "_", StringComparison.Ordinal)).ToList() is [var only] ? only : null);
        return best is null ? "" : $" (did you mean '{best}'?)";
    }

    internal static int Levenshtein(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diag = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int up = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diag + (a[i - 1] == b[j - 1] ? 0 : 1));
                diag = up;
            }
        }
        return row[b.Length];
    }

    private static readonly string[] TopKeys = ["name", "run", "populations", "inputs", "projections", "currents", "monitors"];
    private static readonly string[] RunKeys = ["dt_ms", "duration_ms", "seed", "batch", "instance_offset", "threads", "max_rate_hz", "guard_window_ms"];
    private static readonly string[] PopulationKeys = ["name", "size", "model", "params", "escape_noise"];
    private static string[] ModelNames => [.. Models.ModelRegistry.Names];
    private static readonly Dictionary<string, string[]> InputKeys = new()
    {
        ["poisson"] = ["name", "kind", "size", "rate_hz", "start_ms", "stop_ms"],
        ["spike_times"] = ["name", "kind", "size", "times_ms", "indices"],
        ["clock"] = ["name", "kind", "channels", "span_ms", "period_ms"],
    };
    private static readonly string[] ProjectionKeys = ["name", "source", "target", "connectivity", "weight", "delay_ms", "weight_fraction_bits", "plasticity"];
    private static readonly Dictionary<string, string[]> RuleKeys = new()
    {
        ["all_to_all"] = ["rule", "autapses"],
        ["one_to_one"] = ["rule"],
        ["fixed_probability"] = ["rule", "p", "autapses"],
        ["fixed_in_degree"] = ["rule", "k", "autapses", "multapses"],
        ["pairs"] = ["rule", "pre", "post"],
    };
    private static readonly string[] CurrentKeys = ["target", "amplitude", "times_ms", "scales"];
    private static readonly Dictionary<string, string[]> MonitorKeys = new()
    {
        ["spikes"] = ["kind", "populations"],
        ["state"] = ["kind", "population", "variables", "indices", "interval_ms"],
        ["rate"] = ["kind", "population", "bin_ms"],
    };

    private delegate bool Conv<T>(YamlNode node, string field, out T value);

    /// <summary>A mapping whose keys were checked against the allowed ones.</summary>
    private sealed record Map(string Path, YamlMappingNode Node, Dictionary<string, YamlNode> Entries)
    {
        public YamlNode? this[string key] => Entries.GetValueOrDefault(key);
        public string Field(string key) => Join(Path, key);
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    private static bool IsNull(YamlNode n)
        => n is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    /// <summary>Turns a YAML tree into a <see cref="NetworkSpec"/>, collecting every problem instead of stopping at the first.</summary>
    private sealed class Reader(string file)
    {
        public List<SpecError> Errors { get; } = [];
        private readonly Dictionary<string, SourceLocation> _locations = [];
        private double _dt = new RunOptions().DtMs;

        private SourceLocation Loc(YamlNode n) => new(file, (int)n.Start.Line, (int)n.Start.Column);
        private void Err(string field, YamlNode n, string message) => Errors.Add(new SpecError(field, message, Loc(n)));

        public NetworkSpec Read(string text)
        {
            var stream = new YamlStream();
            var parser = new Parser(new StringReader(text));
            try { stream.Load(parser); }
            catch (Exception e) when (e is YamlException or InvalidOperationException or ArgumentException)
            {
                // YamlDotNet reports most syntax errors as YamlException with a mark; a few malformed inputs (e.g. an
                // unclosed '[' running into block content) surface as InvalidOperationException, and some event
                // sequences the representation model does not take (found by fuzzing) as ArgumentException: locate
                // those at the last event read.
                var (msg, at) = e is YamlException ye
                    ? (MarkPrefix().Replace(ye.Message, "") + (ye.InnerException is { } inner && !ye.Message.Contains(inner.Message, StringComparison.Ordinal) ? " " + inner.Message : ""), ye.Start)
                    : ("malformed text after this point (an unclosed bracket or quote?)", parser.Current?.Start ?? Mark.Empty);
                Errors.Add(new SpecError("(syntax)", "YAML syntax error: " + msg, new SourceLocation(file, (int)Math.Max(1, at.Line), (int)Math.Max(1, at.Column))));
                return new NetworkSpec();
            }
            if (stream.Documents.Count == 0)
            {
                Errors.Add(new SpecError("(file)", "the file is empty; a network needs at least 'populations'", new SourceLocation(file, 1, 1)));
                return new NetworkSpec();
            }
            for (int d = 1; d < stream.Documents.Count; d++) Err("(file)", stream.Documents[d].RootNode, "only one YAML document is allowed per file");

            if (Keys(stream.Documents[0].RootNode, "", TopKeys, "a network file") is not { } top) return new NetworkSpec();
            var run = top["run"] is { } rn && !IsNull(rn) ? ReadRun(rn) : new RunOptions();
            _dt = run.DtMs;
            return new NetworkSpec
            {
                Name = Opt(top, "name", Text, "network"),
                Run = run,
                Populations = Seq(top, "populations", ReadPopulation),
                Inputs = Seq(top, "inputs", ReadInput),
                Projections = Seq(top, "projections", ReadProjection),
                Currents = Seq(top, "currents", ReadCurrent),
                Monitors = Seq(top, "monitors", ReadMonitor),
                SourceFile = file,
                Locations = _locations,
            };
        }

        /// <summary>Checks that <paramref name="node"/> is a mapping with only <paramref name="allowed"/> keys; records each key's location.</summary>
        private Map? Keys(YamlNode node, string path, IReadOnlyCollection<string> allowed, string what)
        {
            if (node is not YamlMappingNode map)
            {
                Err(path.Length == 0 ? "(file)" : path, node, $"expected {what} (a mapping with keys {string.Join(", ", allowed)}), got {Describe(node)}");
                return null;
            }
            var entries = new Dictionary<string, YamlNode>();
            foreach (var (k, v) in map.Children)
            {
                if (k is not YamlScalarNode { Value: { } key }) { Err(path.Length == 0 ? "(file)" : path, k, "keys must be plain text"); continue; }
                if (!allowed.Contains(key))
                    Err(Join(path, key), k, $"unknown key '{key}' in {what}{Suggest(key, allowed)}; allowed keys: {string.Join(", ", allowed)}");
                else if (!entries.TryAdd(key, v)) Err(Join(path, key), k, $"key '{key}' appears twice");
                else _locations[Join(path, key)] = Loc(k);
            }
            return new Map(path, map, entries);
        }

        /// <summary>Reads the discriminating key (kind, rule) of a mapping before its other keys are checked.</summary>
        private string? Discriminator(YamlNode node, string path, string key, ICollection<string> options, string what)
        {
            if (node is not YamlMappingNode map) { Err(path, node, $"expected {what} (a mapping with a '{key}' key), got {Describe(node)}"); return null; }
            var entry = map.Children.FirstOrDefault(e => e.Key is YamlScalarNode { Value: var k } && k == key);
            if (entry.Value is null) { Err(Join(path, key), node, $"missing required key '{key}' (one of {string.Join(", ", options)})"); return null; }
            if (!Text(entry.Value, Join(path, key), out string value)) return null;
            if (options.Contains(value)) return value;
            Err(Join(path, key), entry.Value, $"unknown {key} '{value}'{Suggest(value, options)}; one of {string.Join(", ", options)}");
            return null;
        }

        private T Req<T>(Map m, string key, Conv<T> conv, T fallback)
        {
            if (m[key] is not { } n) { Err(m.Field(key), m.Node, $"missing required key '{key}'"); return fallback; }
            return conv(n, m.Field(key), out T v) ? v : fallback;
        }

        private T Opt<T>(Map m, string key, Conv<T> conv, T fallback)
            => m[key] is { } n && conv(n, m.Field(key), out T v) ? v : fallback;

        private IReadOnlyList<T> Seq<T>(Map m, string key, Func<YamlNode, string, T?> read) where T : class
        {
            if (m[key] is not { } n || IsNull(n)) return [];
            if (n is not YamlSequenceNode seq) { Err(m.Field(key), n, $"expected a list, got {Describe(n)}"); return []; }
            var list = new List<T>();
            for (int i = 0; i < seq.Children.Count; i++)
            {
                string path = $"{m.Field(key)}[{i}]";
                _locations[path] = Loc(seq.Children[i]);
                if (read(seq.Children[i], path) is { } item) list.Add(item);
            }
            return list;
        }

        private RunOptions ReadRun(YamlNode node)
        {
            var d = new RunOptions();
            if (Keys(node, "run", RunKeys, "run options") is not { } m) return d;
            return new RunOptions
            {
                DtMs = Opt(m, "dt_ms", Number, d.DtMs),
                DurationMs = Opt(m, "duration_ms", Number, d.DurationMs),
                Seed = Opt(m, "seed", Seed, d.Seed),
                Batch = Opt(m, "batch", Integer, d.Batch),
                InstanceOffset = Opt(m, "instance_offset", Integer, d.InstanceOffset),
                Threads = Opt(m, "threads", Integer, d.Threads),
                MaxRateHz = Opt(m, "max_rate_hz", OrNull<double>(Number), d.MaxRateHz),
                GuardWindowMs = Opt(m, "guard_window_ms", Number, d.GuardWindowMs),
            };
        }

        private PopulationSpec? ReadPopulation(YamlNode node, string path)
        {
            if (Keys(node, path, PopulationKeys, "a population") is not { } m) return null;
            string name = Req(m, "name", Text, "");
            int size = Req(m, "size", Integer, 0);
            NeuronParameters? parameters = null;
            if (m["model"] is not { } mn) Err(m.Field("model"), m.Node, $"missing required key 'model' (one of {string.Join(", ", ModelNames)})");
            else if (Text(mn, m.Field("model"), out string modelName))
            {
                if (Models.ModelRegistry.TryGet(modelName, out var model)) parameters = ReadParameters(m["params"], m.Field("params"), model);
                else Err(m.Field("model"), mn, $"unknown model '{modelName}'{Suggest(modelName, ModelNames)}; one of {string.Join(", ", ModelNames)}");
            }
            var noise = Opt(m, "escape_noise", OrNullRef<EscapeNoise>(ReadNoise), null);
            return parameters is null ? null : new PopulationSpec(name, size, parameters) { Noise = noise };
        }

        private NeuronParameters? ReadParameters(YamlNode? node, string path, Models.NeuronModelDefinition model)
        {
            var type = model.ParametersType;
            var parameters = model.DefaultParameters();
            var fields = Naming.Fields(type);
            if (node is null || IsNull(node)) return parameters;
            if (Keys(node, path, [.. fields.Select(f => f.Key)], $"{model.Name} parameters") is not { } m) return null;
            var nullability = new NullabilityInfoContext();
            foreach (var f in fields)
            {
                if (m[f.Key] is not { } n) continue;
                string field = m.Field(f.Key);
                if (f.Property.PropertyType == typeof(int))
                {
                    if (Integer(n, field, out int i)) f.Property.SetValue(parameters, i);
                }
                else if (IsNull(n) && nullability.Create(f.Property).WriteState == NullabilityState.Nullable) f.Property.SetValue(parameters, null);
                else if (ValueOf(n, field, out var v)) f.Property.SetValue(parameters, v);
            }
            return parameters;
        }

        private bool ReadNoise(YamlNode node, string path, out EscapeNoise noise)
        {
            noise = new EscapeNoise(0);
            if (Keys(node, path, ["delta_v"], "escape noise") is not { } m) return false;
            noise = new EscapeNoise(Req(m, "delta_v", Number, 0.0));
            return true;
        }

        private InputSpec? ReadInput(YamlNode node, string path)
        {
            if (Discriminator(node, path, "kind", InputKeys.Keys, "an input") is not { } kind) return null;
            if (Keys(node, path, InputKeys[kind], $"a {kind} input") is not { } m) return null;
            string name = Req(m, "name", Text, "");
            switch (kind)
            {
                case "poisson":
                    return new PoissonInput(name, Req(m, "size", Integer, 0), Req<Value>(m, "rate_hz", ValueOf, 0.0))
                    {
                        StartMs = Opt(m, "start_ms", Number, 0.0),
                        StopMs = Opt(m, "stop_ms", OrNull<double>(Number), null),
                    };
                case "spike_times":
                    return new SpikeTimesInput(name, Req(m, "size", Integer, 0), Req(m, "times_ms", ListOf<double>(Number), []), Req(m, "indices", ListOf<int>(Integer), []));
                default:
                    if (_locations.TryGetValue(m.Field("channels"), out var at)) _locations[m.Field("size")] = at;
                    return new ClockInput(name, Req(m, "channels", Integer, 0), Req(m, "span_ms", Number, 0.0), Opt(m, "period_ms", OrNull<double>(Number), null));
            }
        }

        private ProjectionSpec? ReadProjection(YamlNode node, string path)
        {
            if (Keys(node, path, ProjectionKeys, "a projection") is not { } m) return null;
            return new ProjectionSpec(Req(m, "source", Text, ""), Req(m, "target", Text, ""),
                Req<Connectivity>(m, "connectivity", ReadConnectivity, new Connectivity.OneToOne()),
                Req<Value>(m, "weight", ValueOf, 0.0), Opt<Value>(m, "delay_ms", ValueOf, _dt))
            {
                Name = Opt(m, "name", OrNullRef<string>(Text), null),
                WeightFractionBits = Opt(m, "weight_fraction_bits", OrNull<int>(Integer), null),
                Plasticity = m["plasticity"] is { } pn && !IsNull(pn) ? ReadPlasticity(pn, m.Field("plasticity")) : null,
            };
        }

        // plasticity: {rule: NAME, key: scalar, …}. The keys and values are the rule's to check (Sim.Plasticity's registry);
        // here only the shape: a mapping of plain keys to scalars with a text 'rule'.
        private PlasticitySpec? ReadPlasticity(YamlNode node, string path)
        {
            if (node is not YamlMappingNode map) { Err(path, node, $"expected a plasticity rule (a mapping {{rule: stdp, …}}), got {Describe(node)}"); return null; }
            string? rule = null;
            var parameters = new List<KeyValuePair<string, string>>();
            var locations = new Dictionary<string, SourceLocation> { [""] = Loc(node) };
            foreach (var (k, v) in map.Children)
            {
                if (k is not YamlScalarNode { Value: { } key }) { Err(path, k, "keys must be plain text"); continue; }
                string field = Join(path, key);
                if (locations.ContainsKey(key)) { Err(field, k, $"key '{key}' appears twice"); continue; }
                locations[key] = Loc(k);
                _locations[field] = Loc(k);
                if (v is not YamlScalarNode { Value: { } value } || IsNull(v)) { Err(field, v, $"expected a number or a word, got {Describe(v)}"); continue; }
                if (key == "rule") rule = value;
                else parameters.Add(new(key, value));
            }
            if (rule is null) { Err(Join(path, "rule"), node, "missing required key 'rule' (a plasticity rule's name, e.g. stdp)"); return null; }
            return new PlasticitySpec(rule, parameters) { Field = path, Locations = locations };
        }

        private bool ReadConnectivity(YamlNode node, string path, out Connectivity connectivity)
        {
            connectivity = new Connectivity.OneToOne();
            if (node is YamlScalarNode)
            {
                if (!Text(node, path, out string rule)) return false;
                if (rule == "all_to_all") { connectivity = new Connectivity.AllToAll(); return true; }
                if (rule == "one_to_one") return true;
                Err(path, node, RuleKeys.ContainsKey(rule)
                    ? $"{rule} needs a mapping, e.g. {{rule: {rule}, {string.Join(", ", RuleKeys[rule].Skip(1).Select(k => k + ": …"))}}}"
                    : $"unknown connectivity '{rule}'{Suggest(rule, RuleKeys.Keys)}; write all_to_all, one_to_one or a mapping with a rule");
                return false;
            }
            if (Discriminator(node, path, "rule", RuleKeys.Keys, "a connectivity") is not { } kind) return false;
            if (Keys(node, path, RuleKeys[kind], $"{kind} connectivity") is not { } m) return false;
            int errors = Errors.Count;
            connectivity = kind switch
            {
                "all_to_all" => new Connectivity.AllToAll(Opt(m, "autapses", Bool, true)),
                "one_to_one" => new Connectivity.OneToOne(),
                "fixed_probability" => new Connectivity.FixedProbability(Req(m, "p", Number, 0.0), Opt(m, "autapses", Bool, true)),
                "fixed_in_degree" => new Connectivity.FixedInDegree(Req(m, "k", Integer, 0), Opt(m, "autapses", Bool, true), Opt(m, "multapses", Bool, true)),
                _ => new Connectivity.PairList(Req(m, "pre", ListOf<int>(Integer), []), Req(m, "post", ListOf<int>(Integer), [])),
            };
            return Errors.Count == errors;
        }

        private CurrentSpec? ReadCurrent(YamlNode node, string path)
        {
            if (Keys(node, path, CurrentKeys, "a current") is not { } m) return null;
            return new CurrentSpec(Req(m, "target", Text, ""), Req<Value>(m, "amplitude", ValueOf, 0.0))
            {
                TimesMs = Opt(m, "times_ms", OrNullRef<double[]>(ListOf<double>(Number)), null),
                Scales = Opt(m, "scales", OrNullRef<double[]>(ListOf<double>(Number)), null),
            };
        }

        private MonitorSpec? ReadMonitor(YamlNode node, string path)
        {
            if (Discriminator(node, path, "kind", MonitorKeys.Keys, "a monitor") is not { } kind) return null;
            if (Keys(node, path, MonitorKeys[kind], $"a {kind} monitor") is not { } m) return null;
            return kind switch
            {
                "spikes" => new SpikeMonitorSpec(Opt(m, "populations", ListOf<string>(Text), [])),
                "state" => new StateMonitorSpec(Req(m, "population", Text, ""), Req(m, "variables", ListOf<string>(Text), []),
                    Req(m, "indices", ListOf<int>(Integer), []), Opt(m, "interval_ms", Number, _dt)),
                _ => new RateMonitorSpec(Req(m, "population", Text, ""), Opt(m, "bin_ms", Number, _dt)),
            };
        }

        // ---- scalar and value conversions; each reports its own error and returns false ----

        private bool Scalar(YamlNode n, string field, string what, out YamlScalarNode s)
        {
            s = n as YamlScalarNode ?? new YamlScalarNode();
            if (n is YamlScalarNode && !IsNull(n)) return true;
            Err(field, n, IsNull(n) ? $"missing value: expected {what}" : $"expected {what}, got {Describe(n)}");
            return false;
        }

        private bool Number(YamlNode n, string field, out double v)
        {
            v = 0;
            if (!Scalar(n, field, "a number", out var s)) return false;
            string t = s.Value ?? "";
            bool plain = s.Style is ScalarStyle.Plain or ScalarStyle.Any;
            if (plain && (SpecialFloat().IsMatch(t) || double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out v) && !double.IsFinite(v)))
                Err(field, n, $"must be a finite number, got {t}");
            else if (plain && double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out v)) return true;
            else Err(field, n, plain ? $"expected a number, got '{t}'" : $"expected a number, got the quoted text \"{t}\"");
            v = 0;
            return false;
        }

        private bool Integer(YamlNode n, string field, out int v)
        {
            v = 0;
            if (!Number(n, field, out double d)) return false;
            if (d != Math.Floor(d) || d < int.MinValue || d > int.MaxValue) { Err(field, n, $"expected an integer, got {((YamlScalarNode)n).Value}"); return false; }
            v = (int)d;
            return true;
        }

        private bool Seed(YamlNode n, string field, out ulong v)
        {
            v = 0;
            if (!Scalar(n, field, "a seed", out var s)) return false;
            if (ulong.TryParse(s.Value, NumberStyles.None, CultureInfo.InvariantCulture, out v)) return true;
            Err(field, n, $"expected an integer seed in [0, 2^64), got '{s.Value}'");
            return false;
        }

        private bool Bool(YamlNode n, string field, out bool v)
        {
            v = false;
            if (!Scalar(n, field, "true or false", out var s)) return false;
            switch (s.Value)
            {
                case "true" or "True" or "TRUE": v = true; return true;
                case "false" or "False" or "FALSE": return true;
                default: Err(field, n, $"expected true or false, got '{s.Value}'"); return false;
            }
        }

        private bool Text(YamlNode n, string field, out string v)
        {
            bool ok = Scalar(n, field, "text", out var s);
            v = ok ? s.Value ?? "" : "";
            return ok;
        }

        /// <summary>A number, a list (one value per element), {uniform: [lo, hi]}, {normal: [mean, sd]} or {normal: {mean, sd, low, high}}.</summary>
        private bool ValueOf(YamlNode n, string field, out Value v)
        {
            v = 0.0;
            if (n is YamlSequenceNode)
            {
                if (!ListOf<double>(Number)(n, field, out var xs)) return false;
                v = Value.PerElement(xs);
                return true;
            }
            if (n is not YamlMappingNode map)
            {
                if (!Number(n, field, out double x)) return false;
                v = x;
                return true;
            }
            if (map.Children.Count != 1)
            {
                Err(field, n, "a distribution is a mapping with one key: {uniform: [low, high]} or {normal: [mean, sd]}");
                return false;
            }
            if (Keys(n, field, ["uniform", "normal"], "a distribution") is not { } m) return false;
            if (m["uniform"] is { } u)
            {
                if (!Pair(u, m.Field("uniform"), "uniform needs [low, high]", out var lh)) return false;
                v = Value.Uniform(lh[0], lh[1]);
                return true;
            }
            if (m["normal"] is not { } nn) return false;
            if (nn is YamlMappingNode)
            {
                if (Keys(nn, m.Field("normal"), ["mean", "sd", "low", "high"], "a normal distribution") is not { } nm) return false;
                int errors = Errors.Count;
                v = Value.Normal(Req(nm, "mean", Number, 0.0), Req(nm, "sd", Number, 0.0),
                    Opt(nm, "low", Number, double.NegativeInfinity), Opt(nm, "high", Number, double.PositiveInfinity));
                return Errors.Count == errors;
            }
            if (!Pair(nn, m.Field("normal"), "normal needs [mean, sd] or {mean: …, sd: …, low: …, high: …}", out var ms)) return false;
            v = Value.Normal(ms[0], ms[1]);
            return true;
        }

        private bool Pair(YamlNode n, string field, string form, out double[] xs)
        {
            xs = [];
            if (n is not YamlSequenceNode { Children.Count: 2 }) { Err(field, n, $"{form}, got {(n is YamlSequenceNode s ? $"{s.Children.Count} value{(s.Children.Count == 1 ? "" : "s")}" : Describe(n))}"); return false; }
            return ListOf<double>(Number)(n, field, out xs);
        }

        private Conv<T[]> ListOf<T>(Conv<T> element) => (YamlNode n, string field, out T[] values) =>
        {
            values = [];
            if (n is not YamlSequenceNode seq) { Err(field, n, $"expected a list, got {Describe(n)}"); return false; }
            var list = new T[seq.Children.Count];
            bool ok = true;
            for (int i = 0; i < list.Length; i++) ok &= element(seq.Children[i], $"{field}[{i}]", out list[i]);
            values = list;
            return ok;
        };

        private static Conv<T?> OrNull<T>(Conv<T> conv) where T : struct => (YamlNode n, string field, out T? value) =>
        {
            value = null;
            if (IsNull(n)) return true;
            bool ok = conv(n, field, out T v);
            value = v;
            return ok;
        };

        private static Conv<T?> OrNullRef<T>(Conv<T> conv) where T : class => (YamlNode n, string field, out T? value) =>
        {
            value = null;
            if (IsNull(n)) return true;
            bool ok = conv(n, field, out T v);
            value = v;
            return ok;
        };

        private static string Describe(YamlNode n) => n switch
        {
            YamlMappingNode => "a mapping",
            YamlSequenceNode => "a list",
            _ when IsNull(n) => "nothing (null)",
            YamlScalarNode s => $"'{s.Value}'",
            _ => n.NodeType.ToString(),
        };
    }
}
