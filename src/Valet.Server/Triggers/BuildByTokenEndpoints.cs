using System.Globalization;
using System.Text;
using System.Text.Json;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Triggers;
using Valet.Server.Hosting;
using Valet.Server.Security;

namespace Valet.Server.Triggers;

/// <summary>What a token request is answered with, and what its audit entry and Debug line say.</summary>
sealed record TokenAnswer(int Status, string? Reason, string Message)
{
    public string? FullName { get; init; }
    public JobToken? Token { get; init; }
    public long? QueueId { get; init; }
    public string? Location { get; init; }
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
/// /buildByToken/*: reachable by anyone whatever the security setup, exempt from crumbs, any method.
/// Reads the request (query, form or multipart text fields, X-Build-Token, Idempotency-Key), runs the
/// steps of build-token-root.md §3 in order — the guard, credential and body steps here, the job and
/// token through <see cref="TokenTrigger"/>, the build through <see cref="BuildRequests"/> — and maps
/// each outcome to the answer, the audit log and one Debug line per rejection.
/// </summary>
public static partial class BuildByTokenEndpoints
{
    static readonly TokenAnswer BodyTooLarge = new(413, "body-too-large", BodyLimitMiddleware.TooLargeMessage);
    public const string NoSuchJobMessage = "No such job, or it cannot be triggered with a token";
    public const string LogCategory = "Valet.Triggers.BuildByToken";

    public static void MapBuildByToken(this IEndpointRouteBuilder app) =>
        app.Map("/buildByToken/{**endpoint}", Handle).AllowAnonymous();

    static TokenEndpoint? Parse(string? endpoint) => endpoint?.TrimEnd('/') switch
    {
        "build" => TokenEndpoint.Build,
        "buildWithParameters" => TokenEndpoint.BuildWithParameters,
        "polling" => TokenEndpoint.Polling,
        "status" => TokenEndpoint.Status,
        _ => null,
    };

    static async Task Handle(HttpContext context, string? endpoint, TokenTrigger tokens, BuildRequests builds, TriggerGuard guard, TriggerAudit audit,
        ClientAddress clientAddress, ILoggerFactory loggers, TimeProvider time, CancellationToken ct)
    {
        var logger = loggers.CreateLogger(LogCategory);
        var request = context.Request;
        var address = clientAddress.Of(context);
        var kind = Parse(endpoint);
        endpoint = kind is { } k ? TokenTrigger.Name(k) : endpoint ?? "";
        string? job = request.Query["job"].FirstOrDefault();
        string? idempotencyKey = request.Headers["Idempotency-Key"].FirstOrDefault();
        var answer = await DecideAsync();
        // Recorded before answering, so a client that reads the audit log next finds its request there.
        if (answer.CountsAsFailure)
            guard.RecordFailure(address);
        if (answer.Status >= 400)
            Log.Rejected(logger, endpoint, TriggerAudit.Shortened(job), address, answer.TrueReason ?? answer.Reason, answer.Detail);
        else if (answer.Token is { } used)
            audit.RecordTokenUse(used.Id, address);
        audit.Record(new AuditEntry(0, time.GetUtcNow().ToUnixTimeMilliseconds(), endpoint, job, answer.FullName, address, answer.Status,
            answer.TrueReason ?? answer.Reason, answer.QueueId, idempotencyKey, answer.Token?.Name, 1));
        await AnswerAsync(context, answer);

        async Task<TokenAnswer> DecideAsync()
        {
            // A blocked address gets 429 for every /buildByToken/ request, unknown endpoints too (§8.3).
            if (guard.RetryAfter(address) is { } wait)
            {
                context.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return new(429, "rate-limited", "Too many failed attempts from this address; try again later");
            }
            if (context.Items[AuthenticationMiddleware.SignInBlockedKey] is TimeSpan signInWait)
            {
                context.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(signInWait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return new(429, "rate-limited", "Too many failed sign-in attempts from this address; try again later");
            }
            if (kind is not { } endpointKind)
                return new(404, "no-such-endpoint", "No such endpoint under /buildByToken/");
            if (context.Items.ContainsKey(AuthenticationMiddleware.BadCredentialsKey))
            {
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"Valet\"";
                return new(401, "bad-credentials", "Invalid user name, password or API token");
            }
            if (request.ContentLength > BodyLimitMiddleware.Limit)
                return BodyTooLarge;
            var (inputs, problem) = await RequestInputs.ReadWholeBodyAsync(context, ct);
            switch (problem)
            {
                case RequestInputs.Problem.TooLarge:
                    return BodyTooLarge;
                case RequestInputs.Problem.BadBody:
                    return new(400, "bad-body", "The request body could not be parsed as a form");
            }
            var queues = endpointKind is TokenEndpoint.Build or TokenEndpoint.BuildWithParameters;
            var isTrigger = endpointKind != TokenEndpoint.Status;
            var delay = queues ? inputs.First("delay") : null;
            if (!builds.DelayIsValid(delay))
                return new(400, "bad-delay", BuildRequests.DelayProblem(delay!));
            if (queues && !BuildRequests.CauseIsValid(inputs.First("cause")))
                return new(400, "cause-too-long", BuildRequests.CauseProblem);
            if (isTrigger && idempotencyKey is not null && !IdempotencyKeys.IsValid(idempotencyKey))
                return new(400, "bad-idempotency-key", "Idempotency-Key must be 1 to 255 visible ASCII characters");
            job = inputs.First("job");
            if (job is null)
                return new(400, "missing-job", "The 'job' parameter is missing: give the job's full name, e.g. job=folder/name");
            var tokenValues = inputs.Values("token");
            var token = tokenValues.Count > 0 ? tokenValues[0] : request.Headers["X-Build-Token"].FirstOrDefault();

            var access = await tokens.AccessAsync(job, token, context.Caller(), isTrigger, ct);
            var presented = token is not null;
            if (access is not TokenAccess.Granted granted)
            {
                return access switch
                {
                    TokenAccess.NoSuchJob n => new TokenAnswer(404, "no-such-job", NoSuchJobMessage)
                    { FullName = n.Job?.FullName, TrueReason = n.TrueReason, Detail = n.Detail, CountsAsFailure = presented },
                    TokenAccess.BadToken b => new TokenAnswer(403, "bad-token", "Invalid token provided")
                    { FullName = b.Job.FullName, Detail = b.Detail, CountsAsFailure = true },
                    TokenAccess.TokenRequired t => new TokenAnswer(403, "token-required", "The status endpoint needs the job's token") { FullName = t.Job.FullName },
                    TokenAccess.NoPermission p => new TokenAnswer(403, "no-permission", $"{context.Caller().Name} is missing the {p.Missing.Name} permission and no token was given")
                    { FullName = p.Job.FullName },
                    _ => throw new InvalidOperationException($"unexpected token access {access}"),
                };
            }
            var item = granted.Job;
            if (granted.Token is null && !HttpMethods.IsPost(request.Method))
                return new(405, "post-required", "Without a token this URL requires POST") { FullName = item.FullName };

            var answer = endpointKind switch
            {
                TokenEndpoint.Status => Status(await tokens.StatusAsync(item, inputs.First("id"), ct)),
                _ => Trigger(context, item, await RequestAsync(endpointKind, item, inputs, delay, idempotencyKey, address, builds, ct)),
            };
            return answer with { FullName = item.FullName, Token = granted.Token };
        }
    }

    static Task<BuildOutcome> RequestAsync(TokenEndpoint endpoint, Item job, RequestInputs inputs, string? delay, string? idempotencyKey,
        string address, BuildRequests builds, CancellationToken ct)
    {
        var key = idempotencyKey is null ? null : new IdempotencyKey(TokenTrigger.Name(endpoint), idempotencyKey);
        if (endpoint == TokenEndpoint.Polling)
            return builds.RequestPollAsync(job, key, ct);
        return builds.RequestBuildAsync(new BuildRequest
        {
            Job = job,
            Cause = Cause.Remote(address, inputs.First("cause")),
            Parameters = endpoint == TokenEndpoint.BuildWithParameters ? new ParameterInput.Named(inputs.Values) : ParameterInput.Nothing,
            Delay = delay,
            Idempotency = key,
        }, ct);
    }

    static TokenAnswer Status(StatusOutcome outcome) => outcome switch
    {
        StatusOutcome.Found f => new(200, null, "") { ItemStatus = f.Status, QueueId = f.Status.Item.Id },
        StatusOutcome.BadId => new(400, "bad-id", "The 'id' parameter must be a queue item id (a positive integer)"),
        _ => new(404, "no-such-item", "No such queue item for this job"),
    };

    /// <summary>The one map from a build request's outcome to the token endpoints' answer.</summary>
    static TokenAnswer Trigger(HttpContext context, Item job, BuildOutcome outcome) => outcome switch
    {
        BuildOutcome.Queued q => new(201, null, "") { QueueId = q.QueueId, Location = $"{context.Request.PathBase}/queue/item/{q.QueueId}/" },
        BuildOutcome.Folded f => new(303, null, "") { QueueId = f.QueueId, Location = $"{Http.BaseUrl(context)}queue/item/{f.QueueId}/" },
        BuildOutcome.PollScheduled => new(200, null, "Scheduled."),
        BuildOutcome.Replayed r => Trigger(context, job, r.First) with { Replayed = true },
        BuildOutcome.NotBuildable => new(400, "disabled", $"{job.FullName} is disabled"),
        BuildOutcome.WrongEndpoint { JobHasParameters: true } => new(400, "wrong-endpoint", $"{job.FullName} has parameters: use /buildByToken/buildWithParameters"),
        BuildOutcome.WrongEndpoint => new(400, "wrong-endpoint", $"{job.FullName} has no parameters: use /buildByToken/build"),
        BuildOutcome.CannotPoll => new(400, "cannot-poll", $"{job.FullName} has no Poll SCM trigger"),
        BuildOutcome.BadInput { Parameter: BuildRequests.DelayParameter } b => new(400, "bad-delay", b.Reason),
        BuildOutcome.BadInput b => new(400, "bad-parameter", b.Reason),
        BuildOutcome.QueueFull => new(503, "queue-full", $"{job.FullName} has as many items waiting as server.maxQueuedPerJob allows; try again later"),
        _ => throw new InvalidOperationException($"unexpected build outcome {outcome}"),
    };

    static Task AnswerAsync(HttpContext context, TokenAnswer answer)
    {
        var response = context.Response;
        if (answer.Replayed)
            response.Headers["Idempotent-Replayed"] = "true";
        switch (answer.Status)
        {
            case 201 or 303:
                response.StatusCode = answer.Status;
                response.Headers.Location = Http.HeaderSafe(answer.Location!);
                response.ContentLength = 0;
                return Task.CompletedTask;
            case 200 when answer.ItemStatus is { } status:
                response.ContentType = "application/json; charset=utf-8";
                return response.WriteAsync(StatusJson(context, status), Encoding.UTF8);
            case 200:
                response.ContentType = "text/html; charset=utf-8";
                return response.WriteAsync("Scheduled.\n", Encoding.UTF8);
            case 405:
                response.Headers.Allow = "POST";
                break;
            case 503:
                response.Headers.RetryAfter = "60";
                break;
        }
        return Http.WriteErrorAsync(context, answer.Status, answer.Reason ?? "error", answer.Message);
    }

    static string StatusJson(HttpContext context, ItemStatus s) => JsonSerializer.Serialize(new
    {
        id = s.Item.Id,
        job = s.Job.FullName,
        state = s.State,
        inQueueSince = s.Item.InQueueSince,
        build = s.Build is null ? null : new
        {
            number = s.Build.Number,
            building = s.Build.Building,
            result = s.Build.Result,
            url = $"{Http.BaseUrl(context)}{s.Job.UrlPath}{s.Build.Number}/",
        },
    });

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Refused /buildByToken/{Endpoint} for job {Job} from {Address}: {Reason} ({Detail})")]
        public static partial void Rejected(ILogger logger, string endpoint, string? job, string address, string? reason, string? detail);
    }
}
