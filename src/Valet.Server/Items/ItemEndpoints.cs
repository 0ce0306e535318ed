using System.Net;
using Microsoft.AspNetCore.Http.HttpResults;
using Valet.Core.Configuration;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Security;
using Valet.Server.Hosting;
using Valet.Server.RemoteApi;
using Valet.Server.Security;

namespace Valet.Server.Items;

/// <summary>The root, the all view and an item's own URLs: its page, `api/json|xml`, `config.json` and DELETE.</summary>
public static class ItemEndpoints
{
    static readonly string[] ReadMethods = ["GET", "HEAD"];
    const string Api = "/api/{format:regex(^(json|xml)$)}";

    public static void MapRoot(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/", ReadMethods, () => Page("Valet", "<p>See <a href=\"api/json\">api/json</a>.</p>"));
        app.MapMethods(Api, ReadMethods, RootApi);
        app.MapMethods("/view/all" + Api, ReadMethods, AllViewApi);
    }

    public static void MapItems(this IEndpointRouteBuilder app)
    {
        var item = app.MapItemGroup();
        item.MapMethods("/", ReadMethods, ItemPage);
        item.MapDelete("/", ItemConfigEndpoints.DeleteAsync).RequireItem(Permission.JobDelete);
        item.MapMethodNotAllowed("/", "GET, DELETE");
        item.MapMethods(Api, ReadMethods, ItemApi);
        item.MapMethodNotAllowed(Api, "GET");
        item.MapMethods("/config.json", ReadMethods, ItemConfigEndpoints.Get).RequireItem(Permission.JobConfigure);
        item.MapPut("/config.json", ItemConfigEndpoints.PutAsync).AllowMissingItem();
        item.MapMethodNotAllowed("/config.json", "GET, PUT");
        item.MapItemFallback();
    }

    static async Task<IResult> RootApi(HttpContext context, string format, ItemStore items, BuildStore builds, ItemAccess access, ApiModels models, ServerSettings server, CancellationToken ct)
    {
        var baseUrl = Http.BaseUrl(context);
        var jobs = await ReadableChildrenAsync(context, null, items, builds, access, models, baseUrl, ct);
        var executors = server.Executors ?? Environment.ProcessorCount;
        return ApiResults.Render(context, models.Root(server.RootUrl, baseUrl, jobs, executors), format);
    }

    static async Task<IResult> AllViewApi(HttpContext context, string format, ItemStore items, BuildStore builds, ItemAccess access, ApiModels models, CancellationToken ct)
    {
        var baseUrl = Http.BaseUrl(context);
        var jobs = await ReadableChildrenAsync(context, null, items, builds, access, models, baseUrl, ct);
        return ApiResults.Render(context, models.AllView(baseUrl + "view/all/", jobs), format);
    }

    /// <summary>A folder's (or the root's) children the caller may read, as `jobs` lists them.</summary>
    static async Task<List<ApiObject>> ReadableChildrenAsync(HttpContext context, Item? parent, ItemStore items, BuildStore builds, ItemAccess access, ApiModels models, string baseUrl, CancellationToken ct)
    {
        var readable = new List<Item>();
        foreach (var child in await items.ChildrenAsync(parent?.Id, ct))
        {
            if (await access.CanReadAsync(context, child, ct))
                readable.Add(child);
        }
        // One read for every job's colour, not one per job: a folder may hold thousands.
        var summaries = await builds.SummariesAsync(readable.Where(c => c.IsJob).Select(c => c.Id).ToList(), ct);
        return readable.Select(child => models.ItemRef(child, baseUrl, child.IsJob && summaries.TryGetValue(child.Id, out var summary)
            ? ApiModels.Color(child, summary.LastResult, summary.Building != 0)
            : child.IsJob ? ApiModels.Color(child, lastResult: null, building: false) : null)).ToList();
    }

    static ContentHttpResult ItemPage(ItemContext item) => Page(item.Item.FullName, "<p>See <a href=\"api/json\">api/json</a>.</p>");

    static async Task<IResult> ItemApi(HttpContext context, string format, ItemContext item, ItemStore items, BuildStore builds, BuildQueue queue, ItemAccess access, ApiModels models, CancellationToken ct)
    {
        var baseUrl = Http.BaseUrl(context);
        if (item.Item.IsFolder)
        {
            var children = await ReadableChildrenAsync(context, item.Item, items, builds, access, models, baseUrl, ct);
            return ApiResults.Render(context, models.Folder(item.Item, baseUrl, children), format);
        }
        // `builds` is the newest 100, as Jenkins has it; `allBuilds`, which only a tree names, is every build.
        var everyBuild = context.Request.Query["tree"].ToString().Contains("allBuilds", StringComparison.Ordinal);
        var recent = await builds.ListAsync(item.Item.Id, everyBuild ? int.MaxValue : 100, ct);
        var queued = await queue.FirstQueuedForJobAsync(item.Item.Id, ct);
        var state = new ApiModels.JobState(recent, queued, recent.FirstOrDefault(b => b.Building)?.Number);
        return ApiResults.Render(context, models.Job(item.Item, baseUrl, state), format);
    }

    public static IResult MethodNotAllowed(string allow) => new AllowResult(allow);

    sealed record AllowResult(string Allow) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.Headers.Allow = Allow;
            return Http.WriteErrorAsync(context, 405, "method-not-allowed", $"This URL requires {Allow}");
        }
    }

    public static ContentHttpResult Page(string title, string body) => TypedResults.Content(
        $"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{WebUtility.HtmlEncode(title)}</title></head><body><h1>{WebUtility.HtmlEncode(title)}</h1>{body}</body></html>",
        "text/html; charset=utf-8");
}
