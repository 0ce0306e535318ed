using System.Net;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Security;
using Valet.Core.Triggers;
using Valet.Server.Hosting;
using Valet.Server.Items;
using Valet.Server.Security;

namespace Valet.Server.Triggers;

/// <summary>
/// The core trigger URLs, `…/build`, `…/buildWithParameters` and `…/polling`, as Jenkins core answers them
/// (remote-api.md §3): after Overall/Read and the Discover rule, either the job's token or Job/Build
/// with POST (rule A), then the build through <see cref="BuildRequests"/>. Every method reaches the
/// handlers: a matching token authorizes GET too, and a parameterized job answers GET with its form.
/// </summary>
public static class CoreTriggerEndpoints
{
    public static void MapCoreTriggers(this IEndpointRouteBuilder app)
    {
        var job = app.MapItemGroup().RequireJob();
        job.Map("/build", Build);
        job.Map("/buildWithParameters", BuildWithParameters);
        job.Map("/polling", PollingAsync);
    }

    /// <summary>`…/polling`: rule A, then a polling run when the job is enabled and polls its SCM, and a redirect to the job either way.</summary>
    static async Task<IResult> PollingAsync(HttpContext context, ItemContext target, BuildRequests builds, JobTokens tokens, ItemAccess access,
        TimeProvider time, CancellationToken ct)
    {
        var (inputs, problem) = await RequestInputs.ReadAsync(context, ct);
        if (problem == RequestInputs.Problem.TooLarge)
            return BodyLimitMiddleware.TooLarge();
        if (problem == RequestInputs.Problem.BadBody)
            return Http.Error(400, "bad-body", "The request body could not be parsed as a form");
        var (refusal, _) = await AuthorizeAsync(context, target, inputs, HttpMethods.IsPost(context.Request.Method), tokens, access, time, ct);
        if (refusal is not null)
            return refusal;
        await builds.RequestPollAsync(target.Item, null, ct);
        return Results.Redirect(Http.BaseUrl(context) + target.Item.UrlPath);
    }

    static Task<IResult> Build(HttpContext context, ItemContext job, BuildRequests builds, JobTokens tokens, ItemAccess access, ClientAddress addresses,
        TimeProvider time, CancellationToken ct) =>
        TriggerAsync(context, job, withParameters: false, builds, tokens, access, addresses, time, ct);

    static Task<IResult> BuildWithParameters(HttpContext context, ItemContext job, BuildRequests builds, JobTokens tokens, ItemAccess access, ClientAddress addresses,
        TimeProvider time, CancellationToken ct) =>
        TriggerAsync(context, job, withParameters: true, builds, tokens, access, addresses, time, ct);

    static async Task<IResult> TriggerAsync(HttpContext context, ItemContext target, bool withParameters, BuildRequests builds, JobTokens tokens,
        ItemAccess access, ClientAddress addresses, TimeProvider time, CancellationToken ct)
    {
        var job = target.Item;
        var request = context.Request;
        var (inputs, problem) = await RequestInputs.ReadAsync(context, ct);
        if (problem == RequestInputs.Problem.TooLarge)
            return BodyLimitMiddleware.TooLarge();
        if (problem == RequestInputs.Problem.BadBody)
            return Http.Error(400, "bad-body", "The request body could not be parsed as a form");
        var delay = inputs.First("delay");
        if (!builds.DelayIsValid(delay))
            return Http.Error(400, "bad-delay", BuildRequests.DelayProblem(delay!));
        if (!BuildRequests.CauseIsValid(inputs.First("cause")))
            return Http.Error(400, "cause-too-long", BuildRequests.CauseProblem);
        var hasParameters = job.Job!.Parameters.Count > 0;
        var isPost = HttpMethods.IsPost(request.Method);

        // `build` answers a disabled job and a parameterized GET before it looks at who asks.
        if (!withParameters)
        {
            if (BuildRequests.NotBuildable(job) is not null)
                return NotBuildable(job);
            if (hasParameters && !isPost)
                return ParametersForm(job);
        }
        var (refusal, byToken) = await AuthorizeAsync(context, target, inputs, isPost, tokens, access, time, ct);
        if (refusal is not null)
            return refusal;

        // `json` is Jenkins' form for parameters on the plain build URL; Valet also takes a raw JSON body.
        var json = withParameters || !hasParameters ? null : inputs.First("json") ?? await RawJsonAsync(request, ct);
        var outcome = await builds.RequestBuildAsync(new BuildRequest
        {
            Job = job,
            Cause = byToken ? Cause.Remote(addresses.Of(context), inputs.First("cause")) : Cause.User(target.Caller.UserId, target.Caller.FullName),
            Parameters = withParameters ? new ParameterInput.Named(inputs.Values) : json is null ? ParameterInput.Nothing : new ParameterInput.Json(json),
            Delay = delay,
        }, ct);
        return Answer(Http.BaseUrl(context), job, outcome, withParameters, viaJson: json is not null);
    }

    /// <summary>The one map from a build request's outcome to the core URLs' answer.</summary>
    static IResult Answer(string baseUrl, Item job, BuildOutcome outcome, bool withParameters, bool viaJson) => outcome switch
    {
        // Jenkins answers the `json` form with the job's URL, and a fold with a redirect to it.
        BuildOutcome.Queued when viaJson => Http.Empty(201, baseUrl + job.UrlPath),
        BuildOutcome.Folded when viaJson => Results.Redirect(baseUrl + job.UrlPath),
        BuildOutcome.Folded f when withParameters => Http.Empty(303, $"{baseUrl}queue/item/{f.QueueId}/"),
        BuildOutcome.Folded f => Http.Empty(201, $"{baseUrl}queue/item/{f.QueueId}/"),
        BuildOutcome.Queued q => Http.Empty(201, $"{baseUrl}queue/item/{q.QueueId}/"),
        BuildOutcome.NotBuildable => NotBuildable(job),
        BuildOutcome.WrongEndpoint { JobHasParameters: true } => Http.Error(400, "bad-parameter", $"{job.FullName} is parameterized: send the values as a 'json' field or use /buildWithParameters"),
        BuildOutcome.WrongEndpoint => Http.Error(400, "wrong-endpoint", $"{job.FullName} has no parameters: use /build"),
        BuildOutcome.BadInput { Parameter: BuildRequests.DelayParameter } b => Http.Error(400, "bad-delay", b.Reason),
        BuildOutcome.BadInput b => Http.Error(400, "bad-parameter", b.Reason),
        BuildOutcome.QueueFull => QueueFull(job),
        _ => throw new InvalidOperationException($"unexpected build outcome {outcome}"),
    };

    static IResult QueueFull(Item job) => new QueueFullResult(job.FullName);

    sealed record QueueFullResult(string FullName) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.Headers.RetryAfter = "60";
            return Http.WriteErrorAsync(context, 503, "queue-full", $"{FullName} has as many items waiting as server.maxQueuedPerJob allows; try again later");
        }
    }

    static IResult NotBuildable(Item job) => Http.Error(409, "disabled", $"{job.FullName} is not buildable");

    /// <summary>Rule A: a matching token authorizes any method; otherwise Job/Build and POST.</summary>
    static async Task<(IResult? Refusal, bool ByToken)> AuthorizeAsync(HttpContext context, ItemContext target, RequestInputs inputs, bool isPost,
        JobTokens tokens, ItemAccess access, TimeProvider time, CancellationToken ct)
    {
        var token = inputs.First("token");
        if (token is not null && await tokens.CheckAsync(target.Item.Id, token, ct) is { AnyActive: true } check)
        {
            if (check.Match is { } match && match.ActiveAt(time.GetUtcNow().ToUnixTimeMilliseconds()))
                return (null, true);
            return (Http.Error(403, "bad-token", "Invalid token provided."), false);
        }
        if (!access.Has(context, Permission.JobBuild, target.Path))
            return (Refusals.Forbidden(Permission.JobBuild), false);
        if (!isPost)
        {
            context.Response.Headers.Allow = "POST";
            return (Http.Error(405, "post-required", "This URL requires POST"), false);
        }
        return (null, false);
    }

    static async Task<string?> RawJsonAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
            return null;
        using var reader = new StreamReader(request.Body);
        return await reader.ReadToEndAsync(ct);
    }

    /// <summary>A GET of a parameterized job's `build`: the form to fill in, as Jenkins shows it.</summary>
    static IResult ParametersForm(Item job)
    {
        var fields = string.Concat(job.Job!.Parameters.Select(p =>
            $"<p><label>{WebUtility.HtmlEncode(p.Name)} <input name=\"{WebUtility.HtmlEncode(p.Name)}\" value=\"{(p.Type == ParameterType.Password ? "" : WebUtility.HtmlEncode(p.DefaultValue))}\"></label></p>"));
        var html = $"<!DOCTYPE html><html><head><title>{WebUtility.HtmlEncode(job.FullName)}</title></head><body><h1>This build requires parameters</h1><form method=\"post\" action=\"buildWithParameters\">{fields}<button>Build</button></form></body></html>";
        return new HtmlResult(405, html);
    }

    sealed record HtmlResult(int Status, string Html) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = Status;
            context.Response.Headers.Allow = "POST";
            context.Response.ContentType = "text/html; charset=utf-8";
            return context.Response.WriteAsync(Html);
        }
    }
}
