using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Sim.EventCore.Description;
using Xunit;
using Xunit.Abstractions;

namespace Sim.Specs.Packaging;

/// <summary>
/// Packs the five libraries and the sim tool once for the class (docs/packages.md): into a fresh folder feed, with a
/// version no cache can hold (<c>0.1.0-spec.…</c>), without building again (the suite's own build made the outputs).
/// </summary>
public sealed class PackedFeed : IDisposable
{
    /// <summary>The packages every library ships as .nupkg and .snupkg.</summary>
    public static readonly string[] Libraries = ["Sim.EventCore", "Sim.Plasticity", "Sim.Probes", "Sim.GpuBridge", "Sim.Experiments"];

    /// <summary>
    /// Packs. <c>--no-build</c> is safe here: Specs references every packable project, so building this test assembly in
    /// a configuration built their outputs in the same configuration, and the packages hold exactly the assemblies the
    /// suite tested (<see cref="PackageTests.EveryLibraryPackageHoldsItsAssemblyDocsReadmeLicenceAndSymbols"/> compares
    /// the bytes). <c>--no-restore</c> leaves the projects' assets files alone (a restore with another version would
    /// rewrite them and make the next build start over). The publish folder of the tool and the nuspec files go to the
    /// temporary folder, not into the source tree.
    /// </summary>
    public PackedFeed()
    {
        Root = Path.Combine(Path.GetTempPath(), "sim-pack-" + Guid.NewGuid().ToString("N")[..12]);
        Feed = Path.Combine(Root, "artifacts", "packages");
        Directory.CreateDirectory(Feed);
        var v = typeof(NetworkSpec).Assembly.GetName().Version!;
        // A prerelease of the assemblies' version, unique to this run: no global or fallback packages folder can hold it.
        Version = $"{v.Major}.{v.Minor}.{v.Build}-spec.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        var clock = Stopwatch.StartNew();
        Pack = Dotnet.Run(RepoRoot, TimeSpan.FromMinutes(5),
            "pack", Path.Combine(RepoRoot, "Sim.sln"), "-c", Configuration, "--no-build", "--no-restore", "--disable-build-servers",
            "-o", Feed, $"-p:Version={Version}", $"-p:PublishDir={Path.Combine(Root, "publish")}/", $"-p:NuspecOutputPath={Path.Combine(Root, "nuspec")}/");
        PackSeconds = clock.Elapsed.TotalSeconds;
    }

    /// <summary>The configuration this test assembly (and so every packed project) was built in.</summary>
    public const string Configuration =
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    /// <summary>The repository root (the folder holding Sim.sln).</summary>
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>The temporary folder of this run; the feed is <c>artifacts/packages</c> in it, as in the repository.</summary>
    public string Root { get; }
    /// <summary>The local folder feed.</summary>
    public string Feed { get; }
    /// <summary>The version packed.</summary>
    public string Version { get; }
    /// <summary>The result of <c>dotnet pack</c>.</summary>
    public Dotnet.Result Pack { get; }
    /// <summary>Wall time of <c>dotnet pack</c>.</summary>
    public double PackSeconds { get; }

    /// <summary>The path of package <paramref name="id"/> (<c>.nupkg</c>, or <c>.snupkg</c> with <paramref name="symbols"/>).</summary>
    public string Package(string id, bool symbols = false) => Path.Combine(Feed, $"{id}.{Version}.{(symbols ? "snupkg" : "nupkg")}");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sim.sln"))) return dir.FullName;
        throw new InvalidOperationException("Sim.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Removes the temporary folder (about 1.5 GB: the tool's publish folder, the sample's output, the installed tool).</summary>
    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// The library as NuGet packages (docs/packages.md): what each package holds, the C# sample of <c>examples/csharp</c>
/// restored, built and run against the packed packages from the local folder feed, and the sim tool installed from it.
/// </summary>
public class PackageTests(PackedFeed packed, ITestOutputHelper log) : IClassFixture<PackedFeed>
{
    [Fact]
    public void EveryLibraryPackageHoldsItsAssemblyDocsReadmeLicenceAndSymbols()
    {
        AssertPacked();
        foreach (string id in PackedFeed.Libraries)
        {
            using var zip = ZipFile.OpenRead(packed.Package(id));
            var names = zip.Entries.Select(e => e.FullName).ToHashSet();
            foreach (string file in new[] { $"lib/net10.0/{id}.dll", $"lib/net10.0/{id}.xml", "README.md", "LICENSE", $"{id}.nuspec" })
                Assert.True(names.Contains(file), $"{id}: no {file} in the package ({string.Join(", ", names)})");
            // The very assembly the suite tested (a copy of it lies in the test output folder).
            Assert.Equal(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, id + ".dll")), Bytes(zip, $"lib/net10.0/{id}.dll"));
            Assert.Contains("<member name=", Text(zip, $"lib/net10.0/{id}.xml"), StringComparison.Ordinal);
            Assert.StartsWith($"# {id}", Text(zip, "README.md"), StringComparison.Ordinal);
            Assert.Contains("MIT License", Text(zip, "LICENSE"), StringComparison.Ordinal);

            var meta = Nuspec(zip, id);
            Assert.Equal(id, Value(meta, "id"));
            Assert.Equal(packed.Version, Value(meta, "version"));
            Assert.Equal("MIT", Value(meta, "license"));
            Assert.Equal("README.md", Value(meta, "readme"));
            Assert.False(string.IsNullOrWhiteSpace(Value(meta, "description")), $"{id}: no description");

            Assert.True(File.Exists(packed.Package(id, symbols: true)), $"{id}: no symbol package");
            using var symbols = ZipFile.OpenRead(packed.Package(id, symbols: true));
            Assert.Contains(symbols.Entries, e => e.FullName == $"lib/net10.0/{id}.pdb");
        }
    }

    [Fact]
    public void PackagesDependOnEachOtherAtThePackedVersion()
    {
        AssertPacked();
        var expected = new Dictionary<string, string[]>
        {
            ["Sim.EventCore"] = [],
            ["Sim.Plasticity"] = ["Sim.EventCore"],
            ["Sim.Probes"] = ["Sim.EventCore"],
            ["Sim.GpuBridge"] = ["Sim.EventCore"],
            ["Sim.Experiments"] = ["Sim.EventCore", "Sim.Plasticity", "Sim.Probes", "Sim.GpuBridge"],
        };
        foreach (var (id, sims) in expected)
        {
            using var zip = ZipFile.OpenRead(packed.Package(id));
            var deps = Nuspec(zip, id).Descendants().Where(e => e.Name.LocalName == "dependency")
                .ToDictionary(e => (string)e.Attribute("id")!, e => (string)e.Attribute("version")!);
            Assert.Equal(sims.Order(), deps.Keys.Where(k => k.StartsWith("Sim.", StringComparison.Ordinal)).Order());
            foreach (string s in sims) Assert.Equal(packed.Version, deps[s]);
        }
    }

    [Fact]
    public void GpuBridgeCarriesTheTorchSharpLoadingFixForItsConsumers()
    {
        AssertPacked();
        using var zip = ZipFile.OpenRead(packed.Package("Sim.GpuBridge"));
        // The same file the repository's Directory.Build.targets imports: one fix, in the tree and in the package.
        Assert.Equal(File.ReadAllText(Path.Combine(PackedFeed.RepoRoot, "GpuBridge", "buildTransitive", "Sim.GpuBridge.targets")),
            Text(zip, "buildTransitive/Sim.GpuBridge.targets"));
        var deps = Nuspec(zip, "Sim.GpuBridge").Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")!);
        Assert.Contains("TorchSharp", deps);
        Assert.Contains("libtorch-cpu-linux-x64", deps);
    }

    /// <summary>
    /// examples/csharp copied beside the feed (the same relative layout as in the repository, so its own nuget.config
    /// finds the feed), restored with an isolated packages folder (the Sim.* packages must come from the feed; the other
    /// dependencies come from the global packages folder as a fallback, or the configured source), built, and run on the
    /// event and on the dense engine. The sample references Sim.Experiments but not Sim.GpuBridge: the dense run loads
    /// TorchSharp only if the package's buildTransitive fix reached the sample's output through the transitive reference.
    /// </summary>
    [Fact]
    public void TheSampleBuildsAndRunsAgainstThePackages()
    {
        AssertPacked();
        string sample = Path.Combine(packed.Root, "examples", "csharp");
        Directory.CreateDirectory(sample);
        foreach (string f in Directory.EnumerateFiles(Path.Combine(PackedFeed.RepoRoot, "examples", "csharp")))
            File.Copy(f, Path.Combine(sample, Path.GetFileName(f)));
        Assert.True(File.Exists(Path.Combine(sample, "Sim.Sample.csproj")), "examples/csharp/Sim.Sample.csproj is missing");

        var clock = Stopwatch.StartNew();
        var build = Dotnet.Run(sample, TimeSpan.FromMinutes(5), "build", "Sim.Sample.csproj", "-c", "Release", "--disable-build-servers",
            $"-p:SimVersion={packed.Version}", $"-p:RestorePackagesPath={Path.Combine(packed.Root, "packages")}/",
            $"-p:RestoreFallbackFolders={Dotnet.GlobalPackagesFolder()}");
        double buildSeconds = clock.Elapsed.TotalSeconds;
        Assert.True(build.ExitCode == 0, "the sample did not build:\n" + build.Output);
        foreach (string id in PackedFeed.Libraries)
            Assert.True(Directory.Exists(Path.Combine(packed.Root, "packages", id.ToLowerInvariant(), packed.Version)),
                $"{id} {packed.Version} was not restored from the feed into the isolated packages folder");
        Assert.Contains("Marked GLIBCXX_3.4.32 as a weak version need", build.Output, StringComparison.Ordinal);

        string dll = Path.Combine(sample, "bin", "Release", "net10.0", "linux-x64", "Sim.Sample.dll");
        var results = new Dictionary<string, string[]>();
        foreach (string engine in new[] { "event", "dense" })
        {
            string outDir = Path.Combine(packed.Root, "sample-" + engine);
            var run = Dotnet.Run(sample, TimeSpan.FromMinutes(3), dll, engine, outDir);
            Assert.True(run.ExitCode == 0, $"the sample failed on the {engine} engine:\n" + run.Output);
            Assert.Contains(engine == "event" ? "engine event" : "engine dense (cpu)", run.Output, StringComparison.Ordinal);
            var populations = run.Output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("population ", StringComparison.Ordinal)).ToArray();
            Assert.Equal(2, populations.Length);
            foreach (string line in populations)
            {
                var m = Regex.Match(line, @"^population (\w+) neurons (\d+) spikes (\d+) rate ([\d.]+) Hz$");
                Assert.True(m.Success, line);
                double rate = double.Parse(m.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture);
                Assert.InRange(rate, 1.0, 200.0);
            }
            results[engine] = populations;
            byte[] head = File.ReadAllBytes(Path.Combine(outDir, "run.h5"))[..8];
            Assert.Equal(new byte[] { 0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a }, head);
        }
        // The two engines agree spike for spike (docs/numerics.md): the same counts per population.
        Assert.Equal(results["event"], results["dense"]);
        log.WriteLine($"dotnet pack {packed.PackSeconds:F1} s; sample restore and build {buildSeconds:F1} s");
    }

    /// <summary>
    /// sim as a .NET tool: installed from the feed alone (a nuget.config that clears every other source; a tool package
    /// carries all it needs) into a tool path, then run on the event and the dense engine.
    /// </summary>
    [Fact]
    public void TheSimToolInstallsFromTheFeedAndRuns()
    {
        AssertPacked();
        string config = Path.Combine(packed.Root, "tool-nuget.config");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="sim-local" value="{packed.Feed}" />
              </packageSources>
            </configuration>
            """);
        string tools = Path.Combine(packed.Root, "tools");
        var install = Dotnet.Run(packed.Root, TimeSpan.FromMinutes(5), "tool", "install", "Sim.Cli", "--tool-path", tools,
            "--version", packed.Version, "--configfile", config);
        Assert.True(install.ExitCode == 0, "dotnet tool install failed:\n" + install.Output);

        string sim = Path.Combine(tools, "sim");
        var version = Dotnet.Exec(sim, packed.Root, TimeSpan.FromMinutes(1), "--version");
        Assert.True(version.ExitCode == 0, version.Output);
        Assert.StartsWith(packed.Version.Split('-')[0], version.Output.Trim(), StringComparison.Ordinal);
        foreach (string engine in new[] { "event", "dense" })
        {
            var run = Dotnet.Exec(sim, packed.Root, TimeSpan.FromMinutes(3), "run", "--engine", engine, "--duration-ms", "20",
                "--no-plot", "--no-progress", "--out", Path.Combine(packed.Root, "sim-" + engine));
            Assert.True(run.ExitCode == 0, $"sim run --engine {engine} failed:\n" + run.Output);
            Assert.Matches(@"status\s+complete", run.Output);
        }
    }

    private void AssertPacked()
    {
        Assert.True(packed.Pack.ExitCode == 0, "dotnet pack failed:\n" + packed.Pack.Output);
        foreach (string id in PackedFeed.Libraries.Append("Sim.Cli"))
            Assert.True(File.Exists(packed.Package(id)), $"no {Path.GetFileName(packed.Package(id))} in the feed:\n" + packed.Pack.Output);
    }

    private static byte[] Bytes(ZipArchive zip, string name)
    {
        using var s = zip.GetEntry(name)!.Open();
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }

    private static string Text(ZipArchive zip, string name) => System.Text.Encoding.UTF8.GetString(Bytes(zip, name)).TrimStart('\uFEFF');

    private static XElement Nuspec(ZipArchive zip, string id) =>
        XDocument.Parse(Text(zip, $"{id}.nuspec")).Root!.Elements().First(e => e.Name.LocalName == "metadata");

    private static string? Value(XElement metadata, string name) => metadata.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
}

/// <summary>Child <c>dotnet</c> processes with a time limit, outside the MSBuild environment the test host inherited.</summary>
public static class Dotnet
{
    /// <summary>Exit code and both streams, interleaved as they came.</summary>
    public sealed record Result(int ExitCode, string Output);

    /// <summary>Runs <c>dotnet ARGS</c> in <paramref name="workingDirectory"/>.</summary>
    public static Result Run(string workingDirectory, TimeSpan limit, params string[] args) => Exec("dotnet", workingDirectory, limit, args);

    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="args"/>; kills the whole process tree past <paramref name="limit"/>.
    /// MSBuild's variables of the test host (set by <c>dotnet test</c>) are removed, and no build server or node outlives
    /// the command (one would hold the output pipes open).
    /// </summary>
    public static Result Exec(string file, string workingDirectory, TimeSpan limit, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        foreach (string key in psi.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            psi.Environment.Remove(key);
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var output = new System.Text.StringBuilder();
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            lock (output) return new Result(-1, $"{file} {string.Join(' ', args)}: killed after {limit.TotalSeconds:F0} s\n{output}");
        }
        p.WaitForExit();   // the rest of the redirected output
        lock (output) return new Result(p.ExitCode, output.ToString());
    }

    /// <summary>The global packages folder (<c>dotnet nuget locals global-packages --list</c>), a fallback folder of the sample's restore.</summary>
    public static string GlobalPackagesFolder()
    {
        var r = Run(Path.GetTempPath(), TimeSpan.FromMinutes(1), "nuget", "locals", "global-packages", "--list");
        var m = Regex.Match(r.Output, @"global-packages:\s*(\S.*?)\s*$", RegexOptions.Multiline);
        return m.Success ? m.Groups[1].Value.TrimEnd('/') : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    }
}
