using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Valet.Core.Execution;

public sealed record ProcessSpec(string Script, string WorkingDirectory, IReadOnlyDictionary<string, string> Environment);

/// <summary>
/// Owns every child process: a step runs as `/bin/sh -xe` in its own session (so its whole tree shares
/// one process group), stdout and stderr merged and streamed to the caller. Each group is recorded in
/// <see cref="ProcessGroups"/> before the step's first command runs, and forgotten once it has ended.
/// </summary>
public sealed partial class ProcessRunner(ProcessGroups groups, ILogger<ProcessRunner> logger)
{
    // The session's first shell waits for this line on its standard input before it runs the step: the
    // group is recorded in between. Without it (the server died first, the pipe closed) nothing runs.
    const string GoAhead = "go";

    public static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(5);

    /// <summary>Runs <paramref name="spec"/>; returns its exit code, or null when aborted through <paramref name="abort"/>.</summary>
    public async Task<int?> RunAsync(ProcessSpec spec, Func<ReadOnlyMemory<byte>, Task> output, CancellationToken abort)
    {
        var scriptFile = Path.Combine(Path.GetTempPath(), $"valet-step-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(scriptFile, spec.Script, CancellationToken.None);
        try
        {
            var psi = new ProcessStartInfo("/usr/bin/setsid")
            {
                WorkingDirectory = spec.WorkingDirectory,
                RedirectStandardOutput = true,
                RedirectStandardInput = true,
                RedirectStandardError = false,
                UseShellExecute = false,
            };
            // setsid execs in place (our child is not a group leader), so the shell's pid is the group id.
            // The server runs with umask 077 for its home; a build writes its workspace with the umask it was started with.
            foreach (var a in (string[])["/bin/sh", "-c",
                $"IFS= read -r go && [ \"$go\" = {GoAhead} ] || exit 125; umask {FileModes.OriginalUmaskText}; exec /bin/sh -xe \"$0\" 2>&1", scriptFile])
                psi.ArgumentList.Add(a);
            // The spec's environment is the whole environment: nothing of the server's own leaks past it.
            psi.Environment.Clear();
            foreach (var (k, v) in spec.Environment)
                psi.Environment[k] = v;

            using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start /bin/sh");
            string record;
            try
            {
                record = groups.Record(process.Id);
            }
            catch
            {
                // Without the go-ahead the shell exits at once, having run nothing of the step.
                process.StandardInput.Close();
                await process.WaitForExitAsync(CancellationToken.None);
                throw;
            }
            try
            {
                process.StandardInput.Write(GoAhead + "\n");
                process.StandardInput.Close();
                var aborted = false;
                await using var onAbort = abort.Register(() =>
                {
                    aborted = true;
                    _ = KillGroupAsync(process);
                });
                // The output is read alongside: a background child holding the pipe must not hold the step.
                var pump = PumpAsync(process.StandardOutput.BaseStream, output);
                await process.WaitForExitAsync(CancellationToken.None);
                // The step ends with its shell; what it left running in its group gets SIGTERM, then SIGKILL.
                await EndGroupAsync(process.Id);
                // Output already in the pipe is kept; a process that left the group could hold it open forever.
                await Task.WhenAny(pump, Task.Delay(KillGrace, CancellationToken.None));
                return aborted ? null : process.ExitCode;
            }
            finally
            {
                ProcessGroups.Remove(record);
            }
        }
        finally
        {
            File.Delete(scriptFile);
        }
    }

    static async Task PumpAsync(Stream stdout, Func<ReadOnlyMemory<byte>, Task> output)
    {
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await stdout.ReadAsync(buffer, CancellationToken.None)) > 0)
            await output(buffer.AsMemory(0, n));
    }

    /// <summary>SIGTERM to what is left of the group, up to <see cref="KillGrace"/> for it to go, then SIGKILL.</summary>
    static async Task EndGroupAsync(int processGroup)
    {
        if (!ProcessGroupSignals.Exists(processGroup))
            return;
        ProcessGroupSignals.Send(processGroup, ProcessGroupSignals.Term);
        var deadline = Environment.TickCount64 + (long)KillGrace.TotalMilliseconds;
        while (ProcessGroupSignals.Exists(processGroup) && Environment.TickCount64 < deadline)
            await Task.Delay(50, CancellationToken.None);
        ProcessGroupSignals.Send(processGroup, ProcessGroupSignals.Kill);
    }

    /// <summary>SIGTERM to the group, a grace period, then SIGKILL to the group and the tree.</summary>
    async Task KillGroupAsync(Process process)
    {
        try
        {
            ProcessGroupSignals.Send(process.Id, ProcessGroupSignals.Term);
            using var grace = new CancellationTokenSource(KillGrace);
            try { await process.WaitForExitAsync(grace.Token); }
            catch (OperationCanceledException) { }
            ProcessGroupSignals.Send(process.Id, ProcessGroupSignals.Kill);
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Log.KillFailed(logger, e, process.Id);
        }
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not kill process group {Pid}")]
        public static partial void KillFailed(ILogger logger, Exception e, int pid);
    }
}
