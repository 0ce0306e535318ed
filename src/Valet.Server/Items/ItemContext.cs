using Valet.Core.Items;
using Valet.Core.Security;

namespace Valet.Server.Items;

/// <summary>The item a request names, once the caller may read it (and holds what the endpoint requires), with its path, outermost first.</summary>
public sealed record ItemContext(Item Item, IReadOnlyList<Item> Path, Caller Caller)
{
    public static ValueTask<ItemContext?> BindAsync(HttpContext context) =>
        ValueTask.FromResult<ItemContext?>(context.Features.Get<ItemContext>()
            ?? throw new InvalidOperationException("A handler takes an ItemContext but its endpoint does not RequireItem"));
}
