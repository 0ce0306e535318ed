using System.Globalization;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Security;

namespace Valet.Core.Triggers;

public enum TokenEndpoint { Build, BuildWithParameters, Polling, Status }

/// <summary>Where a status request's item stands (build-token-root.md §4.4).</summary>
public sealed record ItemStatus(QueueItem Item, Item Job, string State, Build? Build);

/// <summary>Who a token request turned out to be, steps 5–8 of build-token-root.md §3.</summary>
public abstract record TokenAccess
{
    /// <summary>The job, and the token that matched; null when the caller's own Job/Build grants it.</summary>
    public sealed record Granted(Item Job, JobToken? Token) : TokenAccess;

    /// <summary>Steps 5–6, one answer: <paramref name="TrueReason"/> (no-such-job, not-a-job, no-token) is for the logs only.</summary>
    public sealed record NoSuchJob(string TrueReason, string Detail, Item? Job) : TokenAccess;

    /// <summary>A token was presented and matches no active one.</summary>
    public sealed record BadToken(Item Job, string Detail) : TokenAccess;

    /// <summary>The status endpoint without a token.</summary>
    public sealed record TokenRequired(Item Job) : TokenAccess;

    /// <summary>No token, and the caller lacks Job/Build.</summary>
    public sealed record NoPermission(Item Job, Permission Missing) : TokenAccess;
}

public abstract record StatusOutcome
{
    public sealed record Found(ItemStatus Status) : StatusOutcome;
    public sealed record BadId : StatusOutcome;
    public sealed record NoSuchItem : StatusOutcome;
}

/// <summary>
/// The token endpoints' own steps: the job resolved with system rights (steps 5–6 share one answer),
/// the token compared in constant time, the caller's rights when no token is given, and the status
/// endpoint's report. Builds themselves are asked for through <see cref="BuildRequests"/>.
/// </summary>
public sealed class TokenTrigger(ItemStore items, JobTokens tokens, BuildQueue queue, BuildStore builds, Authorizer authorizer, TimeProvider time)
{
    public static string Name(TokenEndpoint e) => e switch
    {
        TokenEndpoint.Build => "build",
        TokenEndpoint.BuildWithParameters => "buildWithParameters",
        TokenEndpoint.Polling => "polling",
        _ => "status",
    };

    /// <param name="trigger">A trigger endpoint (a token-less caller needs Job/Build) rather than status (needs the token).</param>
    public async Task<TokenAccess> AccessAsync(string jobName, string? token, Caller caller, bool trigger, CancellationToken ct)
    {
        var (job, path, problem, notAJob) = await ResolveAsync(jobName, ct);
        if (job is null)
            return new TokenAccess.NoSuchJob(notAJob ? "not-a-job" : "no-such-job", problem!, null);
        var check = await tokens.CheckAsync(job.Id, token, ct);
        if (!check.AnyActive)
            return new TokenAccess.NoSuchJob("no-token", "the job has no active token", job);
        if (token is not null)
        {
            var match = check.Match;
            if (match is not null && match.ActiveAt(time.GetUtcNow().ToUnixTimeMilliseconds()))
                return new TokenAccess.Granted(job, match);
            return new TokenAccess.BadToken(job, match is null ? "no token matches" : match.Revoked ? $"token '{match.Name}' is revoked" : $"token '{match.Name}' has expired");
        }
        if (!trigger)
            return new TokenAccess.TokenRequired(job);
        if (!authorizer.Has(caller, Permission.JobBuild, path))
            return new TokenAccess.NoPermission(job, Permission.JobBuild);
        return new TokenAccess.Granted(job, null);
    }

    /// <summary>Full name to job: empty segments dropped, names ignore case, all but the last must be folders.</summary>
    async Task<(Item? Job, IReadOnlyList<Item> Path, string? Problem, bool NotAJob)> ResolveAsync(string job, CancellationToken ct)
    {
        if (!ItemName.WithinLimits(job))
            return (null, [], "the job name is beyond 4,096 characters or 64 segments", false);
        var segments = ItemName.Segments(job);
        if (segments.Length == 0)
            return (null, [], "empty job name", false);
        var bad = segments.FirstOrDefault(s => ItemName.Problem(s) is not null);
        if (bad is not null)
            return (null, [], $"no item '{bad}'", false);
        var path = await items.PathAsync(job, ct);
        for (var i = 0; i < path.Count - 1; i++)
        {
            if (!path[i].IsFolder)
                return (null, path, $"'{path[i].FullName}' is not a folder", true);
        }
        if (path.Count < segments.Length)
            return (null, path, $"no item '{segments[path.Count]}'", false);
        if (path[^1].IsFolder)
            return (null, path, $"'{path[^1].FullName}' is a folder", true);
        return (path[^1], path, null, false);
    }

    /// <summary>Where queue item <paramref name="id"/> of the job stands.</summary>
    public async Task<StatusOutcome> StatusAsync(Item job, string? id, CancellationToken ct)
    {
        if (id is null || !long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var queueId) || queueId <= 0)
            return new StatusOutcome.BadId();
        var item = await queue.FindAsync(queueId, ct);
        if (item is null || item.JobId != job.Id)
            return new StatusOutcome.NoSuchItem();
        var build = item.BuildNumber is { } n ? await builds.GetAsync(job.Id, n, ct) : null;
        var state = item.State switch
        {
            QueueState.Cancelled => "cancelled",
            QueueState.Left => "left",
            _ => QueueStatus.Of(item, job, await builds.IsBuildingAsync(job.Id, ct) ? 0 : null, time.GetUtcNow().ToUnixTimeMilliseconds()).Stage switch
            {
                QueueStage.Waiting => "waiting",
                QueueStage.Blocked => "blocked",
                _ => "buildable",
            },
        };
        return new StatusOutcome.Found(new ItemStatus(item, job, state, build));
    }
}
