using System.Net;
using Valet.Core.Items;

namespace Valet.Server.Items;

/// <summary>
/// The item a `/job/A/job/B/…` URL names: its name segments as sent and the items found for them,
/// outermost first (fewer than the names when some are missing). Set before routing; whether the
/// caller may see the item is decided later, by <see cref="ItemAccessMiddleware"/>.
/// </summary>
public sealed record ItemTarget(IReadOnlyList<string> Names, IReadOnlyList<Item> Found)
{
    /// <summary>An empty segment, a bad name (`%2F`, `.`, `..`) or no name at all: answered like a missing item.</summary>
    public bool Valid => Names.Count > 0;

    public bool Complete => Valid && Found.Count == Names.Count;

    public static ValueTask<ItemTarget?> BindAsync(HttpContext context) =>
        ValueTask.FromResult<ItemTarget?>(context.Features.Get<ItemTarget>()
            ?? throw new InvalidOperationException("An item endpoint was reached without an item path"));
}

/// <summary>
/// Jenkins nests items as repeated `job/NAME` pairs, which a route template cannot say. Before routing,
/// `/job/A/job/B/<rest>` (and `/view/all/job/…`) becomes `/item/<rest>` with an <see cref="ItemTarget"/>
/// attached, so features map `<rest>` as ordinary routes; right after routing the path is put back,
/// so refusals, sign-in links and logs show the URL the client sent.
/// </summary>
public sealed class ItemPathsMiddleware(RequestDelegate next, ItemStore items)
{
    public const string Prefix = "/item";

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!request.Path.StartsWithSegments("/job", StringComparison.OrdinalIgnoreCase, out var below)
            && !request.Path.StartsWithSegments("/view/all/job", StringComparison.OrdinalIgnoreCase, out below))
        {
            await next(context);
            return;
        }
        var (names, rest) = Parse(below.Value ?? "");
        // Kestrel leaves `%2F` encoded in the path; decoded it is a slash, which no name may hold.
        if (names.Any(n => ItemName.Problem(WebUtility.UrlDecode(n)) is not null))
            names = [];
        var found = names.Count > 0 && names.All(n => ItemName.Problem(n) is null)
            ? await items.PathAsync(string.Join('/', names), context.RequestAborted)
            : [];
        context.Features.Set(new ItemTarget(names, found));
        context.Features.Set(new OriginalPath(request.Path));
        request.Path = new PathString(Prefix + "/" + string.Join('/', rest));
        await next(context);
    }

    /// <summary>Runs right after routing: the rewritten path was for the route matcher only.</summary>
    public static Task RestoreAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Features.Get<OriginalPath>() is { } original)
            context.Request.Path = original.Path;
        return next(context);
    }

    sealed record OriginalPath(PathString Path);

    /// <summary>`A/job/B/api/json` → names [A, B], rest [api, json]; a trailing slash is ignored, any other empty segment makes it invalid.</summary>
    static (IReadOnlyList<string> Names, IReadOnlyList<string> Below) Parse(string path)
    {
        var segments = (path.StartsWith('/') ? path[1..] : path).Split('/').ToList();
        if (segments.Count > 0 && segments[^1].Length == 0)
            segments.RemoveAt(segments.Count - 1);
        if (segments.Count == 0 || segments.Any(s => s.Length == 0))
            return ([], []);
        var names = new List<string> { segments[0] };
        var i = 1;
        while (i + 1 < segments.Count && segments[i] == "job")
        {
            names.Add(segments[i + 1]);
            i += 2;
        }
        return (names, segments.Skip(i).ToList());
    }
}
