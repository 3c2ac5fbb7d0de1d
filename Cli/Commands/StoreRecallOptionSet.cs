using System.CommandLine;
using Sim.Experiments;

namespace Sim.Cli.Commands;

/// <summary>
/// The options <c>sim task store-recall</c> and <c>sim sweep store-recall</c> share (network size, epochs, learning
/// rate, update timing, conventions): one definition, the same names, defaults and errors in both, and the
/// translation of <see cref="StoreRecallOptions.Validate"/>'s property names into the options a user typed.
/// </summary>
internal sealed class StoreRecallOptionSet(int epochsDefault, int epochsMin)
{
    public Option<int> Neurons { get; } = SimOptions.Neurons(150);
    public Option<int> Steps { get; } = SimOptions.Steps(150);
    public Option<int> Epochs { get; } = SimOptions.Epochs("learning epochs", epochsDefault, epochsMin);
    public Option<double?> EtaScaled { get; } = SimOptions.EtaScaled();
    public Option<double?> EtaPerNorm { get; } = SimOptions.EtaPerNorm();
    public Option<bool> PerTrial { get; } = SimOptions.Flag("--per-trial", "sum the rule's updates over each epoch and apply them at its end (default: online, every step, as in the paper)");
    public Option<bool> Authors { get; } = SimOptions.Flag("--authors", "the conventions of the authors' code (myscience/goal train.py): --teacher-lag and --initial-rec-sd 1 (docs/tasks/store_recall.md, \"Conventions\")");
    public Option<bool> TeacherLag { get; } = SimOptions.Flag("--teacher-lag", "the teacher drive of tick t is W_teach y*[t-1]: its spikes are read out against the next tick's target (the authors' one-step lag)");
    public Option<double?> InitialRecSd { get; } = SimOptions.InitialRecSd();

    /// <summary>Adds the options and their relations to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Neurons, Steps, Epochs, EtaScaled, EtaPerNorm, PerTrial, Authors, TeacherLag, InitialRecSd }) command.Add(o);
        SimOptions.Without(command, Authors, "already sets --teacher-lag and --initial-rec-sd 1", TeacherLag, InitialRecSd);
    }

    /// <summary>The task's options with these values.</summary>
    public StoreRecallOptions Apply(StoreRecallOptions o, ParseResult r)
    {
        o = o with
        {
            Neurons = r.GetValue(Neurons),
            Steps = r.GetValue(Steps),
            Epochs = r.GetValue(Epochs),
            PerTrial = r.GetValue(PerTrial),
            TeacherLag = r.GetValue(TeacherLag),
            InitialRecurrentSd = r.GetValue(InitialRecSd) ?? 0,
        };
        return r.GetValue(Authors) ? o.WithAuthorsConventions() : o;
    }

    /// <summary>The sweep's options with these values.</summary>
    public StoreRecallSweepOptions Apply(StoreRecallSweepOptions o, ParseResult r)
    {
        bool authors = r.GetValue(Authors);
        return o with
        {
            Neurons = r.GetValue(Neurons),
            Steps = r.GetValue(Steps),
            Epochs = r.GetValue(Epochs),
            PerTrial = r.GetValue(PerTrial),
            TeacherLag = authors || r.GetValue(TeacherLag),
            InitialRecurrentSd = authors ? 1.0 : r.GetValue(InitialRecSd) ?? 0,
            EtaScaled = r.GetValue(EtaScaled),
            StepPerFeedbackNorm = r.GetValue(EtaPerNorm),
        };
    }

    /// <summary>The option a property of <see cref="StoreRecallOptions"/> or <see cref="StoreRecallSweepOptions"/> comes from.</summary>
    private static readonly Dictionary<string, string> OptionOf = new()
    {
        ["Neurons"] = "--neurons", ["Steps"] = "--steps", ["Rank"] = "--rank", ["TauStarDt"] = "--tau-star", ["Epochs"] = "--epochs",
        ["OutputSpace"] = "--output-space", ["StepPerFeedbackNorm"] = "--eta-per-norm", ["EtaScaled"] = "--eta-scaled",
        ["InitialRecurrentSd"] = "--initial-rec-sd", ["Seeds"] = "--seeds", ["Threads"] = "--threads", ["probes"] = "--probes",
    };

    /// <summary>
    /// A validation error as a usage error that names the option: "Rank: must lie in [O, N]" becomes
    /// "option --rank: must lie in [O, N]"; "Outputs: …" (the task's 3 outputs against a too small N) becomes a
    /// statement about --neurons.
    /// </summary>
    public static UsageException Usage(ArgumentException e, bool lists = false)
    {
        string m = e.Message;
        int colon = m.IndexOf(':');
        if (colon > 0)
        {
            string property = m[..colon];
            if (property == "Outputs") return new UsageException($"option --neurons: must be at least the task's {new StoreRecallOptions().Outputs} outputs");
            if (lists && property is "Rank" or "TauStarDt") return new UsageException($"option {(property == "Rank" ? "--ranks" : "--tau-stars")}:{m[(colon + 1)..]}");
            if (OptionOf.TryGetValue(property, out var option)) return new UsageException($"option {option}:{m[(colon + 1)..]}");
        }
        return new UsageException(m);
    }
}
