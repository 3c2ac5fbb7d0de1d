using System.Runtime.InteropServices;

namespace Sim.Cli;

/// <summary>
/// Ctrl-C (SIGINT), SIGTERM and SIGHUP as one cancellation for a command: the signal's default action (ending the
/// process) is cancelled and the command stops at its next safe point, keeping what it wrote and writing what it promised
/// (a run's run.h5 and checkpoint), with exit code 128 + the signal's number (<see cref="ExitCode"/>: 130, 143, 129).
/// A SIGHUP ignored at start (<c>nohup</c>) stays ignored: the runtime does not take over an ignored signal, which is
/// what nohup promises (only SIGINT is reset, below). A second signal is not cancelled: the process ends at once with the signal's default action (what was already
/// written stays: spike chunks on disk, files completed before; run.h5 is only ever renamed into place when complete). Registered with
/// <see cref="PosixSignalRegistration"/> rather than <see cref="Console.CancelKeyPress"/>: the latter leaves SIGINT
/// alone when it was ignored at start (a process started in the background by a non-interactive shell inherits
/// SIG_IGN for SIGINT), and it does not see SIGTERM, the signal batch systems and <c>kill</c> send.
/// </summary>
internal sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration _int, _term, _hup;
    private int _signals;
    private PosixSignal _first;

    public Interruption()
    {
        // A SIGINT ignored since start (inherited SIG_IGN) is reset to the default first, so that the registration
        // below takes it: a run started with `sim … &` from a script must still stop on `kill -INT`.
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) ResetIgnoredInterrupt();
        _int = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
        _hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Handle);
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
        if (Interlocked.Increment(ref _signals) > 1) return;   // the second signal: its default action ends the process
        _first = context.Signal;
        context.Cancel = true;
        _cts.Cancel();
    }

    /// <summary>
    /// The exit code for the signal that cancelled: 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP), as shells report a
    /// process ended by that signal; <see cref="ExitCodes.Interrupted"/> when none arrived.
    /// </summary>
    public int ExitCode => _first switch
    {
        PosixSignal.SIGTERM => ExitCodes.Terminated,
        PosixSignal.SIGHUP => ExitCodes.HungUp,
        _ => ExitCodes.Interrupted,
    };

    /// <summary>Cancelled by the first SIGINT, SIGTERM or SIGHUP.</summary>
    public CancellationToken Token => _cts.Token;
    /// <summary>True once a signal arrived.</summary>
    public bool IsCancellationRequested => _cts.IsCancellationRequested;

    public void Dispose()
    {
        _int.Dispose();
        _term.Dispose();
        _hup.Dispose();
        _cts.Dispose();
    }
}
