using Valet.Server.Items;

namespace Valet.Server.Triggers;

/// <summary>
/// The core trigger URLs, `…/build` and `…/buildWithParameters` (remote-api.md §3). Every method reaches
/// the handler: a matching token authorizes GET too, a parameterized job answers GET with its form, and
/// Job/Build or the token is decided there, so only the Discover rule is declared here.
/// </summary>
public static class CoreTriggerEndpoints
{
    public static void MapCoreTriggers(this IEndpointRouteBuilder app)
    {
        var job = app.MapItemGroup().RequireJob();
        job.Map("/build", Build);
        job.Map("/buildWithParameters", BuildWithParameters);
    }

    static Task<IResult> Build(HttpContext context, ItemContext job, CoreTriggers triggers, CancellationToken ct) =>
        triggers.BuildAsync(context, job.Item, job.Path, withParameters: false, ct);

    static Task<IResult> BuildWithParameters(HttpContext context, ItemContext job, CoreTriggers triggers, CancellationToken ct) =>
        triggers.BuildAsync(context, job.Item, job.Path, withParameters: true, ct);
}
