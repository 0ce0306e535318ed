using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Valet.Server.Hosting;

/// <summary>
/// A request's named inputs in order: the query string first, then an urlencoded body or the text
/// fields of a multipart body (file parts ignored). Names compare exactly, as build parameter names do;
/// the framework's own collections ignore case and would merge `Foo` into `foo`.
/// </summary>
public sealed class RequestInputs
{
    readonly List<KeyValuePair<string, string>> pairs;

    RequestInputs(List<KeyValuePair<string, string>> pairs) => this.pairs = pairs;

    public IReadOnlyList<string> Values(string name) => pairs.Where(p => p.Key == name).Select(p => p.Value).ToList();

    public string? First(string name) => pairs.FirstOrDefault(p => p.Key == name).Value;

    public bool Has(string name) => pairs.Any(p => p.Key == name);

    public enum Problem { None, BadBody, TooLarge }

    const string CacheKey = "valet.inputs";

    /// <summary>Reads the inputs once per request; later calls (a middleware, then the endpoint) get the same.</summary>
    public static async Task<(RequestInputs Inputs, Problem Problem)> ReadAsync(HttpContext context, CancellationToken ct)
    {
        if (context.Items[CacheKey] is ValueTuple<RequestInputs, Problem> cached)
            return cached;
        var read = await ReadAsync(context.Request, ct);
        context.Items[CacheKey] = read;
        return read;
    }

    /// <summary>
    /// For endpoints that own the whole body: <see cref="ReadAsync(HttpContext, CancellationToken)"/>,
    /// then reads and drops what the inputs leave (a JSON body, the rest of a form that failed to parse),
    /// so a body over the server's limit is refused whatever its type, and before it is called unparseable.
    /// </summary>
    public static async Task<(RequestInputs Inputs, Problem Problem)> ReadWholeBodyAsync(HttpContext context, CancellationToken ct)
    {
        var (inputs, problem) = await ReadAsync(context, ct);
        if (problem != Problem.TooLarge && !await RestFitsAsync(context, ct))
            problem = Problem.TooLarge;
        return (inputs, problem);
    }

    static async Task<bool> RestFitsAsync(HttpContext context, CancellationToken ct)
    {
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true)
            return true;
        try
        {
            await context.Request.Body.DrainAsync(ct);
            return true;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return false;
        }
    }

    static async Task<(RequestInputs Inputs, Problem Problem)> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var pair in new QueryStringEnumerable(request.QueryString.Value))
            pairs.Add(new(pair.DecodeName().ToString(), pair.DecodeValue().ToString()));
        try
        {
            if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type))
            {
                if (type.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
                {
                    using var reader = new FormReader(request.Body);
                    while (await reader.ReadNextPairAsync(ct) is { } pair)
                        pairs.Add(pair);
                }
                else if (type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
                {
                    var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
                    if (string.IsNullOrEmpty(boundary))
                        return (new(pairs), Problem.BadBody);
                    var multipart = new MultipartReader(boundary, request.Body);
                    while (await multipart.ReadNextSectionAsync(ct) is { } section)
                    {
                        if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFormDisposition())
                            continue;
                        using var text = new StreamReader(section.Body);
                        var value = await text.ReadToEndAsync(ct);
                        if (!disposition.IsFileDisposition())
                            pairs.Add(new(HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "", value));
                    }
                }
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (new(pairs), Problem.TooLarge);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or FormatException or BadHttpRequestException)
        {
            return (new(pairs), Problem.BadBody);
        }
        return (new(pairs), Problem.None);
    }
}
