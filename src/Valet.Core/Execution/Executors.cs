using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Storage;

namespace Valet.Core.Execution;

public sealed class ExecutorOptions
{
    public int Count { get; set; } = Environment.ProcessorCount;
    /// <summary>The absolute URL builds see in BUILD_URL and JOB_URL; ends with '/'.</summary>
    public string RootUrl { get; set; } = "http://localhost:8080/";
    public string NodeName { get; set; } = "built-in";
}

/// <summary>
/// The server's executors: take the next item the queue lets start, give it a build number and a
/// workspace, run its steps, record the result. At start, builds a crash left "running" are recorded
/// as aborted; at stop, running builds are aborted and recorded.
/// </summary>
public sealed partial class Executors(
    Database db, ItemStore items, BuildQueue queue, BuildStore builds, BuildRunner runner, ValetHome home,
    IOptions<ExecutorOptions> options, TimeProvider time, ILogger<Executors> logger) : BackgroundService
{
    sealed record Running(Build Build, CancellationTokenSource Abort)
    {
        public string? AbortedBy { get; set; }
        public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    readonly ConcurrentDictionary<(long JobId, long Number), Running> running = new();
    readonly ConcurrentDictionary<string, byte> workspacesInUse = new();
    readonly ConcurrentDictionary<Task, byte> tasks = new();
    ExecutorOptions Options => options.Value;

    public override async Task StartAsync(CancellationToken ct)
    {
        await RecoverAsync(ct);
        await base.StartAsync(ct);
    }

    /// <summary>Builds found running at start were cut off by a crash: record them as aborted.</summary>
    async Task RecoverAsync(CancellationToken ct)
    {
        foreach (var build in await builds.RunningAsync(ct))
        {
            await using (var console = new ConsoleWriter(home.BuildLog(build.JobId, build.Number), new SecretMasker([])))
            {
                await console.EndOutputAsync();
                await console.WriteLineAsync("Build aborted: the server stopped while this build was running.");
                await console.WriteLineAsync("Finished: ABORTED");
            }
            await builds.FinishAsync(build, BuildResult.Aborted, time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
            Log.Recovered(logger, build.JobId, build.Number);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        using var slots = new SemaphoreSlim(Options.Count, Options.Count);
        var free = new ConcurrentStack<int>(Enumerable.Range(1, Options.Count).Reverse());
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await slots.WaitAsync(stopping);
                free.TryPop(out var slot);
                Started? started;
                try
                {
                    started = await ClaimAsync(slot, stopping);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.ClaimFailed(logger, e);
                    started = null;
                }
                if (started is null)
                {
                    free.Push(slot);
                    slots.Release();
                    await WaitForWorkAsync(stopping);
                    continue;
                }
                var task = Task.Run(async () =>
                {
                    try { await RunAsync(started); }
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
    }

    async Task WaitForWorkAsync(CancellationToken stopping)
    {
        // Other server processes may queue work too, so look again at least every second.
        var wait = TimeSpan.FromSeconds(1);
        if (await queue.NextDueAsync(stopping) is { } due)
        {
            var untilDue = TimeSpan.FromMilliseconds(due - time.GetUtcNow().ToUnixTimeMilliseconds());
            if (untilDue < wait)
                wait = untilDue < TimeSpan.Zero ? TimeSpan.FromMilliseconds(50) : untilDue;
        }
        await queue.WaitForChangeAsync(wait, stopping);
    }

    sealed record Started(Build Build, Item Job);

    Task<Started?> ClaimAsync(int slot, CancellationToken ct) => db.WriteAsync(async s =>
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var jobs = new Dictionary<long, Item?>();
        var item = await queue.ClaimAsync(s, async jobId =>
        {
            var job = jobs[jobId] = await items.GetAsync(s, jobId);
            return job is not null && (job.Job!.Concurrent || !await BuildStore.IsBuildingAsync(s, jobId));
        }, now);
        if (item is null)
            return null;
        var job = jobs[item.JobId]!;
        var workspace = TakeWorkspace(job.FullName);
        try
        {
            var number = await items.TakeBuildNumberAsync(s, item.JobId);
            var build = await builds.StartAsync(s, item, number, slot, workspace, Options.NodeName, now);
            await BuildQueue.MarkLeftAsync(s, item.Id, build.Number, Options.NodeName, now);
            // The cause line exists before the build shows as started: it is written before the commit.
            var log = home.BuildLog(build.JobId, build.Number);
            Directory.CreateDirectory(Path.GetDirectoryName(log)!);
            await File.WriteAllTextAsync(log, string.Concat(build.Causes.Select(c => c.ShortDescription + "\n")), CancellationToken.None);
            return new Started(build, job);
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

    async Task RunAsync(Started started)
    {
        var (build, job) = started;
        using var abort = new CancellationTokenSource();
        var entry = new Running(build, abort);
        running[(build.JobId, build.Number)] = entry;
        string result;
        try
        {
            result = await runner.RunAsync(build, job, Environment(build, job), abort.Token, () => entry.AbortedBy);
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
            await builds.FinishAsync(build, result, time.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None);
        }
        finally
        {
            running.TryRemove((build.JobId, build.Number), out _);
            entry.Finished.TrySetResult();
        }
        Log.Finished(logger, job.FullName, build.Number, result);
    }

    Dictionary<string, string> Environment(Build build, Item job)
    {
        var number = build.Number.ToString(CultureInfo.InvariantCulture);
        var jobUrl = Options.RootUrl + job.UrlPath;
        var env = new Dictionary<string, string>
        {
            ["BUILD_NUMBER"] = number,
            ["BUILD_ID"] = number,
            ["BUILD_URL"] = jobUrl + number + "/",
            ["JOB_NAME"] = job.FullName,
            ["JOB_BASE_NAME"] = job.Name,
            ["JOB_URL"] = jobUrl,
            ["WORKSPACE"] = build.Workspace,
            ["VALET_HOME"] = home.Root,
            ["NODE_NAME"] = build.Node,
            ["EXECUTOR_NUMBER"] = (build.Executor - 1).ToString(CultureInfo.InvariantCulture),
        };
        foreach (var p in build.Parameters ?? [])
            env[p.Name] = p.Value;
        return env;
    }

    /// <summary>Aborts a running build; false when it is not running here.</summary>
    public bool Abort(long jobId, long number, string by)
    {
        if (!running.TryGetValue((jobId, number), out var entry))
            return false;
        entry.AbortedBy ??= by;
        entry.Abort.Cancel();
        return true;
    }

    /// <summary>Aborts every running build of these jobs and waits until they have stopped.</summary>
    public async Task AbortAllAsync(IReadOnlySet<long> jobIds, string by, CancellationToken ct)
    {
        var stopping = running.Values.Where(r => jobIds.Contains(r.Build.JobId)).ToList();
        foreach (var entry in stopping)
            Abort(entry.Build.JobId, entry.Build.Number, by);
        await Task.WhenAll(stopping.Select(r => r.Finished.Task)).WaitAsync(ct);
    }

    public override async Task StopAsync(CancellationToken ct)
    {
        foreach (var entry in running.Values)
        {
            entry.AbortedBy ??= "the server shutting down";
            await entry.Abort.CancelAsync();
        }
        await base.StopAsync(ct);
        await Task.WhenAll(tasks.Keys).WaitAsync(ct).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Build {Job} #{Number} was running when the server stopped; recorded as aborted")]
        public static partial void Recovered(ILogger logger, long job, long number);

        [LoggerMessage(Level = LogLevel.Error, Message = "Taking an item from the queue failed")]
        public static partial void ClaimFailed(ILogger logger, Exception e);

        [LoggerMessage(Level = LogLevel.Error, Message = "Build {Job} #{Number} failed inside Valet")]
        public static partial void BuildCrashed(ILogger logger, Exception e, string job, long number);

        [LoggerMessage(Level = LogLevel.Information, Message = "Build {Job} #{Number} finished: {Result}")]
        public static partial void Finished(ILogger logger, string job, long number, string result);
    }
}
