using Microsoft.AspNetCore.Http.HttpResults;
using Valet.Core.Scm;
using Valet.Core.Security;
using Valet.Server.Items;

namespace Valet.Server.Scm;

/// <summary>A job's polling log, like Jenkins' "Git Polling Log" (`…/scmPollLog/`), as plain text.</summary>
public static class ScmEndpoints
{
    public static void MapScm(this IEndpointRouteBuilder app)
    {
        var job = app.MapItemGroup().RequireJob().RequireItem(Permission.JobRead);
        job.MapGet("/scmPollLog", PollingLog);
    }

    static PushStreamHttpResult PollingLog(ItemContext job, PollingLog log, CancellationToken ct) =>
        TypedResults.Stream(stream => log.CopyToAsync(job.Item.Id, stream, ct), "text/plain;charset=UTF-8");
}
