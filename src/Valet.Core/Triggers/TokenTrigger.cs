using System.Globalization;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Security;

namespace Valet.Core.Triggers;

public enum TokenEndpoint { Build, BuildWithParameters, Polling, Status }

/// <summary>A /buildByToken request once the HTTP layer has read it (steps 1–1b of the decision order are its own).</summary>
public sealed record TokenTriggerRequest
{
    public required TokenEndpoint Endpoint { get; init; }
    public string? Job { get; init; }
    /// <summary>The presented token (the `token` input, else `X-Build-Token`); null when none was presented.</summary>
    public string? Token { get; init; }
    public string? Delay { get; init; }
    public string? Cause { get; init; }
    public string? Id { get; init; }
    public string? IdempotencyKey { get; init; }
    public required Caller Caller { get; init; }
    public required bool IsPost { get; init; }
    public required string Address { get; init; }
    /// <summary>Every value sent under a name, query first, then body.</summary>
    public required Func<string, IReadOnlyList<string>> Values { get; init; }

    public bool IsTrigger => Endpoint != TokenEndpoint.Status;
}

/// <summary>Where a status request's item stands (build-token-root.md §4.4).</summary>
public sealed record ItemStatus(QueueItem Item, Item Job, string State, Build? Build);

/// <summary>The answer to a token request: the status, the reason code, and what it reports.</summary>
public sealed record TriggerOutcome(int Status, string? Reason, string Message)
{
    public string? FullName { get; init; }
    public string? TokenName { get; init; }
    public long? TokenId { get; init; }
    public long? QueueId { get; init; }
    /// <summary>A replayed answer's Location, exactly as first sent.</summary>
    public string? ReplayedLocation { get; init; }
    public bool Replayed { get; init; }
    /// <summary>For the Debug log only: the failing segment, an expired or revoked token.</summary>
    public string? Detail { get; init; }
    public ItemStatus? ItemStatus { get; init; }
    /// <summary>The code the audit and Debug logs get when the answer hides it (steps 5 and 6).</summary>
    public string? TrueReason { get; init; }
    /// <summary>A presented token that met a 404 or 403: counts for the brute-force guard.</summary>
    public bool CountsAsFailure { get; init; }
}

/// <summary>
/// The token endpoints' decision procedure, in the order of build-token-root.md §3 (steps 2–17): the
/// first failing step answers. Steps 5 and 6 run with system rights and share one answer.
/// </summary>
public sealed class TokenTrigger(
    ItemStore items, JobTokens tokens, BuildQueue queue, BuildStore builds, Triggering triggering,
    Authorizer authorizer, IdempotencyKeys idempotency, TimeProvider time)
{
    public const string NoSuchJobMessage = "No such job, or it cannot be triggered with a token";

    public static string Name(TokenEndpoint e) => e switch
    {
        TokenEndpoint.Build => "build",
        TokenEndpoint.BuildWithParameters => "buildWithParameters",
        TokenEndpoint.Polling => "polling",
        _ => "status",
    };

    /// <param name="locationFor">The Location a new (201) or folded (303) item is announced with, stored for replays.</param>
    public async Task<TriggerOutcome> HandleAsync(TokenTriggerRequest r, Func<long, bool, string> locationFor, CancellationToken ct)
    {
        var queues = r.Endpoint is TokenEndpoint.Build or TokenEndpoint.BuildWithParameters;
        if (queues && !triggering.DelayIsValid(r.Delay))
            return new(400, "bad-delay", $"Invalid delay '{r.Delay}': use seconds as '5sec' or milliseconds as '5000'");
        if (r.IsTrigger && r.IdempotencyKey is { } key && !IdempotencyKeys.IsValid(key))
            return new(400, "bad-idempotency-key", "Idempotency-Key must be 1 to 255 visible ASCII characters");
        if (r.Job is null)
            return new(400, "missing-job", "The 'job' parameter is missing: give the job's full name, e.g. job=folder/name");

        // Steps 5–6: system rights, one answer for "no such job" and "no token".
        var (job, path, segmentProblem, notAJob) = await ResolveAsync(r.Job, ct);
        if (job is null)
            return NotFound(notAJob ? "not-a-job" : "no-such-job", segmentProblem!, r.Token is not null);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var check = await tokens.CheckAsync(job.Id, r.Token, ct);
        if (!check.AnyActive)
            return NotFound("no-token", "the job has no active token", r.Token is not null) with { FullName = job.FullName };

        // Step 7 onward as the caller.
        JobToken? matched = null;
        if (r.Token is not null)
        {
            var match = check.Match;
            if (match is null || !match.ActiveAt(now))
            {
                var why = match is null ? "no token matches" : match.Revoked ? $"token '{match.Name}' is revoked" : $"token '{match.Name}' has expired";
                return new TriggerOutcome(403, "bad-token", "Invalid token provided") { FullName = job.FullName, Detail = why, CountsAsFailure = true };
            }
            matched = match;
        }
        else
        {
            if (!r.IsTrigger)
                return new(403, "token-required", "The status endpoint needs the job's token") { FullName = job.FullName };
            if (!authorizer.Has(r.Caller, Permission.JobBuild, path))
                return new(403, "no-permission", $"{r.Caller.Name} is missing the {Permission.JobBuild.Name} permission and no token was given") { FullName = job.FullName };
            if (!r.IsPost)
                return new(405, "post-required", "Without a token this URL requires POST") { FullName = job.FullName };
        }

        var outcome = r.Endpoint == TokenEndpoint.Status
            ? await StatusAsync(r, job, ct)
            : await TriggerAsync(r, job, locationFor, ct);
        return outcome with { FullName = job.FullName, TokenName = matched?.Name, TokenId = matched?.Id };
    }

    static TriggerOutcome NotFound(string trueReason, string detail, bool presentedToken) =>
        new(404, "no-such-job", NoSuchJobMessage) { TrueReason = trueReason, Detail = detail, CountsAsFailure = presentedToken };

    /// <summary>Full name to job: empty segments dropped, names ignore case, all but the last must be folders.</summary>
    async Task<(Item? Job, IReadOnlyList<Item> Path, string? Problem, bool NotAJob)> ResolveAsync(string job, CancellationToken ct)
    {
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

    async Task<TriggerOutcome> TriggerAsync(TokenTriggerRequest r, Item job, Func<long, bool, string> locationFor, CancellationToken ct)
    {
        var endpoint = Name(r.Endpoint);
        IDisposable? keyLock = null;
        try
        {
            if (r.IdempotencyKey is { } key)
            {
                keyLock = await idempotency.LockAsync(job.Id, endpoint, key, ct);
                if (await idempotency.FindAsync(job.Id, endpoint, key, ct) is { } stored)
                    return new TriggerOutcome((int)stored.Status, null, "") { Replayed = true, ReplayedLocation = stored.Location, QueueId = QueueIdOf(stored.Location) };
            }
            if (job.Job!.Disabled)
                return new(400, "disabled", $"{job.FullName} is disabled");
            var hasParameters = job.Job.Parameters.Count > 0;
            if (r.Endpoint == TokenEndpoint.Build && hasParameters)
                return new(400, "wrong-endpoint", $"{job.FullName} has parameters: use /buildByToken/buildWithParameters");
            if (r.Endpoint == TokenEndpoint.BuildWithParameters && !hasParameters)
                return new(400, "wrong-endpoint", $"{job.FullName} has no parameters: use /buildByToken/build");
            if (r.Endpoint == TokenEndpoint.Polling)
                return await PollAsync(r, job, ct);

            IReadOnlyList<ParameterValue>? values = null;
            if (hasParameters)
            {
                var bound = ParameterBinder.Bind(job.Job.Parameters, r.Values);
                if (!bound.Ok)
                    return new(400, "bad-parameter", bound.Problem!);
                values = bound.Values;
            }
            triggering.TryDueAt(job, r.Delay, out var due);
            var cause = Cause.Remote(r.Address, r.Cause);
            var result = await queue.EnqueueAsync(job, values, cause, due,
                r.IdempotencyKey is { } k
                    ? (s, e) => idempotency.StoreAsync(s, job.Id, endpoint, k, new StoredAnswer(e.Folded ? 303 : 201, locationFor(e.Id, e.Folded)))
                    : null, ct);
            return new TriggerOutcome(result.Folded ? 303 : 201, null, "") { QueueId = result.Id };
        }
        finally
        {
            keyLock?.Dispose();
        }
    }

    static long? QueueIdOf(string? location) =>
        location is not null && long.TryParse(location.TrimEnd('/').Split('/')[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    async Task<TriggerOutcome> PollAsync(TokenTriggerRequest r, Item job, CancellationToken ct)
    {
        if (!job.Job!.Triggers.OfType<PollScmTrigger>().Any())
            return new(400, "cannot-poll", $"{job.FullName} has no Poll SCM trigger");
        // The SCM poll itself is a capability still to come: the request is accepted and audited.
        if (r.IdempotencyKey is { } key)
            await idempotency.StoreNowAsync(job.Id, Name(r.Endpoint), key, new StoredAnswer(200, null), ct);
        return new(200, null, "Scheduled.");
    }

    async Task<TriggerOutcome> StatusAsync(TokenTriggerRequest r, Item job, CancellationToken ct)
    {
        if (r.Id is null || !long.TryParse(r.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
            return new(400, "bad-id", "The 'id' parameter must be a queue item id (a positive integer)");
        var item = await queue.FindAsync(id, ct);
        if (item is null || item.JobId != job.Id)
            return new(404, "no-such-item", "No such queue item for this job");
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
        return new TriggerOutcome(200, null, "") { ItemStatus = new ItemStatus(item, job, state, build), QueueId = id };
    }
}
