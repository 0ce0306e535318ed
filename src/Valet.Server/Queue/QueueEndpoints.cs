using System.Globalization;
using Valet.Core.Configuration;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Security;
using Valet.Server.Hosting;
using Valet.Server.Items;
using Valet.Server.RemoteApi;
using Valet.Server.Security;

namespace Valet.Server.Queue;

public static class QueueEndpoints
{
    static readonly string[] ReadMethods = ["GET", "HEAD"];

    public static void MapQueue(this IEndpointRouteBuilder app)
    {
        var queue = app.MapGroup("/queue");
        queue.MapMethods("/api/{format:regex(^(json|xml)$)}", ReadMethods, QueueApi);
        queue.MapMethods("/item/{id}/api/{format:regex(^(json|xml)$)}", ReadMethods, ItemApi);
        queue.MapMethods("/item/{id}", ReadMethods, ItemPage);
        queue.Map("/cancelItem", CancelItem);
        queue.Map("/item/{id}/cancelQueue", CancelQueue);
    }

    /// <summary>A queue item the caller may read, with its job; else the refusal (404 also for left items past 5 minutes).</summary>
    static async Task<(QueueItem? Item, Item? Job, IReadOnlyList<Item> Path, IResult? Refusal)> FindAsync(HttpContext context, string idText, bool anyAge,
        BuildQueue queue, ItemStore items, ItemAccess access, CancellationToken ct)
    {
        if (!long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || await queue.FindAsync(id, ct) is not { } item
            || (!anyAge && !queue.StillVisible(item)))
            return (null, null, [], Refusals.NotFound("No such queue item"));
        var job = await items.GetAsync(item.JobId, ct);
        if (job is null)
            return (null, null, [], Refusals.NotFound("No such queue item"));
        var resolved = await access.ResolveAsync(context, ItemName.Segments(job.FullName), null, ct);
        if (resolved.Refusal is not null)
            return (null, null, [], resolved.Refusal);
        return (item, job, resolved.Path, null);
    }

    static async Task<IResult> ItemApi(HttpContext context, string id, string format, ApiModels models, BuildStore builds,
        BuildQueue queue, ItemStore items, ItemAccess access, CancellationToken ct)
    {
        var (item, job, _, refusal) = await FindAsync(context, id, anyAge: false, queue, items, access, ct);
        if (refusal is not null)
            return refusal;
        var build = item!.BuildNumber is { } n ? await builds.GetAsync(job!.Id, n, ct) : null;
        var running = (await builds.ListAsync(job!.Id, 5, ct)).FirstOrDefault(b => b.Building)?.Number;
        return ApiResults.Render(context, models.QueueItem(item, job, Http.BaseUrl(context), running, build: build), format);
    }

    static async Task<IResult> ItemPage(HttpContext context, string id, BuildQueue queue, ItemStore items, ItemAccess access, CancellationToken ct)
    {
        var (item, _, _, refusal) = await FindAsync(context, id, anyAge: false, queue, items, access, ct);
        return refusal ?? Results.Text($"Queue item {item!.Id}: see api/json\n", "text/plain;charset=UTF-8");
    }

    static async Task<IResult> QueueApi(HttpContext context, string format, BuildQueue queue, ItemStore items, BuildStore builds, ItemAccess access, ApiModels models, CancellationToken ct)
    {
        var baseUrl = Http.BaseUrl(context);
        var readable = new List<object?>();
        var discoverable = new List<object?>();
        // The next to run last, as Jenkins lists them.
        foreach (var item in (await queue.QueuedAsync(ct)).Reverse())
        {
            if (await items.GetAsync(item.JobId, ct) is not { } job)
                continue;
            var resolved = await access.ResolveAsync(context, ItemName.Segments(job.FullName), null, ct);
            if (resolved.Refusal is null)
            {
                var running = (await builds.ListAsync(job.Id, 5, ct)).FirstOrDefault(b => b.Building)?.Number;
                readable.Add(models.QueueItem(item, job, baseUrl, running));
            }
            else if (access.Has(context, Permission.JobDiscover, resolved.Path))
            {
                discoverable.Add(new ApiObject("hudson.model.Queue$Item").Add("task", new ApiObject(ApiModels.JobClass(job)).Add("name", job.Name, 999), 999));
            }
        }
        var model = new ApiObject("hudson.model.Queue").Add("discoverableItems", discoverable).Add("items", readable, inline: true);
        return ApiResults.Render(context, model, format);
    }

    static async Task<IResult> CancelItem(HttpContext context, BuildQueue queue, ItemStore items, ItemAccess access, CancellationToken ct)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
            return ItemEndpoints.MethodNotAllowed("POST");
        var (inputs, _) = await RequestInputs.ReadAsync(context, ct);
        var (item, _, path, refusal) = await FindAsync(context, inputs.First("id") ?? "", anyAge: true, queue, items, access, ct);
        // Unknown or unreadable, discover-only included, are alike here (remote-api.md §4).
        if (refusal is not null)
            return Refusals.NotFound("No such queue item");
        if (!access.Has(context, Permission.JobCancel, path))
        {
            context.Response.Headers["X-Required-Permission"] = Permission.JobCancel.Id;
            return Http.Error(422, "no-permission", $"{context.Caller().Name} is missing the {Permission.JobCancel.Name} permission");
        }
        return await queue.CancelAsync(item!.Id, ct) switch
        {
            CancelOutcome.Cancelled => Http.Empty(204, $"{Http.BaseUrl(context)}queue/item/{item.Id}/"),
            CancelOutcome.AlreadyLeft => Http.Error(409, "already-left", $"Queue item {item.Id} already left the queue"),
            _ => Refusals.NotFound("No such queue item"),
        };
    }

    static async Task<IResult> CancelQueue(HttpContext context, string id, BuildQueue queue, ItemStore items, ItemAccess access, CancellationToken ct)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
            return ItemEndpoints.MethodNotAllowed("POST");
        var (item, _, path, refusal) = await FindAsync(context, id, anyAge: true, queue, items, access, ct);
        if (refusal is not null)
            return refusal;
        if (!access.Has(context, Permission.JobCancel, path))
            return Refusals.Forbidden(Permission.JobCancel);
        await queue.CancelAsync(item!.Id, ct);
        return Results.Redirect($"{Http.BaseUrl(context)}queue/item/{item.Id}/");
    }
}
