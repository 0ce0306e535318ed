using System.Globalization;
using Valet.Core;
using Valet.Core.Configuration;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Security;
using Valet.Server.Hosting;
using Valet.Server.Items;
using Valet.Server.RemoteApi;
using Valet.Server.Security;

namespace Valet.Server.Execution;

/// <summary>One build: its API, console (whole or from an offset) and stop.</summary>
public sealed class BuildEndpoints(BuildStore builds, BuildDispatcher dispatcher, ValetHome home, ApiModels models, ItemAccess access)
{
    public async Task<IResult> HandleAsync(HttpContext context, Item job, IReadOnlyList<Item> path, JobRoute route, CancellationToken ct)
    {
        var build = await FindAsync(job, route.BuildRef!, ct);
        if (build is null)
            return Refusals.NotFound("No such build");
        var method = context.Request.Method;
        var isRead = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        var rest = route.Rest.Skip(1).ToList();
        return rest switch
        {
            [] => isRead ? ItemEndpoints.Page($"{job.FullName} #{build.Number}", "<p>See <a href=\"consoleText\">consoleText</a>.</p>") : ItemEndpoints.MethodNotAllowed("GET"),
            ["api", "json" or "xml"] => isRead ? ApiResults.Render(context, models.Build(job, build, Http.BaseUrl(context), await EstimateAsync(job, ct)), rest[1]) : ItemEndpoints.MethodNotAllowed("GET"),
            ["consoleText"] => isRead ? ConsoleText(job, build) : ItemEndpoints.MethodNotAllowed("GET"),
            ["logText", "progressiveText"] => await ProgressiveTextAsync(context, job, build, ct),
            ["stop"] => await StopAsync(context, job, path, build, ct),
            _ => Refusals.NotFound(),
        };
    }

    async Task<Build?> FindAsync(Item job, string reference, CancellationToken ct)
    {
        if (long.TryParse(reference, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            return await builds.GetAsync(job.Id, number, ct);
        var recent = await builds.ListAsync(job.Id, int.MaxValue, ct);
        var completed = recent.Where(b => !b.Building);
        return reference switch
        {
            "lastBuild" => recent.FirstOrDefault(),
            "lastCompletedBuild" => completed.FirstOrDefault(),
            "lastSuccessfulBuild" => completed.FirstOrDefault(b => b.Result is BuildResult.Success or BuildResult.Unstable),
            "lastStableBuild" => completed.FirstOrDefault(b => b.Result == BuildResult.Success),
            "lastFailedBuild" => completed.FirstOrDefault(b => b.Result == BuildResult.Failure),
            "lastUnstableBuild" => completed.FirstOrDefault(b => b.Result == BuildResult.Unstable),
            "lastUnsuccessfulBuild" => completed.FirstOrDefault(b => b.Result != BuildResult.Success),
            _ => null,
        };
    }

    async Task<long?> EstimateAsync(Item job, CancellationToken ct)
    {
        var done = (await builds.ListAsync(job.Id, 10, ct)).Where(b => b.Result == BuildResult.Success).Select(b => b.Duration).ToList();
        return done.Count == 0 ? null : (long)done.Average();
    }

    IResult ConsoleText(Item job, Build build)
    {
        var path = home.BuildLog(job.Id, build.Number);
        return Results.Stream(async stream =>
        {
            if (!File.Exists(path))
                return;
            await using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            await f.CopyToAsync(stream);
        }, "text/plain;charset=UTF-8");
    }

    async Task<IResult> ProgressiveTextAsync(HttpContext context, Item job, Build build, CancellationToken ct)
    {
        var (inputs, _) = await RequestInputs.ReadAsync(context, ct);
        var startText = inputs.First("start") ?? "0";
        if (!long.TryParse(startText, NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            return Http.Error(400, "bad-start", $"Invalid start '{startText}': a byte offset (a non-negative integer) is expected");
        // Read the state first: a build that was still running may have written more by the time the file is read.
        var building = build.Building;
        var (bytes, next) = await ConsoleLog.ReadFromAsync(home.BuildLog(job.Id, build.Number), start, ct);
        context.Response.Headers["X-Text-Size"] = next.ToString(CultureInfo.InvariantCulture);
        if (building)
            context.Response.Headers["X-More-Data"] = "true";
        return Results.Bytes(bytes, "text/plain;charset=UTF-8");
    }

    async Task<IResult> StopAsync(HttpContext context, Item job, IReadOnlyList<Item> path, Build build, CancellationToken ct)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
            return ItemEndpoints.MethodNotAllowed("POST");
        if (!access.Has(context, Permission.JobCancel, path))
            return Refusals.Forbidden(Permission.JobCancel);
        if (build.Building)
            await dispatcher.AbortAsync(job.Id, build.Number, context.Caller().FullName, ct);
        return Results.Redirect($"{Http.BaseUrl(context)}{job.UrlPath}{build.Number}/");
    }
}
