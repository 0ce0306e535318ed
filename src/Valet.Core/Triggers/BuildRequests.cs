using Valet.Core.Configuration;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Scm;

namespace Valet.Core.Triggers;

/// <summary>How a request carries its parameter values.</summary>
public abstract record ParameterInput
{
    /// <summary>No values: a plain build, for jobs without parameters.</summary>
    public sealed record None : ParameterInput;

    /// <summary>Values by exact name (query, form fields), bound to the job's definitions.</summary>
    public sealed record Named(Func<string, IReadOnlyList<string>> Values) : ParameterInput;

    /// <summary>Jenkins' `json` form: <c>{"parameter":[{"name":…,"value":…}]}</c>.</summary>
    public sealed record Json(string Text) : ParameterInput;

    public static readonly ParameterInput Nothing = new None();
}

/// <summary>An `Idempotency-Key` and the family of requests it is scoped to (per job, e.g. "build").</summary>
public sealed record IdempotencyKey(string Scope, string Key);

/// <summary>A request for a build of one job, from any source: token endpoints, core URLs, the poller, the scheduler.</summary>
public sealed record BuildRequest
{
    public required Item Job { get; init; }
    public required Cause Cause { get; init; }
    public ParameterInput Parameters { get; init; } = ParameterInput.Nothing;
    /// <summary>The `delay` input as sent; null takes the job's quiet period.</summary>
    public string? Delay { get; init; }
    public IdempotencyKey? Idempotency { get; init; }
}

public enum NotBuildableReason { Disabled }

/// <summary>What became of a build or poll request; the HTTP layer maps each to its answer.</summary>
public abstract record BuildOutcome
{
    /// <summary>A new queue item.</summary>
    public sealed record Queued(long QueueId) : BuildOutcome;

    /// <summary>Folded into an equivalent item still waiting.</summary>
    public sealed record Folded(long QueueId) : BuildOutcome;

    /// <summary>A polling run was handed over.</summary>
    public sealed record PollScheduled : BuildOutcome;

    /// <summary>The idempotency key was used before: nothing was done, <paramref name="First"/> is what the first use got.</summary>
    public sealed record Replayed(BuildOutcome First) : BuildOutcome;

    public sealed record NotBuildable(NotBuildableReason Reason) : BuildOutcome;

    /// <summary>The job has parameters and none could be sent this way, or it has none and some were.</summary>
    public sealed record WrongEndpoint(bool JobHasParameters) : BuildOutcome;

    /// <summary>The job has no Poll-SCM trigger.</summary>
    public sealed record CannotPoll : BuildOutcome;

    /// <summary>Nothing to fold into and the job already holds <c>server.maxQueuedPerJob</c> waiting items (step 15).</summary>
    public sealed record QueueFull : BuildOutcome;

    /// <summary>An input the request sent is malformed: `delay`, or a parameter (named).</summary>
    public sealed record BadInput(string Parameter, string Reason) : BuildOutcome;
}

/// <summary>
/// The one way to start a build: every source hands its request here, and the rules run once, in the
/// order of build-token-root.md §3 from step 10 on (who may ask is decided before, by the caller's
/// channel): idempotency replay, disabled, parameters, due time, then folding or a new item, committed
/// together with the idempotency record before the outcome is returned.
/// </summary>
public sealed class BuildRequests(BuildQueue queue, IdempotencyKeys idempotency, ServerSettings server, TimeProvider time, PollRequests polls)
{
    public const string DelayParameter = "delay";

    /// <summary>limits.md §1: the longest `cause` a trigger takes (UTF-16 code units).</summary>
    public const int MaxCauseLength = 1024;

    /// <summary>Step 2c of build-token-root.md §3, right after `delay`.</summary>
    public static bool CauseIsValid(string? cause) => cause is null || cause.Length <= MaxCauseLength;

    public const string CauseProblem = "The cause is longer than 1,024 characters";

    public static string DelayProblem(string delay) =>
        $"Invalid delay '{delay}': use seconds as '5sec' or milliseconds as '5000'";

    /// <summary>Whether `delay` is well formed; checked early by channels that answer it before the job is known.</summary>
    public bool DelayIsValid(string? delay) => delay is null || DueAt(delay, TimeSpan.Zero) is not null;

    /// <summary>Why the job cannot build now, or null.</summary>
    public static NotBuildableReason? NotBuildable(Item job) => job.Job!.Disabled ? NotBuildableReason.Disabled : null;

    public TimeSpan QuietPeriod(Item job) => TimeSpan.FromSeconds(job.Job!.QuietPeriod ?? server.QuietPeriod);

    DateTimeOffset? DueAt(string? delay, TimeSpan quietPeriod)
    {
        var now = time.GetUtcNow();
        if (delay is null)
            return now + quietPeriod;
        return Delay.TryParseSeconds(delay, out var seconds) ? Delay.DueAt(now, seconds) : null;
    }

    public async Task<BuildOutcome> RequestBuildAsync(BuildRequest request, CancellationToken ct)
    {
        var job = request.Job;
        if (request.Idempotency is { } key && await idempotency.FindAsync(job.Id, key, ct) is { } earlier)
            return new BuildOutcome.Replayed(earlier);
        if (NotBuildable(job) is { } why)
            return new BuildOutcome.NotBuildable(why);
        var definitions = job.Job!.Parameters;
        var bound = (request.Parameters, definitions.Count > 0) switch
        {
            (ParameterInput.Named, false) => null,
            (ParameterInput.None, true) => null,
            (ParameterInput.None or ParameterInput.Json, false) => new BindResult([], null, null),
            (ParameterInput.Named named, true) => ParameterBinder.Bind(definitions, named.Values),
            (ParameterInput.Json json, true) => ParameterBinder.BindJson(job.FullName, definitions, json.Text),
            _ => throw new ArgumentOutOfRangeException(nameof(request), request.Parameters, "unknown parameter input"),
        };
        if (bound is null)
            return new BuildOutcome.WrongEndpoint(definitions.Count > 0);
        if (!bound.Ok)
            return new BuildOutcome.BadInput(bound.BadParameter ?? "json", bound.Problem!);
        if (DueAt(request.Delay, QuietPeriod(job)) is not { } due)
            return new BuildOutcome.BadInput(DelayParameter, DelayProblem(request.Delay!));

        var values = definitions.Count > 0 ? bound.Values : null;
        if (request.Idempotency is not { } k)
            return Of(await queue.EnqueueAsync(job, values, request.Cause, due, ct));
        var once = await queue.EnqueueOnceAsync(job, values, request.Cause, due, s => idempotency.ClaimAsync(s, job.Id, k),
            (s, result) => idempotency.RecordAsync(s, job.Id, k, Of(result)), ct);
        // A concurrent first use of the key won: what it got is committed by now.
        if (once is null)
            return new BuildOutcome.Replayed(await idempotency.FindAsync(job.Id, k, ct)
                ?? throw new InvalidOperationException("an idempotency key was claimed but holds no outcome"));
        return Of(once);
    }

    static BuildOutcome Of(EnqueueResult result) =>
        result.Full ? new BuildOutcome.QueueFull() : result.Folded ? new BuildOutcome.Folded(result.Id) : new BuildOutcome.Queued(result.Id);

    /// <summary>Asks for a polling run of the job's SCM.</summary>
    public async Task<BuildOutcome> RequestPollAsync(Item job, IdempotencyKey? key, CancellationToken ct)
    {
        if (key is not null && await idempotency.FindAsync(job.Id, key, ct) is { } earlier)
            return new BuildOutcome.Replayed(earlier);
        if (NotBuildable(job) is { } why)
            return new BuildOutcome.NotBuildable(why);
        if (!job.Job!.Triggers.OfType<PollScmTrigger>().Any())
            return new BuildOutcome.CannotPoll();
        var scheduled = new BuildOutcome.PollScheduled();
        if (key is not null)
        {
            var first = await idempotency.RecordOnceAsync(job.Id, key, scheduled, ct);
            // Only the first use of the key polls; a concurrent repeat gets its answer replayed.
            if (first is not BuildOutcome.Replayed)
                await polls.RequestAsync(job.Id, ct);
            return first;
        }
        await polls.RequestAsync(job.Id, ct);
        return scheduled;
    }
}
