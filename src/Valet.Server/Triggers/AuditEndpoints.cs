using System.Globalization;
using Valet.Core.Security;
using Valet.Core.Triggers;
using Valet.Server.Hosting;
using Valet.Server.Security;

namespace Valet.Server.Triggers;

/// <summary>The token endpoints' audit log for administrators: newest first, paged with `before`.</summary>
public static class AuditEndpoints
{
    public static void MapAudit(this IEndpointRouteBuilder app) =>
        app.MapMethods("/audit/api/json", ["GET", "HEAD"], List);

    static async Task<IResult> List(HttpContext context, TriggerAudit audit, Authorizer authorizer, CancellationToken ct)
    {
        if (!authorizer.Has(context.Caller(), Permission.Administer))
            return Refusals.Forbidden(Permission.Administer);
        var q = context.Request.Query;
        var limit = 100;
        if (q["limit"].FirstOrDefault() is { } l && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
            return Http.Error(400, "bad-limit", "limit must be an integer from 1 to 1000");
        long? before = null;
        if (q["before"].FirstOrDefault() is { } b)
        {
            if (!long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                return Http.Error(400, "bad-before", "before must be an audit entry id");
            before = id;
        }
        await audit.FlushAsync(ct);
        var entries = await audit.ListAsync(limit + 1, before, ct);
        var page = entries.Take(limit).ToList();
        return Results.Json(new
        {
            entries = page.Select(e => new
            {
                id = e.Id,
                time = e.Time,
                endpoint = e.Endpoint,
                job = e.Job,
                fullName = e.FullName,
                address = e.Address,
                status = e.Status,
                reason = e.Reason,
                queueId = e.QueueId,
                idempotencyKey = e.IdempotencyKey,
                tokenName = e.TokenName,
                count = e.Count,
            }),
            next = entries.Count > limit ? page[^1].Id : (long?)null,
        }, contentType: "application/json; charset=utf-8");
    }
}
