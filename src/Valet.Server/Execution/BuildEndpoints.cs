using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing.Patterns;
using Valet.Core;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Scm;
using Valet.Core.Security;
using Valet.Server.Hosting;
using Valet.Server.Items;
using Valet.Server.RemoteApi;
using Valet.Server.Security;

namespace Valet.Server.Execution;

/// <summary>The build a URL names (`…/7/`, `…/lastBuild/`), found once for every build route.</summary>
public sealed record BuildContext(Build Build)
{
    public static ValueTask<BuildContext?> BindAsync(HttpContext context) =>
        ValueTask.FromResult<BuildContext?>(context.Features.Get<BuildContext>()
            ?? throw new InvalidOperationException("A handler takes a BuildContext but its endpoint is outside the build group"));
}

/// <summary>One build: its page, API, console (whole or from an offset) and stop.</summary>
public static class BuildEndpoints
{
    static readonly string[] ReadMethods = ["GET", "HEAD"];
    const string Api = "/api/{format:regex(^(json|xml)$)}";

    public static readonly string[] Permalinks =
        ["lastBuild", "lastCompletedBuild", "lastSuccessfulBuild", "lastStableBuild", "lastFailedBuild", "lastUnstableBuild", "lastUnsuccessfulBuild"];

    public static void MapBuilds(this IEndpointRouteBuilder app)
    {
        var pattern = RoutePatternFactory.Parse(ItemPathsMiddleware.Prefix + "/{build}", defaults: null, parameterPolicies: new { build = new BuildReference() });
        var build = app.MapGroup(pattern).RequireItem().RequireJob().WithMetadata(BuildGate.Instance);
        build.MapMethods("/", ReadMethods, BuildPage);
        build.MapMethodNotAllowed("/", "GET");
        build.MapMethods(Api, ReadMethods, BuildApiAsync);
        build.MapMethodNotAllowed(Api, "GET");
        build.MapMethods("/consoleText", ReadMethods, ConsoleText);
        build.MapMethodNotAllowed("/consoleText", "GET");
        // GET, or POST with a form `start`, as npm `jenkins` sends it.
        build.Map("/logText/progressiveText", ProgressiveTextAsync);
        build.MapPost("/stop", Stop).RequireItem(Permission.JobCancel);
        build.MapMethodNotAllowed("/stop", "POST");
        build.MapItemFallback();
    }

    /// <summary>A build number (digits) or one of the <see cref="Permalinks"/>, spelled exactly.</summary>
    sealed class BuildReference : IRouteConstraint
    {
        public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection) =>
            values.TryGetValue(routeKey, out var value) && value is string reference
            && (long.TryParse(reference, NumberStyles.None, CultureInfo.InvariantCulture, out _) || Permalinks.Contains(reference));
    }

    /// <summary>Finds the build after the job's checks, so a hidden job stays a 404 whatever build is asked for.</summary>
    sealed class BuildGate : IItemGate
    {
        public static readonly BuildGate Instance = new();

        public async ValueTask<IResult?> CheckAsync(HttpContext context, ItemContext item)
        {
            var builds = context.RequestServices.GetRequiredService<BuildStore>();
            var build = await FindAsync(builds, item.Item, (string)context.GetRouteValue("build")!, context.RequestAborted);
            if (build is null)
                return Refusals.NotFound("No such build");
            context.Features.Set(new BuildContext(build));
            return null;
        }
    }

    static async Task<Build?> FindAsync(BuildStore builds, Item job, string reference, CancellationToken ct)
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

    static ContentHttpResult BuildPage(ItemContext job, BuildContext build) =>
        ItemEndpoints.Page($"{job.Item.FullName} #{build.Build.Number}", "<p>See <a href=\"consoleText\">consoleText</a>.</p>");

    static async Task<IResult> BuildApiAsync(HttpContext context, string format, ItemContext job, BuildContext build, BuildStore builds, ScmStore scm,
        ApiModels models, CancellationToken ct) =>
        ApiResults.Render(context, models.Build(job.Item, build.Build, Http.BaseUrl(context), await EstimateAsync(builds, job.Item, ct),
            await scm.GetAsync(job.Item.Id, build.Build.Number, ct)), format);

    static async Task<long?> EstimateAsync(BuildStore builds, Item job, CancellationToken ct)
    {
        var done = (await builds.ListAsync(job.Id, 10, ct)).Where(b => b.Result == BuildResult.Success).Select(b => b.Duration).ToList();
        return done.Count == 0 ? null : (long)done.Average();
    }

    static PushStreamHttpResult ConsoleText(ItemContext job, BuildContext build, ConsoleLogs consoles, CancellationToken ct) =>
        TypedResults.Stream(stream => consoles.CopyAllToAsync(job.Item.Id, build.Build.Number, stream, ct), "text/plain;charset=UTF-8");

    static async Task<IResult> ProgressiveTextAsync(HttpContext context, ItemContext job, BuildContext build, ConsoleLogs consoles, CancellationToken ct)
    {
        var (inputs, _) = await RequestInputs.ReadAsync(context, ct);
        var startText = inputs.First("start") ?? "0";
        if (!long.TryParse(startText, NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            return Http.Error(400, "bad-start", $"Invalid start '{startText}': a byte offset (a non-negative integer) is expected");
        // Read the state first: a build that was still running may have written more by the time the console is read.
        var building = build.Build.Building;
        var range = await consoles.RangeAsync(job.Item.Id, build.Build.Number, start, ct);
        context.Response.Headers["X-Text-Size"] = range.End.ToString(CultureInfo.InvariantCulture);
        if (building)
            context.Response.Headers["X-More-Data"] = "true";
        // The bytes of the range never change once written, so their length is known before they are copied.
        context.Response.ContentLength = range.Length;
        return TypedResults.Stream(stream => consoles.CopyToAsync(job.Item.Id, build.Build.Number, range, stream, ct), "text/plain;charset=UTF-8");
    }

    static async Task<RedirectHttpResult> Stop(HttpContext context, ItemContext job, BuildContext build, BuildDispatcher dispatcher, CancellationToken ct)
    {
        if (build.Build.Building)
            await dispatcher.AbortAsync(job.Item.Id, build.Build.Number, job.Caller.FullName, ct);
        return TypedResults.Redirect($"{Http.BaseUrl(context)}{job.Item.UrlPath}{build.Build.Number}/");
    }
}
