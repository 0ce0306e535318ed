using System.Globalization;
using System.Text;
using System.Text.Json;
using Valet.Core.Configuration;
using Valet.Core.Triggers;
using Valet.Server.Hosting;
using Valet.Server.Security;

namespace Valet.Server.Triggers;

/// <summary>
/// /buildByToken/*: reachable by anyone whatever the security setup, exempt from crumbs, any method.
/// Reads the request (query, form or multipart text fields, X-Build-Token, Idempotency-Key), runs the
/// guard and credential steps, hands the rest to <see cref="TokenTrigger"/> and maps its outcome to
/// the answer, the audit log and one Debug line per rejection.
/// </summary>
public static partial class BuildByTokenEndpoints
{
    const long MaxBody = 1024 * 1024;
    static readonly TriggerOutcome BodyTooLarge = new(413, "body-too-large", "The request body is larger than 1 MiB");
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

    static async Task Handle(HttpContext context, string? endpoint, TokenTrigger trigger, TriggerGuard guard, TriggerAudit audit,
        ClientAddress clientAddress, ILoggerFactory loggers, TimeProvider time, CancellationToken ct)
    {
        var logger = loggers.CreateLogger(LogCategory);
        var request = context.Request;
        var address = clientAddress.Of(context);
        var kind = Parse(endpoint);
        endpoint = kind is { } k ? TokenTrigger.Name(k) : endpoint ?? "";
        string? job = request.Query["job"].FirstOrDefault();
        string? idempotencyKey = request.Headers["Idempotency-Key"].FirstOrDefault();
        var outcome = await DecideAsync();
        // Recorded before answering, so a client that reads the audit log next finds its request there.
        if (outcome.CountsAsFailure)
            guard.RecordFailure(address);
        if (outcome.Status >= 400)
            Log.Rejected(logger, endpoint, job, address, outcome.TrueReason ?? outcome.Reason, outcome.Detail);
        else if (outcome.TokenId is { } tokenId)
            audit.RecordTokenUse(tokenId, address);
        audit.Record(new AuditEntry(0, time.GetUtcNow().ToUnixTimeMilliseconds(), endpoint, job, outcome.FullName, address, outcome.Status,
            outcome.TrueReason ?? outcome.Reason, outcome.QueueId, idempotencyKey, outcome.TokenName, 1));
        await AnswerAsync(context, outcome);

        async Task<TriggerOutcome> DecideAsync()
        {
            // A blocked address gets 429 for every /buildByToken/ request, unknown endpoints too (§8.3).
            if (guard.RetryAfter(address) is { } wait)
            {
                context.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return new(429, "rate-limited", "Too many failed attempts from this address; try again later");
            }
            if (kind is null)
                return new(404, "no-such-endpoint", "No such endpoint under /buildByToken/");
            if (context.Items.ContainsKey(AuthenticationMiddleware.BadCredentialsKey))
            {
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"Valet\"";
                return new(401, "bad-credentials", "Invalid user name, password or API token");
            }
            if (request.ContentLength > MaxBody)
                return BodyTooLarge;
            var (inputs, problem) = await RequestInputs.ReadWholeBodyAsync(context, ct);
            switch (problem)
            {
                case RequestInputs.Problem.TooLarge:
                    return BodyTooLarge;
                case RequestInputs.Problem.BadBody:
                    return new(400, "bad-body", "The request body could not be parsed as a form");
            }
            IReadOnlyList<string> Values(string name) => inputs.Values(name);
            job = Values("job").FirstOrDefault();
            var tokenValues = Values("token");
            var token = tokenValues.Count > 0 ? tokenValues[0] : request.Headers["X-Build-Token"].FirstOrDefault();
            return await trigger.HandleAsync(new TokenTriggerRequest
            {
                Endpoint = kind.Value,
                Job = job,
                Token = token,
                Delay = kind is TokenEndpoint.Build or TokenEndpoint.BuildWithParameters ? Values("delay").FirstOrDefault() : null,
                Cause = Values("cause").FirstOrDefault(),
                Id = Values("id").FirstOrDefault(),
                IdempotencyKey = kind == TokenEndpoint.Status ? null : idempotencyKey,
                Caller = context.Caller(),
                IsPost = HttpMethods.IsPost(request.Method),
                Address = address,
                Values = Values,
            }, (id, folded) => folded ? $"{Http.BaseUrl(context)}queue/item/{id}/" : $"{request.PathBase}/queue/item/{id}/", ct);
        }
    }

    static Task AnswerAsync(HttpContext context, TriggerOutcome outcome)
    {
        var response = context.Response;
        if (outcome.Replayed)
            response.Headers["Idempotent-Replayed"] = "true";
        switch (outcome.Status)
        {
            case 201 or 303:
                response.StatusCode = outcome.Status;
                response.Headers.Location = outcome.ReplayedLocation ?? (outcome.Status == 201
                    ? $"{context.Request.PathBase}/queue/item/{outcome.QueueId}/"
                    : $"{Http.BaseUrl(context)}queue/item/{outcome.QueueId}/");
                response.ContentLength = 0;
                return Task.CompletedTask;
            case 200 when outcome.ItemStatus is { } status:
                response.ContentType = "application/json; charset=utf-8";
                return response.WriteAsync(StatusJson(context, status), Encoding.UTF8);
            case 200:
                response.ContentType = "text/html; charset=utf-8";
                return response.WriteAsync("Scheduled.\n", Encoding.UTF8);
            case 405:
                response.Headers.Allow = "POST";
                break;
        }
        return Http.WriteErrorAsync(context, outcome.Status, outcome.Reason ?? "error", outcome.Message);
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
