using Microsoft.AspNetCore.Http.HttpResults;
using Valet.Core;
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

    static PushStreamHttpResult PollingLog(ItemContext job, ValetHome home)
    {
        var path = ScmPoller.PollingLog(home, job.Item.Id);
        return TypedResults.Stream(async stream =>
        {
            if (!File.Exists(path))
                return;
            await using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            await f.CopyToAsync(stream);
        }, "text/plain;charset=UTF-8");
    }
}
