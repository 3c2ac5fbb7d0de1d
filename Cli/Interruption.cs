using System.Runtime.InteropServices;

namespace Sim.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM as one cancellation for a command: the signal's default action (ending the process) is
/// cancelled and the command stops at its next safe point, keeping what it wrote (exit 130). Registered with
/// <see cref="PosixSignalRegistration"/> rather than <see cref="Console.CancelKeyPress"/>: the latter leaves SIGINT
/// alone when it was ignored at start (a process started in the background by a non-interactive shell inherits
/// SIG_IGN for SIGINT), and it does not see SIGTERM, the signal batch systems and <c>kill</c> send.
/// </summary>
internal sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration _int, _term;

    public Interruption()
    {
        // A SIGINT ignored since start (inherited SIG_IGN) is reset to the default first, so that the registration
        // below takes it: a run started with `sim … &` from a script must still stop on `kill -INT`.
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) ResetIgnoredInterrupt();
        _int = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
    }

    [DllImport("libc", EntryPoint = "signal")]
    private static extern nint Signal(int signal, nint handler);

    private static void ResetIgnoredInterrupt()
    {
        const int SigInt = 2;
        const nint SigDfl = 0, SigIgn = 1;
        try
        {
            nint previous = Signal(SigInt, SigDfl);
            if (previous != SigIgn) Signal(SigInt, previous);   // not ignored: leave the runtime's handler as it was
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        _cts.Cancel();
    }

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _cts.Token;
    /// <summary>True once a signal arrived.</summary>
    public bool IsCancellationRequested => _cts.IsCancellationRequested;

    public void Dispose()
    {
        _int.Dispose();
        _term.Dispose();
        _cts.Dispose();
    }
}
