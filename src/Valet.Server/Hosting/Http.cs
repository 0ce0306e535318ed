using System.Text;
using System.Text.Json;
using Microsoft.Net.Http.Headers;
using Valet.Core.Configuration;
using Valet.Server.Security;

namespace Valet.Server.Hosting;

/// <summary>Valet's one error writer and small HTTP helpers shared by every feature.</summary>
public static class Http
{
    /// <summary>
    /// An error with a one-line reason: text/plain, or problem+json when the client ranks JSON strictly
    /// above every text/* and */* entry. No trace ids or echoes, so equal errors are equal bytes.
    /// </summary>
    public static Task WriteErrorAsync(HttpContext context, int status, string reason, string message)
    {
        var response = context.Response;
        response.StatusCode = status;
        // The reason code leads the line, so scripts can match on it without parsing prose.
        var line = $"{reason}: {message}";
        response.Headers["X-Error"] = HeaderSafe(line);
        if (WantsJson(context.Request))
        {
            response.ContentType = "application/problem+json";
            var json = JsonSerializer.Serialize(new ProblemBody("about:blank", ReasonPhrase(status), status, message, reason));
            return response.WriteAsync(json, Encoding.UTF8);
        }
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(line + "\n", Encoding.UTF8);
    }

    /// <summary>
    /// Text fit for a header whatever it holds (limits.md §1): each UTF-8 byte outside printable ASCII,
    /// and '%' itself, as %XX. Kestrel refuses other bytes with an exception, which would be a 500.
    /// </summary>
    public static string HeaderSafe(string text)
    {
        if (text.All(c => c is >= ' ' and <= '~' and not '%'))
            return text;
        var safe = new StringBuilder(text.Length + 16);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (b is >= 0x20 and <= 0x7E and not (byte)'%')
                safe.Append((char)b);
            else
                safe.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return safe.ToString();
    }

    public static IResult Error(int status, string reason, string message) => new ErrorResult(status, reason, message);

    sealed record ErrorResult(int Status, string Reason, string Message) : IResult
    {
        public Task ExecuteAsync(HttpContext context) => WriteErrorAsync(context, Status, Reason, Message);
    }

    sealed record ProblemBody(string type, string title, int status, string detail, string reason);

    static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);

    public static bool WantsJson(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept.Where(a => a is not null).ToList()!, out var accepts) || accepts.Count == 0)
            return false;
        double json = -1, other = -1;
        foreach (var a in accepts)
        {
            var q = a.Quality ?? 1;
            var type = a.MediaType.Value ?? "";
            if (type is "application/json" or "application/problem+json")
                json = Math.Max(json, q);
            else if (type.StartsWith("text/", StringComparison.OrdinalIgnoreCase) || type == "*/*")
                other = Math.Max(other, q);
        }
        return json > 0 && json > other;
    }

    /// <summary>
    /// The base every absolute URL starts with: server.rootUrl, else the request's scheme, host and base
    /// path, taken from X-Forwarded-Proto and -Host only when the peer is a trusted proxy.
    /// </summary>
    public static string BaseUrl(HttpContext context)
    {
        var services = context.RequestServices;
        if (services.GetRequiredService<ServerSettings>().RootUrl is { } rootUrl)
            return rootUrl;
        var request = context.Request;
        var scheme = request.Scheme;
        var host = request.Host.Value;
        if (services.GetRequiredService<ClientAddress>().FromTrustedProxy(context))
        {
            scheme = LastValue(request.Headers["X-Forwarded-Proto"]) ?? scheme;
            host = LastValue(request.Headers["X-Forwarded-Host"]) ?? host;
        }
        return $"{scheme}://{host}{request.PathBase}/";
    }

    static string? LastValue(Microsoft.Extensions.Primitives.StringValues values) =>
        values.SelectMany(v => (v ?? "").Split(',')).Select(v => v.Trim()).LastOrDefault(v => v.Length > 0);

    /// <summary>An empty answer that still tells its length, which some clients require.</summary>
    public static IResult Empty(int status, string? location = null) => new EmptyResult(status, location);

    sealed record EmptyResult(int Status, string? Location) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = Status;
            if (Location is not null)
                context.Response.Headers.Location = HeaderSafe(Location);
            context.Response.ContentLength = 0;
            return Task.CompletedTask;
        }
    }
}
