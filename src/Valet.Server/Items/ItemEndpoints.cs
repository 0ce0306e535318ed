using System.Net;
using Valet.Core.Configuration;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Security;
using Valet.Server.Execution;
using Valet.Server.Hosting;
using Valet.Server.RemoteApi;
using Valet.Server.Security;
using Valet.Server.Triggers;

namespace Valet.Server.Items;

public static class ItemEndpoints
{
    static readonly string[] ReadMethods = ["GET", "HEAD"];

    public static void MapRoot(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/", ReadMethods, () => Page("Valet", "<p>See <a href=\"api/json\">api/json</a>.</p>"));
        app.MapMethods("/api/{format:regex(^(json|xml)$)}", ReadMethods, RootApi);
        app.MapMethods("/view/all/api/{format:regex(^(json|xml)$)}", ReadMethods, AllViewApi);
    }

    public static void MapJobs(this IEndpointRouteBuilder app)
    {
        app.Map("/job/{**path}", Dispatch);
        app.Map("/view/all/job/{**path}", Dispatch);
    }

    static async Task<IResult> RootApi(HttpContext context, string format, ItemStore items, ItemAccess access, ApiModels models, ServerSettings server, CancellationToken ct)
    {
        var baseUrl = Http.BaseUrl(context);
        var jobs = await ReadableChildrenAsync(context, null, items, access, models, baseUrl, ct);
        var executors = server.Executors ?? Environment.ProcessorCount;
        return ApiResults.Render(context, models.Root(server.RootUrl, baseUrl, jobs, executors), format);
    }

    static async Task<IResult> AllViewApi(HttpContext context, string format, ItemStore items, ItemAccess access, ApiModels models, CancellationToken ct)
    {
        var baseUrl = Http.BaseUrl(context);
        var jobs = await ReadableChildrenAsync(context, null, items, access, models, baseUrl, ct);
        return ApiResults.Render(context, models.AllView(baseUrl + "view/all/", jobs), format);
    }

    /// <summary>A folder's (or the root's) children the caller may read, as `jobs` lists them.</summary>
    static async Task<List<ApiObject>> ReadableChildrenAsync(HttpContext context, Item? parent, ItemStore items, ItemAccess access, ApiModels models, string baseUrl, CancellationToken ct)
    {
        var builds = context.RequestServices.GetRequiredService<BuildStore>();
        var list = new List<ApiObject>();
        foreach (var child in await items.ChildrenAsync(parent?.Id, ct))
        {
            if (!await access.CanReadAsync(context, child, ct))
                continue;
            string? color = null;
            if (child.IsJob)
            {
                var recent = await builds.ListAsync(child.Id, 20, ct);
                color = ApiModels.Color(child, recent.FirstOrDefault(b => !b.Building), recent.Any(b => b.Building));
            }
            list.Add(models.ItemRef(child, baseUrl, color));
        }
        return list;
    }

    static async Task<IResult> Dispatch(HttpContext context, string path, ItemAccess access, CancellationToken ct)
    {
        var route = JobRoute.Parse(path);
        if (route is null || route.Names.Any(n => ItemName.Problem(WebUtility.UrlDecode(n)) is not null))
            return Refusals.NotFound();
        var method = context.Request.Method;
        var isRead = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        var sp = context.RequestServices;
        var configs = sp.GetRequiredService<ItemConfigEndpoints>();
        // A PUT may create the item, so it resolves the path itself.
        if (route.Is("config.json") && HttpMethods.IsPut(method))
            return await configs.PutAsync(context, route.Names, ct);
        var resolved = await access.ResolveAsync(context, route.Names, null, ct);
        if (resolved.Refusal is not null)
            return resolved.Refusal;
        var item = resolved.Item!;

        if (route.Rest.Count == 0)
        {
            if (HttpMethods.IsDelete(method))
                return await configs.DeleteAsync(context, item, resolved.Path, ct);
            return isRead ? Page(item.FullName, $"<p>See <a href=\"api/json\">api/json</a>.</p>") : MethodNotAllowed("GET, DELETE");
        }
        if (route.Is("config.json"))
        {
            if (!isRead)
                return MethodNotAllowed("GET, PUT");
            return access.Has(context, Permission.JobConfigure, resolved.Path) ? configs.Get(item) : Refusals.Forbidden(Permission.JobConfigure);
        }
        if (route.Rest.Count == 2 && route.Rest[0] == "api" && route.Rest[1] is "json" or "xml")
            return isRead ? await ItemApiAsync(context, item, route.Rest[1], sp, ct) : MethodNotAllowed("GET");
        if (item.IsFolder)
            return Refusals.NotFound();

        if (route.BuildRef is not null)
            return await sp.GetRequiredService<BuildEndpoints>().HandleAsync(context, item, resolved.Path, route, ct);

        var triggers = sp.GetRequiredService<CoreTriggers>();
        return route.Rest switch
        {
            ["build"] => await triggers.BuildAsync(context, item, resolved.Path, withParameters: false, ct),
            ["buildWithParameters"] => await triggers.BuildAsync(context, item, resolved.Path, withParameters: true, ct),
            ["tokens", ..] => await sp.GetRequiredService<JobTokenEndpoints>().HandleAsync(context, item, resolved.Path, route.Rest.Skip(1).ToList(), ct),
            _ => Refusals.NotFound(),
        };
    }

    static async Task<IResult> ItemApiAsync(HttpContext context, Item item, string format, IServiceProvider sp, CancellationToken ct)
    {
        var models = sp.GetRequiredService<ApiModels>();
        var baseUrl = Http.BaseUrl(context);
        if (item.IsFolder)
        {
            var children = await ReadableChildrenAsync(context, item, sp.GetRequiredService<ItemStore>(), sp.GetRequiredService<ItemAccess>(), models, baseUrl, ct);
            return ApiResults.Render(context, models.Folder(item, baseUrl, children), format);
        }
        var state = await JobStateAsync(item, sp, ct);
        return ApiResults.Render(context, models.Job(item, baseUrl, state), format);
    }

    public static async Task<ApiModels.JobState> JobStateAsync(Item job, IServiceProvider sp, CancellationToken ct)
    {
        var builds = await sp.GetRequiredService<BuildStore>().ListAsync(job.Id, 100, ct);
        var queued = await sp.GetRequiredService<BuildQueue>().QueuedForJobAsync(job.Id, ct);
        return new ApiModels.JobState(builds, queued, builds.FirstOrDefault(b => b.Building)?.Number);
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

    public static IResult Page(string title, string body) => Results.Content(
        $"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{WebUtility.HtmlEncode(title)}</title></head><body><h1>{WebUtility.HtmlEncode(title)}</h1>{body}</body></html>",
        "text/html; charset=utf-8");
}
