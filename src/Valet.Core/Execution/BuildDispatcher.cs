using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Scm;
using Valet.Core.Storage;

namespace Valet.Core.Execution;

public sealed class ExecutorOptions
{
    public int Count { get; set; } = System.Environment.ProcessorCount;
    /// <summary>The absolute URL builds see in BUILD_URL and JOB_URL; ends with '/'.</summary>
    public string RootUrl { get; set; } = "http://localhost:8080/";
    public string NodeName { get; set; } = "built-in";
    /// <summary><c>server.environment</c>.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; set; } = new Dictionary<string, string>();
}

/// <summary>
/// The server's executors: each free executor claims the next item the queue lets start, which gives
/// it a build number and a workspace, and runs it as a <see cref="BuildRun"/>. Abort requests recorded
/// on builds stop the builds running here, whoever recorded them. At stop, running builds are aborted
/// and recorded; what a crash leaves is ended by <see cref="ServerHeartbeat"/>.
/// </summary>
public sealed partial class BuildDispatcher(
    Database db, ItemStore items, BuildQueue queue, BuildStore builds, IEnumerable<IStepRunner> stepRunners, ValetHome home,
    IOptions<ExecutorOptions> options, TimeProvider time, ILogger<BuildDispatcher> logger, GitCheckout? git = null, ServerNode? node = null)
    : BackgroundService
{
    readonly ServerNode server = node ?? ServerNode.ForThisProcess("");

    /// <summary>How often the builds running here look for abort requests recorded by other processes.</summary>
    public static readonly TimeSpan AbortRequestPoll = TimeSpan.FromSeconds(1);

    sealed class Running(Build build)
    {
        string? abortedBy;
        public Build Build { get; } = build;
        public CancellationTokenSource Abort { get; } = new();
        public string? AbortedBy => Volatile.Read(ref abortedBy);
        public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Stops the build; the first to ask is the one the console names.</summary>
        public void Stop(string by)
        {
            Interlocked.CompareExchange(ref abortedBy, by, null);
            try
            {
                Abort.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The build has ended meanwhile: nothing is left to stop.
            }
        }
    }

    // Builds running in this process, for the local fast path of an abort and for the stop at shutdown;
    // what a build's abort means is its row (BuildStore.RequestAbortAsync).
    readonly ConcurrentDictionary<(long JobId, long Number), Running> running = new();
    readonly ConcurrentDictionary<string, byte> workspacesInUse = new();
    readonly ConcurrentDictionary<Task, byte> tasks = new();
    readonly IReadOnlyDictionary<string, IStepRunner> runners = stepRunners.ToDictionary(r => r.StepType);
    readonly ConsoleLogs consoles = new(db, home, time);
    ExecutorOptions Options => options.Value;

    public override Task StartAsync(CancellationToken ct)
    {
        // Items another server queued wake this one's executors at once, not at their next look.
        db.Announced += topic =>
        {
            if (topic is BuildQueue.QueueTopic or "*")
                queue.Signal();
        };
        return base.StartAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var watch = WatchAbortRequestsAsync(stopping);
        using var slots = new SemaphoreSlim(Options.Count, Options.Count);
        var free = new ConcurrentStack<int>(Enumerable.Range(1, Options.Count).Reverse());
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                if (!server.CanClaim)
                {
                    await queue.WaitForChangeAsync(TimeSpan.FromSeconds(1), stopping);
                    continue;
                }
                await slots.WaitAsync(stopping);
                free.TryPop(out var slot);
                Claimed? claimed;
                try
                {
                    claimed = await ClaimAsync(slot, stopping);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The store logs once that it is out of reach; a line per second would bury it.
                    if (e is not StoreUnavailableException)
                        Log.ClaimFailed(logger, e);
                    claimed = null;
                }
                if (claimed is null)
                {
                    free.Push(slot);
                    slots.Release();
                    await WaitForWorkAsync(stopping);
                    continue;
                }
                // Known here before it starts, so an abort arriving meanwhile finds it.
                var entry = running[(claimed.Build.JobId, claimed.Build.Number)] = new Running(claimed.Build);
                var task = Task.Run(async () =>
                {
                    try { await RunAsync(claimed, entry); }
                    finally
                    {
                        free.Push(slot);
                        slots.Release();
                        queue.Signal();
                    }
                }, CancellationToken.None);
                tasks.TryAdd(task, 0);
                _ = task.ContinueWith(t => tasks.TryRemove(t, out _), TaskScheduler.Default);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        await watch;
    }

    async Task WaitForWorkAsync(CancellationToken stopping)
    {
        // Other server processes may queue work too, so look again at least every second.
        var wait = TimeSpan.FromSeconds(1);
        long? due;
        try
        {
            due = await queue.NextDueAsync(stopping);
        }
        // The store out of reach: look again after the usual wait; the executors must outlive it.
        catch (StoreUnavailableException)
        {
            due = null;
        }
        if (due is not null)
        {
            var untilDue = TimeSpan.FromMilliseconds(due.Value - time.GetUtcNow().ToUnixTimeMilliseconds());
            if (untilDue < wait)
                wait = untilDue < TimeSpan.Zero ? TimeSpan.FromMilliseconds(50) : untilDue;
        }
        await queue.WaitForChangeAsync(wait, stopping);
    }

    sealed record Claimed(Build Build, Item Job);

    /// <summary>
    /// Takes the next item, the job's next build number and, unless the job builds concurrently, its
    /// build slot, and records the build as starting on this server: one transaction. The console is
    /// not written here.
    /// </summary>
    Task<Claimed?> ClaimAsync(int slot, CancellationToken ct) => db.WriteAsync(async s =>
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (await queue.ClaimAsync(s, Options.NodeName, now) is not { } item)
            return null;
        // Queue items go with their job (ON DELETE CASCADE), so the job is there.
        var job = await items.GetAsync(s, item.JobId) ?? throw new InvalidOperationException($"Queue item {item.Id} has no job");
        var workspace = TakeWorkspace(job.FullName);
        try
        {
            var number = await items.TakeBuildNumberAsync(s, item.JobId);
            var build = await builds.StartAsync(s, item, number, slot, workspace, Options.NodeName, server.Id, now);
            // The claim skipped jobs holding a slot; a conflict here means another process took this
            // job's slot since, and throwing rolls this claim back so the item waits.
            if (!job.Job!.Concurrent && !await BuildStore.TakeSlotAsync(s, build))
                throw new InvalidOperationException($"{job.FullName} started building elsewhere while queue item {item.Id} was claimed");
            await queue.MarkLeftAsync(s, item.Id, build.Number, Options.NodeName, now);
            return new Claimed(build, job);
        }
        catch
        {
            workspacesInUse.TryRemove(workspace, out _);
            throw;
        }
    }, ct);

    /// <summary>The job's workspace, or `@2`, `@3` … when a concurrent build has it.</summary>
    string TakeWorkspace(string fullName)
    {
        for (var n = 1; ; n++)
        {
            var path = home.Workspace(fullName, n);
            if (workspacesInUse.TryAdd(path, 0))
                return path;
        }
    }

    async Task RunAsync(Claimed claimed, Running entry)
    {
        var (build, job) = claimed;
        string? result = null;
        try
        {
            // Committed before the first process: from here a crash records the build aborted.
            if (await builds.MarkStartedAsync(build, time.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None) is { } started)
            {
                build = started;
                var run = new BuildRun(build, job, home, consoles, Options.RootUrl, runners, Options.Environment, git);
                result = await run.RunAsync(entry.Abort.Token, () => entry.AbortedBy);
            }
            else
            {
                // This server was found dead meanwhile and the item is back in the queue, for any server.
                Log.ClaimLost(logger, job.FullName, build.Number);
            }
        }
        catch (Exception e)
        {
            Log.BuildCrashed(logger, e, job.FullName, build.Number);
            result = BuildResult.Failure;
        }
        finally
        {
            workspacesInUse.TryRemove(build.Workspace, out _);
        }
        try
        {
            if (result is not null && !await builds.FinishAsync(build, result, time.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None))
                Log.ResultDropped(logger, job.FullName, build.Number, result);
            else if (result is not null)
                Log.Finished(logger, job.FullName, build.Number, result);
        }
        finally
        {
            running.TryRemove((build.JobId, build.Number), out _);
            entry.Finished.TrySetResult();
            entry.Abort.Dispose();
        }
    }

    /// <summary>Stops the builds running here that someone asked, in any process, to stop.</summary>
    async Task WatchAbortRequestsAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(AbortRequestPoll, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                if (running.IsEmpty)
                    continue;
                try
                {
                    foreach (var request in await builds.AbortRequestsAsync(stopping))
                    {
                        if (running.TryGetValue((request.JobId, request.Number), out var entry))
                            entry.Stop(request.By);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    if (e is not StoreUnavailableException)
                        Log.AbortRequestsFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Records on the build that <paramref name="by"/> asked it to stop, which stops it wherever it
    /// runs; a build running here stops at once. False when the build is not running.
    /// </summary>
    public async Task<bool> AbortAsync(long jobId, long number, string by, CancellationToken ct)
    {
        var requestedBy = await builds.RequestAbortAsync(jobId, number, by, ct);
        if (running.TryGetValue((jobId, number), out var entry))
            entry.Stop(requestedBy ?? by);
        return requestedBy is not null;
    }

    /// <summary>Aborts every running build of these jobs and waits until those running here have stopped.</summary>
    public async Task AbortAllAsync(IReadOnlySet<long> jobIds, string by, CancellationToken ct)
    {
        var requests = await builds.RequestAbortAllAsync(jobIds, by, ct);
        var stopping = new List<Running>();
        foreach (var request in requests)
        {
            if (running.TryGetValue((request.JobId, request.Number), out var entry))
            {
                entry.Stop(request.By);
                stopping.Add(entry);
            }
        }
        await Task.WhenAll(stopping.Select(r => r.Finished.Task)).WaitAsync(ct);
    }

    /// <summary>Stops every build running here (the heartbeat's answer to losing the store).</summary>
    public void StopAll(string by)
    {
        foreach (var entry in running.Values)
            entry.Stop(by);
    }

    public override async Task StopAsync(CancellationToken ct)
    {
        foreach (var entry in running.Values)
            entry.Stop("the server shutting down");
        await base.StopAsync(ct);
        await Task.WhenAll(tasks.Keys).WaitAsync(ct).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Build {Job} #{Number} was not started: its item went back to the queue while this server was thought dead")]
        public static partial void ClaimLost(ILogger logger, string job, long number);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Build {Job} #{Number} ended {Result} here, but its end was recorded already while this server was thought dead")]
        public static partial void ResultDropped(ILogger logger, string job, long number, string result);

        [LoggerMessage(Level = LogLevel.Error, Message = "Taking an item from the queue failed")]
        public static partial void ClaimFailed(ILogger logger, Exception e);

        [LoggerMessage(Level = LogLevel.Error, Message = "Reading the abort requests of running builds failed")]
        public static partial void AbortRequestsFailed(ILogger logger, Exception e);

        [LoggerMessage(Level = LogLevel.Error, Message = "Build {Job} #{Number} failed inside Valet")]
        public static partial void BuildCrashed(ILogger logger, Exception e, string job, long number);

        [LoggerMessage(Level = LogLevel.Information, Message = "Build {Job} #{Number} finished: {Result}")]
        public static partial void Finished(ILogger logger, string job, long number, string result);
    }
}
