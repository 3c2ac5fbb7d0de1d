using System.Text.RegularExpressions;
using Xunit;

namespace Sim.Specs;

/// <summary>
/// The documentation is self-contained: no link or path in README, docs/, the packages' READMEs (PACKAGE.md) or the
/// sources (help texts, XML docs, the C# sample in examples/) points outside the repository, and every repository path
/// they name (markdown links, <c>docs/…</c> and <c>scripts/…</c> mentions) exists.
/// </summary>
public partial class DocumentationTests
{
    private static string Root([System.Runtime.CompilerServices.CallerFilePath] string here = "")
        => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, ".."));

    private static IEnumerable<string> Files()
    {
        string root = Root();
        yield return Path.Combine(root, "README.md");
        yield return Path.Combine(root, "BENCHMARKS.md");
        foreach (string f in Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories)) yield return f;
        // The README of each NuGet package (docs/packages.md).
        foreach (string dir in new[] { "Cli", "EventCore", "Plasticity", "Probes", "GpuBridge", "Experiments" })
            yield return Path.Combine(root, dir, "PACKAGE.md");
        foreach (string dir in new[] { "Cli", "EventCore", "Plasticity", "Probes", "GpuBridge", "Experiments", "Fuzz", "Bench", "examples" })
            foreach (string f in Directory.EnumerateFiles(Path.Combine(root, dir), "*.cs", SearchOption.AllDirectories))
                if (!f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                    yield return f;
    }

    [GeneratedRegex(@"\]\(([^)#\s]+)(#[^)]*)?\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"(?<![\w/.-])((?:docs|scripts)/[\w./-]*\w)")]
    private static partial Regex RepositoryPath();

    /// <summary>The development team's notes beside the checkout, which users never see (spelled in parts, so that this file does not name them itself).</summary>
    private static readonly string[] OutsideNames = [string.Concat("../", "shared"), string.Concat("MODELS", ".md"), string.Concat("DESIGN", ".md")];

    [Fact]
    public void NothingPointsOutsideTheRepository()
    {
        string root = Root();
        bool Escapes(string file, string line) => file.EndsWith(".md", StringComparison.Ordinal) && MarkdownLink().Matches(line).Any(m => !m.Groups[1].Value.Contains("://", StringComparison.Ordinal)
            && Path.GetRelativePath(root, Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, m.Groups[1].Value))).StartsWith("..", StringComparison.Ordinal));
        var outside = Files().SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => OutsideNames.Any(n => x.line.Contains(n, StringComparison.Ordinal)) || Escapes(x.f, x.line))
            .Select(x => $"{Path.GetRelativePath(root, x.f)}:{x.i + 1}: {x.line.Trim()}").ToList();
        Assert.True(outside.Count == 0, string.Join("\n", outside));
    }

    [Fact]
    public void EveryRepositoryPathNamedExists()
    {
        string root = Root();
        var missing = new List<string>();
        foreach (string f in Files())
        {
            string dir = Path.GetDirectoryName(f)!;
            int n = 0;
            foreach (string line in File.ReadLines(f))
            {
                n++;
                foreach (Match m in f.EndsWith(".md", StringComparison.Ordinal) ? MarkdownLink().Matches(line) : Enumerable.Empty<Match>())
                {
                    string target = m.Groups[1].Value;
                    if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
                    if (!File.Exists(Path.Combine(dir, target)) && !Directory.Exists(Path.Combine(dir, target)))
                        missing.Add($"{Path.GetRelativePath(root, f)}:{n}: link {target}");
                }
                foreach (Match m in RepositoryPath().Matches(line))
                {
                    string path = m.Groups[1].Value.TrimEnd('.');
                    if (path.Contains('*', StringComparison.Ordinal) || path.Contains("…", StringComparison.Ordinal)) continue;
                    if (!File.Exists(Path.Combine(root, path)) && !Directory.Exists(Path.Combine(root, path)))
                        missing.Add($"{Path.GetRelativePath(root, f)}:{n}: {path}");
                }
            }
        }
        Assert.True(missing.Count == 0, $"{missing.Count} paths that do not exist:\n" + string.Join("\n", missing.Take(80)));
    }
}
