using Valet.Core.Execution;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Triggers;

namespace Valet.Core.Scm;

/// <summary>
/// Runs polling runs on a bounded pool of workers, one at a time per job across all servers (<see cref="PollRequests"/>):
/// reads the remote branch head, compares it with the revision the job last built, writes the job's
/// polling log, and asks for a build with the SCM cause when it changed or the job never built.
/// </summary>
public sealed partial class ScmPoller(
    PollRequests requests, ItemStore items, GitClient git, ScmStore store, BuildRequests builds, PollingLog pollingLog, ValetHome home,
    TimeProvider time, ILogger<ScmPoller> logger) : BackgroundService
{
    public const int Workers = 2;

    protected override Task ExecuteAsync(CancellationToken stopping) =>
        Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(() => WorkAsync(stopping), CancellationToken.None)));

    async Task WorkAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            long jobId;
            try
            {
                jobId = await requests.TakeAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The store refused the claim: look again a moment later, not in a tight loop.
                Log.ClaimFailed(logger, e);
                await Task.Delay(TimeSpan.FromSeconds(1), time, CancellationToken.None);
                continue;
            }
            try
            {
                await PollAsync(jobId, stopping);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
            {
                Log.PollFailed(logger, e, jobId);
            }
            finally
            {
                await ReleaseAsync(jobId, stopping);
            }
        }
    }

    /// <summary>
    /// Gives the job's claim back. Retried while the store refuses it: a claim this live server keeps
    /// would stop the job's polling until the server stops (then another takes it over).
    /// </summary>
    async Task ReleaseAsync(long jobId, CancellationToken stopping)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await requests.DoneAsync(jobId, CancellationToken.None);
                return;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                Log.ReleaseFailed(logger, e, jobId);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 10)), time, CancellationToken.None);
            }
            catch (Exception)
            {
                return;
            }
        }
    }

    /// <summary>One polling run of the job: its log replaces nothing, it is appended to the job's polling log.</summary>
    public async Task PollAsync(long jobId, CancellationToken ct)
    {
        if (await items.GetAsync(jobId, ct) is not { Job: { } definition } job)
            return;
        await using var log = pollingLog.Start(jobId, new SecretMasker(definition.Scm is { } configured ? GitUrl.Secrets(configured.Url) : []));

        var started = time.GetUtcNow();
        await log.LineAsync($"Started on {started:yyyy-MM-dd HH:mm:ss}Z");
        if (definition.Scm is not { } scm)
        {
            await log.LineAsync("No git repository is configured; nothing to poll");
            return;
        }
        await log.LineAsync($"Polling {GitUrl.Masked(scm.Url)} branch {scm.Branch}");
        if (scm.Credentials is { } credentials)
            await log.LineAsync(GitCheckout.CredentialsNotUsed(credentials));
        var head = await git.RemoteHeadAsync(scm, home.JobDirectory(jobId), log.WriteAsync, ct);
        var last = await store.LastBuiltRevisionAsync(jobId, null, ct);
        string? reason = null;
        if (head is null)
            await log.LineAsync($"Could not read the head of {scm.Branch}; no build");
        else if (last is null)
            reason = $"No build recorded yet; the head is {head}";
        else if (head != last)
            reason = $"Changes found: {last} → {head}";
        else
            await log.LineAsync($"No changes: {scm.Branch} is still at {head}");
        if (reason is not null)
        {
            await log.LineAsync(reason);
            var outcome = await builds.RequestBuildAsync(new BuildRequest { Job = job, Cause = Cause.Scm }, ct);
            await log.LineAsync(outcome switch
            {
                BuildOutcome.Queued q => $"Scheduled a build (queue item {q.QueueId})",
                BuildOutcome.Folded f => $"A build is already waiting (queue item {f.QueueId})",
                _ => $"No build: {outcome}",
            });
        }
        await log.LineAsync($"Done. Took {(time.GetUtcNow() - started).TotalSeconds:0.###} s");
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Polling job {JobId} failed")]
        public static partial void PollFailed(ILogger logger, Exception e, long jobId);

        [LoggerMessage(Level = LogLevel.Error, Message = "Claiming a waiting polling run failed")]
        public static partial void ClaimFailed(ILogger logger, Exception e);

        [LoggerMessage(Level = LogLevel.Error, Message = "Ending the polling run of job {JobId} failed; trying again")]
        public static partial void ReleaseFailed(ILogger logger, Exception e, long jobId);
    }
}
