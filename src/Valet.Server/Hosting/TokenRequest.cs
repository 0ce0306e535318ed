using System.Globalization;
using System.Text.Json;

namespace Valet.Server.Hosting;

/// <summary>
/// A request to make a named token (a job's or a user's): JSON `{"name":…,"expiresAt":…}` or the same
/// as form fields. `expiresAt` is optional, in Unix milliseconds, and must lie ahead.
/// </summary>
public sealed record TokenRequest(string Name, long? ExpiresAt)
{
    /// <param name="nameProblem">The name rule of the kind of token: null when the name is fine.</param>
    public static async Task<(TokenRequest? Request, IResult? Refusal)> ReadAsync(HttpContext context, Func<string, string?> nameProblem, TimeProvider time, CancellationToken ct)
    {
        string? name;
        string? expires = null;
        var request = context.Request;
        if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                    return (null, Http.Error(400, "bad-body", "The request body must be a JSON object"));
                name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
                if (root.TryGetProperty("expiresAt", out var e) && e.ValueKind != JsonValueKind.Null)
                    expires = e.GetRawText();
            }
            catch (JsonException)
            {
                return (null, Http.Error(400, "bad-body", "The request body is not valid JSON"));
            }
        }
        else
        {
            var (inputs, problem) = await RequestInputs.ReadAsync(context, ct);
            if (problem != RequestInputs.Problem.None)
                return (null, Http.Error(400, "bad-body", "The request body could not be parsed as a form"));
            name = inputs.First("name");
            expires = inputs.First("expiresAt") is { Length: > 0 } t ? t : null;
        }
        long? expiresAt = null;
        if (expires is not null)
        {
            if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var at))
                return (null, Http.Error(400, "bad-expiry", "expiresAt must be a time in Unix milliseconds"));
            if (at <= time.GetUtcNow().ToUnixTimeMilliseconds())
                return (null, Http.Error(400, "bad-expiry", "expiresAt lies in the past"));
            expiresAt = at;
        }
        if (nameProblem(name ?? "") is { } wrong)
            return (null, Http.Error(400, "bad-name", wrong));
        return (new TokenRequest(name!, expiresAt), null);
    }
}
