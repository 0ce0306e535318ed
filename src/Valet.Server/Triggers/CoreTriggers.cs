using System.Text.Json;
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
public sealed class CoreTriggers(Triggering triggering, BuildQueue queue, JobTokens tokens, ItemAccess access, ClientAddress clientAddress, TimeProvider time)
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
        if (!triggering.TryDueAt(job, delay, out var due))
            return Http.Error(400, "bad-delay", $"Invalid delay '{delay}': use seconds as '5sec' or milliseconds as '5000'");
        var hasParameters = job.Job!.Parameters.Count > 0;
        var isPost = HttpMethods.IsPost(request.Method);

        if (!withParameters)
        {
            if (job.Job!.Disabled)
                return Http.Error(409, "disabled", $"{job.FullName} is not buildable");
            if (hasParameters && !isPost)
                return ParametersForm(job);
        }
        var (authorized, refusal, byToken) = await AuthorizeAsync(context, job, path, inputs, isPost, ct);
        if (!authorized)
            return refusal!;
        if (withParameters)
        {
            if (job.Job!.Disabled)
                return Http.Error(409, "disabled", $"{job.FullName} is not buildable");
            if (!hasParameters)
                return Http.Error(400, "wrong-endpoint", $"{job.FullName} has no parameters: use /build");
        }

        var cause = byToken
            ? Cause.Remote(clientAddress.Of(context), inputs.First("cause"))
            : Cause.User(context.Caller().UserId, context.Caller().FullName);
        var baseUrl = Http.BaseUrl(context);

        IReadOnlyList<ParameterValue>? values = null;
        var viaJson = false;
        if (hasParameters && !withParameters)
        {
            var json = inputs.First("json") ?? await RawJsonAsync(request, ct);
            if (json is null)
                return Http.Error(400, "bad-parameter", $"{job.FullName} is parameterized: send the values as a 'json' field or use /buildWithParameters");
            var parsed = JsonParameters(job, json);
            if (parsed.Values is null)
                return Http.Error(400, "bad-parameter", parsed.Problem!);
            values = parsed.Values;
            viaJson = true;
        }
        else if (hasParameters)
        {
            var bound = ParameterBinder.Bind(job.Job!.Parameters, inputs.Values);
            if (!bound.Ok)
                return Http.Error(400, "bad-parameter", bound.Problem!);
            values = bound.Values;
        }

        var result = await queue.EnqueueAsync(job, values, cause, due, null, ct);
        var location = $"{baseUrl}queue/item/{result.Id}/";
        if (viaJson)
            return result.Folded ? Results.Redirect(baseUrl + job.UrlPath) : Http.Empty(201, baseUrl + job.UrlPath);
        if (withParameters && result.Folded)
            return Http.Empty(303, location);
        return Http.Empty(201, location);
    }

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

    /// <summary>`{"parameter":[{"name":"P","value":"x"}]}` or one object; unlisted parameters take their defaults.</summary>
    static BindResult JsonParameters(Item job, string json)
    {
        var sent = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (!doc.RootElement.TryGetProperty("parameter", out var parameter))
                return new(null, null, "the 'json' value has no 'parameter' member");
            var entries = parameter.ValueKind == JsonValueKind.Array ? parameter.EnumerateArray().ToList() : [parameter];
            foreach (var e in entries)
            {
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String)
                    return new(null, null, "each parameter in 'json' needs a string 'name'");
                var name = n.GetString()!;
                if (job.Job!.Parameters.All(p => p.Name != name))
                    return new(null, name, $"'{job.FullName}' has no parameter '{name}'");
                var value = e.TryGetProperty("value", out var v) ? v.ValueKind switch
                {
                    JsonValueKind.String => v.GetString()!,
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    JsonValueKind.Null => "",
                    _ => v.GetRawText(),
                } : "";
                if (!sent.TryGetValue(name, out var list))
                    sent[name] = list = [];
                list.Add(value);
            }
        }
        catch (JsonException e)
        {
            return new(null, null, $"the 'json' value is not valid JSON: {e.Message}");
        }
        return ParameterBinder.Bind(job.Job!.Parameters, name => sent.TryGetValue(name, out var l) ? l : []);
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
