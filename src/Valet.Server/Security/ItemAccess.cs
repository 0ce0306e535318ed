using Valet.Core.Items;
using Valet.Core.Security;

namespace Valet.Server.Security;

/// <summary>Resolves an item for a caller, applying the 404-versus-403 rule in one place.</summary>
public sealed class ItemAccess(ItemStore items, Authorizer authorizer)
{
    public sealed record Resolved(Item? Item, IReadOnlyList<Item> Path, IResult? Refusal, AccessOutcome Outcome = AccessOutcome.Granted);

    /// <summary>The item if the caller may read it and holds <paramref name="needed"/> on it; otherwise the refusal to send.</summary>
    public async Task<Resolved> ResolveAsync(HttpContext context, IReadOnlyList<string> segments, Permission? needed, CancellationToken ct)
    {
        var fullName = string.Join('/', segments);
        var path = segments.Count == 0 || segments.Any(s => ItemName.Problem(s) is not null)
            ? [] : await items.PathAsync(fullName, ct);
        return Check(context, path, complete: segments.Count > 0 && path.Count == segments.Count, needed);
    }

    /// <summary>
    /// The Discover rule on a path already looked up (<paramref name="complete"/>: every name was found),
    /// then <paramref name="needed"/>, if any.
    /// </summary>
    public Resolved Check(HttpContext context, IReadOnlyList<Item> path, bool complete, Permission? needed = null)
    {
        var caller = context.Caller();
        switch (authorizer.Check(caller, path, complete, out var missing))
        {
            case AccessOutcome.NotFound:
                return new(null, path, Refusals.NotFound(), AccessOutcome.NotFound);
            case AccessOutcome.Forbidden:
                return new(null, path, Refusals.Forbidden(missing!), AccessOutcome.Forbidden);
        }
        if (needed is not null && !authorizer.Has(caller, needed, path))
            return new(null, path, Refusals.Forbidden(needed), AccessOutcome.Forbidden);
        return new(path[^1], path, null);
    }

    public bool Has(HttpContext context, Permission permission, IReadOnlyList<Item> path) => authorizer.Has(context.Caller(), permission, path);

    /// <summary>Whether the caller may read this item, judged on its full path.</summary>
    public async Task<bool> CanReadAsync(HttpContext context, Item item, CancellationToken ct)
    {
        var path = await items.PathAsync(item.FullName, ct);
        return authorizer.Check(context.Caller(), path, path.Count > 0 && path[^1].Id == item.Id, out _) == AccessOutcome.Granted;
    }
}
