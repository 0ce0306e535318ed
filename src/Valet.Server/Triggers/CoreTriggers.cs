using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Security;
using Valet.Core.Triggers;
using Valet.Server.Hosting;
using Valet.Server.Security;

namespace Valet.Server.Triggers;

/// <summary>
/// Triggers through the core URLs (`/job/…/build`, `/buildWithParameters`) as Jenkins core answers
/// them (remote-api.md §3): the caller needs Overall/Read first, then either the job's token or Job/Build.
/// </summary>
public sealed class CoreTriggers(BuildRequests builds, JobTokens tokens, ItemAccess access, ClientAddress clientAddress, TimeProvider time)
{
    public async Task<IResult> BuildAsync(HttpContext context, Item job, IReadOnlyList<Item> path, bool withParameters, CancellationToken ct)
    {
        var request = context.Request;
        var (inputs, problem) = await RequestInputs.ReadAsync(context, ct);
        if (problem == RequestInputs.Problem.TooLarge)
            return Http.Error(413, "body-too-large", "The request body is larger than 1 MiB");
        if (problem == RequestInputs.Problem.BadBody)
            return Http.Error(400, "bad-body", "The request body could not be parsed as a form");
        var delay = inputs.First("delay");
        if (!builds.DelayIsValid(delay))
            return Http.Error(400, "bad-delay", BuildRequests.DelayProblem(delay!));
        var hasParameters = job.Job!.Parameters.Count > 0;
        var isPost = HttpMethods.IsPost(request.Method);

        if (!withParameters)
        {
            if (BuildRequests.NotBuildable(job) is not null)
                return NotBuildable(job);
            if (hasParameters && !isPost)
                return ParametersForm(job);
        }
        var (authorized, refusal, byToken) = await AuthorizeAsync(context, job, path, inputs, isPost, ct);
        if (!authorized)
            return refusal!;

        // `json` is Jenkins' form for parameters on the plain build URL; Valet also takes it as a raw JSON body.
        var json = withParameters || !hasParameters ? null : inputs.First("json") ?? await RawJsonAsync(request, ct);
        var outcome = await builds.RequestBuildAsync(new BuildRequest
        {
            Job = job,
            Cause = byToken
                ? Cause.Remote(clientAddress.Of(context), inputs.First("cause"))
                : Cause.User(context.Caller().UserId, context.Caller().FullName),
            Parameters = withParameters ? new ParameterInput.Named(inputs.Values) : json is null ? ParameterInput.Nothing : new ParameterInput.Json(json),
            Delay = delay,
        }, ct);
        var baseUrl = Http.BaseUrl(context);
        return outcome switch
        {
            BuildOutcome.Queued or BuildOutcome.Folded when json is not null => outcome is BuildOutcome.Folded
                ? Results.Redirect(baseUrl + job.UrlPath)
                : Http.Empty(201, baseUrl + job.UrlPath),
            BuildOutcome.Folded f when withParameters => Http.Empty(303, $"{baseUrl}queue/item/{f.QueueId}/"),
            BuildOutcome.Folded f => Http.Empty(201, $"{baseUrl}queue/item/{f.QueueId}/"),
            BuildOutcome.Queued q => Http.Empty(201, $"{baseUrl}queue/item/{q.QueueId}/"),
            BuildOutcome.NotBuildable => NotBuildable(job),
            BuildOutcome.WrongEndpoint { JobHasParameters: true } => Http.Error(400, "bad-parameter", $"{job.FullName} is parameterized: send the values as a 'json' field or use /buildWithParameters"),
            BuildOutcome.WrongEndpoint => Http.Error(400, "wrong-endpoint", $"{job.FullName} has no parameters: use /build"),
            BuildOutcome.BadInput { Parameter: BuildRequests.DelayParameter } b => Http.Error(400, "bad-delay", b.Reason),
            BuildOutcome.BadInput b => Http.Error(400, "bad-parameter", b.Reason),
            _ => throw new InvalidOperationException($"unexpected build outcome {outcome}"),
        };
    }

    static IResult NotBuildable(Item job) => Http.Error(409, "disabled", $"{job.FullName} is not buildable");

    /// <summary>Rule A: a matching token authorizes any method; otherwise Job/Build and POST.</summary>
    async Task<(bool Ok, IResult? Refusal, bool ByToken)> AuthorizeAsync(HttpContext context, Item job, IReadOnlyList<Item> path, RequestInputs inputs, bool isPost, CancellationToken ct)
    {
        var token = inputs.First("token");
        if (token is not null && await tokens.CheckAsync(job.Id, token, ct) is { AnyActive: true } check)
        {
            var match = check.Match;
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            if (match is not null && match.ActiveAt(now))
                return (true, null, true);
            return (false, Http.Error(403, "bad-token", "Invalid token provided."), false);
        }
        if (!access.Has(context, Permission.JobBuild, path))
            return (false, Refusals.Forbidden(Permission.JobBuild), false);
        if (!isPost)
        {
            context.Response.Headers.Allow = "POST";
            return (false, Http.Error(405, "post-required", "This URL requires POST"), false);
        }
        return (true, null, false);
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
            $"<p><label>{System.Net.WebUtility.HtmlEncode(p.Name)} <input name=\"{System.Net.WebUtility.HtmlEncode(p.Name)}\" value=\"{(p.Type == ParameterType.Password ? "" : System.Net.WebUtility.HtmlEncode(p.DefaultValue))}\"></label></p>"));
        var html = $"<!DOCTYPE html><html><head><title>{System.Net.WebUtility.HtmlEncode(job.FullName)}</title></head><body><h1>This build requires parameters</h1><form method=\"post\" action=\"buildWithParameters\">{fields}<button>Build</button></form></body></html>";
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
