using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Valet.Core.Storage;

namespace Valet.Core.Execution;

/// <summary>
/// Tells the store every <see cref="Interval"/> that this server is alive, and ends the work of
/// servers silent for <see cref="DeadAfter"/>: their started builds are recorded ABORTED, their
/// claimed but unstarted items go back to the queue. A server that cannot write its heartbeat stops
/// claiming, and once others may have found it dead, stops its own builds, whose results would be
/// dropped. At start, with SQLite's one server, every open build is from a crash; on a shared store
/// only those of dead servers are.
/// </summary>
public sealed partial class ServerHeartbeat(
    Database db, ServerNode node, ServerNodes nodes, BuildDispatcher dispatcher, ValetHome home, TimeProvider time,
    ILogger<ServerHeartbeat> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(30);

    const string DeadServerReason = "Build aborted: the server running it stopped answering";
    const string CrashReason = "Build aborted: the server stopped while this build was running.";

    long lastBeat;
    readonly ConsoleLogs consoles = new(db, home, time);

    long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public override async Task StartAsync(CancellationToken ct)
    {
        await JoinAsync(ct);
        await base.StartAsync(ct);
    }

    /// <summary>Records this server as alive and ends what a crash or a dead server left, before anything is claimed.</summary>
    public async Task JoinAsync(CancellationToken ct)
    {
        if (db.Shared)
        {
            await nodes.RegisterAsync(node, Now, ct);
            await EndDeadServersAsync(ct);
        }
        else
        {
            foreach (var build in await nodes.EndAllAsync(Now, ct))
                await RecordAbortInConsoleAsync(build, CrashReason);
            await nodes.RegisterAsync(node, Now, ct);
        }
        lastBeat = Now;
        node.CanClaim = true;
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
                await TickAsync(stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>One heartbeat, then, if it was written, the end of the servers found dead.</summary>
    public async Task TickAsync(CancellationToken ct)
    {
        if (!await BeatAsync(ct))
            return;
        try
        {
            await EndDeadServersAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.EndingDeadFailed(logger, e);
        }
    }

    async Task<bool> BeatAsync(CancellationToken ct)
    {
        var now = Now;
        try
        {
            if (!await nodes.BeatAsync(node, now, ct))
            {
                // Another server found this one dead and recorded its builds' end: what still runs
                // here would be dropped, so it stops; then this server starts over as a live one.
                Log.FoundDead(logger, node.Id);
                dispatcher.StopAll("the server running it stopped answering");
                await nodes.RegisterAsync(node, now, ct);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            node.CanClaim = false;
            Log.BeatFailed(logger, e);
            if (now - lastBeat >= DeadAfter.TotalMilliseconds)
                dispatcher.StopAll("the server running it losing its database");
            return false;
        }
        lastBeat = now;
        node.CanClaim = true;
        return true;
    }

    async Task EndDeadServersAsync(CancellationToken ct)
    {
        var silentSince = Now - (long)DeadAfter.TotalMilliseconds;
        foreach (var dead in await nodes.DeadAsync(node.Id, silentSince, ct))
        {
            var aborted = await nodes.EndDeadAsync(dead, silentSince, Now, ct);
            foreach (var build in aborted)
                await RecordAbortInConsoleAsync(build, DeadServerReason);
            Log.EndedDead(logger, dead, aborted.Count);
        }
    }

    /// <summary>The console's last lines for a build whose end another process recorded.</summary>
    async Task RecordAbortInConsoleAsync(BuildStore.Released build, string reason)
    {
        try
        {
            await using var console = await consoles.AppendAsync(build.JobId, build.Number, new SecretMasker([]), CancellationToken.None);
            await console.EndOutputAsync();
            await console.WriteLineAsync(reason);
            await console.WriteLineAsync("Finished: ABORTED");
        }
        catch (Exception e) when (e is IOException or StoreUnavailableException or Npgsql.NpgsqlException)
        {
            // The record is what counts; a console that cannot be written only lacks its last lines.
            Log.ConsoleFailed(logger, e, build.JobId, build.Number);
        }
        Log.Aborted(logger, build.JobId, build.Number, reason);
    }

    public override async Task StopAsync(CancellationToken ct)
    {
        await base.StopAsync(ct);
        try
        {
            await nodes.RemoveAsync(node, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Left behind, the row only makes the others end this server's (finished) work in 30 s.
            Log.BeatFailed(logger, e);
        }
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Build {Job} #{Number} recorded as aborted: {Reason}")]
        public static partial void Aborted(ILogger logger, long job, long number, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Server {Server} stopped answering; its work is ended ({Aborted} builds aborted)")]
        public static partial void EndedDead(ILogger logger, string server, int aborted);

        [LoggerMessage(Level = LogLevel.Error, Message = "This server ({Server}) was found dead by another; its builds were stopped")]
        public static partial void FoundDead(ILogger logger, string server);

        [LoggerMessage(Level = LogLevel.Error, Message = "Writing the heartbeat failed; no new builds start until it succeeds")]
        public static partial void BeatFailed(ILogger logger, Exception e);

        [LoggerMessage(Level = LogLevel.Error, Message = "Ending the work of dead servers failed")]
        public static partial void EndingDeadFailed(ILogger logger, Exception e);

        [LoggerMessage(Level = LogLevel.Error, Message = "Writing the end of build {Job} #{Number} to its console failed")]
        public static partial void ConsoleFailed(ILogger logger, Exception e, long job, long number);
    }
}
