using Valet.Core.Security;
using Valet.Server.Security;

namespace Valet.Server.Items;

/// <summary>
/// A check an item endpoint needs after the Discover rule, as endpoint metadata; run in the order added,
/// so a group's checks (a job, not a folder; an existing build) come before an endpoint's permission.
/// </summary>
public interface IItemGate
{
    ValueTask<IResult?> CheckAsync(HttpContext context, ItemContext item);
}

/// <summary>How features declare what their routes below `/job/…/` need.</summary>
public static class ItemRouting
{
    /// <summary>A group for routes below an item's URL; every route in it requires a readable item.</summary>
    public static RouteGroupBuilder MapItemGroup(this IEndpointRouteBuilder app, string prefix = "") =>
        app.MapGroup(ItemPathsMiddleware.Prefix + prefix).RequireItem();

    /// <summary>The item must exist and be readable (404 or 403 by the Discover rule), and the caller must hold <paramref name="permission"/> on it.</summary>
    public static TBuilder RequireItem<TBuilder>(this TBuilder builder, Permission? permission = null) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(ItemRequired.Instance);
        return permission is null ? builder : builder.WithMetadata(new PermissionGate(permission));
    }

    /// <summary>Folders have no builds, triggers or tokens: 404 as for any URL a folder lacks.</summary>
    public static TBuilder RequireJob<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(JobGate.Instance);

    /// <summary>The handler resolves the item itself, as a PUT that may create it must.</summary>
    public static TBuilder AllowMissingItem<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(MissingItemAllowed.Instance);

    /// <summary>
    /// The methods a route lacks: 405 with `Allow`, after the group's item checks, so a hidden item stays a
    /// 404. Ordered after the route's own endpoints, which win for the methods they take.
    /// </summary>
    public static RouteHandlerBuilder MapMethodNotAllowed(this IEndpointRouteBuilder group, string pattern, string allow) =>
        group.Map(pattern, () => ItemEndpoints.MethodNotAllowed(allow)).WithOrder(1);

    /// <summary>Any other path below the group: the same 404 as a missing item.</summary>
    public static RouteHandlerBuilder MapItemFallback(this IEndpointRouteBuilder group) =>
        group.MapFallback("/{**rest}", NotFound);

    static IResult NotFound() => Refusals.NotFound();

    internal sealed class ItemRequired
    {
        public static readonly ItemRequired Instance = new();
    }

    internal sealed class MissingItemAllowed
    {
        public static readonly MissingItemAllowed Instance = new();
    }

    sealed record PermissionGate(Permission Permission) : IItemGate
    {
        public ValueTask<IResult?> CheckAsync(HttpContext context, ItemContext item) =>
            ValueTask.FromResult(context.RequestServices.GetRequiredService<ItemAccess>().Has(context, Permission, item.Path)
                ? null : Refusals.Forbidden(Permission));
    }

    sealed class JobGate : IItemGate
    {
        public static readonly JobGate Instance = new();

        public ValueTask<IResult?> CheckAsync(HttpContext context, ItemContext item) =>
            ValueTask.FromResult(item.Item.IsFolder ? Refusals.NotFound() : null);
    }
}

/// <summary>
/// Applies the Discover rule once for every endpoint that requires an item, then its gates, before the
/// handler: minimal APIs bind a handler's parameters before endpoint filters run, so a filter could not
/// hand the handler its <see cref="ItemContext"/>. Runs after Overall/Read, which comes first (remote-api.md §6.1).
/// </summary>
public sealed class ItemAccessMiddleware(RequestDelegate next, ItemAccess access)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        if (metadata?.GetMetadata<ItemRouting.ItemRequired>() is null)
        {
            await next(context);
            return;
        }
        if (context.Features.Get<ItemTarget>() is not { } target)
        {
            // `/item/…` itself is no URL of Valet's: answered as any path that matches no route.
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        if (!target.Valid)
        {
            await Refusals.NotFound().ExecuteAsync(context);
            return;
        }
        if (metadata.GetMetadata<ItemRouting.MissingItemAllowed>() is null)
        {
            var resolved = access.Check(context, target.Found, target.Complete);
            if (resolved.Refusal is not null)
            {
                await resolved.Refusal.ExecuteAsync(context);
                return;
            }
            var item = new ItemContext(resolved.Item!, resolved.Path, context.Caller());
            context.Features.Set(item);
            foreach (var gate in metadata.GetOrderedMetadata<IItemGate>())
            {
                if (await gate.CheckAsync(context, item) is { } refusal)
                {
                    await refusal.ExecuteAsync(context);
                    return;
                }
            }
        }
        await next(context);
    }
}
