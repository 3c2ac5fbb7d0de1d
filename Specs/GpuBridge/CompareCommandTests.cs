using Sim.Cli;
using Sim.GpuBridge;
using Xunit;

namespace Sim.Specs.GpuBridge;

/// <summary><c>sim compare</c>: verdicts and exit codes.</summary>
public class CompareCommandTests
{
    [Fact]
    public void CubaIsIdentical()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CommandLine.Run(["compare", "--duration-ms", "50"], stdout, stderr);
        Assert.True(code == 0, stdout + "\n" + stderr);
        Assert.Matches(@"^identical: \d+ spikes over 500 ticks, 1 instances", stdout.ToString());
    }

    [Fact]
    public void BadArgumentsAreUsageErrors()
    {
        var stderr = new StringWriter();
        Assert.Equal(2, CommandLine.Run(["compare", "--device", "tpu"], TextWriter.Null, stderr));
        Assert.Contains("'tpu' is not one of cpu, cuda", stderr.ToString());
        Assert.Equal(2, CommandLine.Run(["compare", "--duration-ms", "-3"], TextWriter.Null, TextWriter.Null));
        Assert.Equal(2, CommandLine.Run(["compare", "--frobnicate"], TextWriter.Null, TextWriter.Null));
        Assert.Equal(2, CommandLine.Run(["compare", "/no/such/file.net"], TextWriter.Null, TextWriter.Null));
        var help = new StringWriter();
        Assert.Equal(0, CommandLine.Run(["compare", "--help"], help, TextWriter.Null));
        Assert.Contains("sim compare [FILE]", help.ToString());
    }

    [NoGpuFact]
    public void CudaWithoutCudaFailsClearly()
    {
        var stderr = new StringWriter();
        Assert.Equal(1, CommandLine.Run(["compare", "--duration-ms", "1", "--device", "cuda"], TextWriter.Null, stderr));
        Assert.Contains("CUDA is not available", stderr.ToString());
    }
}
