using System.Text.Json;
using System.Text.RegularExpressions;
using Valet.Core.Items;
using Valet.Core.Security;
using Valet.Core.Triggers;
using Valet.Server.Hosting;
using Valet.Server.Items;
using Valet.Server.Security;

namespace Valet.Server.Triggers;

/// <summary>Native API for a job's tokens (build-token-root.md §12): list, create (value shown once), revoke.</summary>
public static partial class JobTokenEndpoints
{
    public static void MapJobTokens(this IEndpointRouteBuilder app)
    {
        var tokens = app.MapItemGroup("/tokens").RequireJob().RequireItem(Permission.JobConfigure);
        tokens.Map("/api/json", ListAsync);
        tokens.MapPost("/", CreateAsync);
        tokens.MapMethodNotAllowed("/", "POST");
        tokens.MapPost("/{name}/revoke", RevokeAsync);
        tokens.MapMethodNotAllowed("/{name}/revoke", "POST");
        tokens.MapItemFallback();
    }

    static async Task<IResult> RevokeAsync(string name, ItemContext job, JobTokens tokens, CancellationToken ct)
    {
        if (name == JobTokens.DefaultName && job.Item.ManagedBy is not null)
            return ItemConfigEndpoints.ManagedByFile(job.Item);
        return await tokens.RevokeAsync(job.Item.Id, name, ct) ? Http.Empty(204) : Http.Error(404, "no-such-token", $"{job.Item.FullName} has no token named '{name}'");
    }

    static async Task<IResult> ListAsync(ItemContext job, JobTokens tokens, CancellationToken ct) => Results.Json(new
    {
        tokens = (await tokens.ListAsync(job.Item.Id, ct)).Select(t => new
        {
            name = t.Name,
            createdAt = t.CreatedAt,
            expiresAt = t.ExpiresAt,
            revoked = t.Revoked,
            lastUsedAt = t.LastUsedAt,
            lastUsedAddress = t.LastUsedAddress,
        }),
    }, contentType: "application/json; charset=utf-8");

    static async Task<IResult> CreateAsync(HttpContext context, ItemContext target, JobTokens tokens, TimeProvider time, CancellationToken ct)
    {
        var job = target.Item;
        var (request, problem) = await TokenRequest.ReadAsync(context,
            name => TokenName().IsMatch(name) ? null : "A token name is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'", time, ct);
        if (problem is not null)
            return problem;
        var (name, expiresAt) = request!;
        if (name == JobTokens.DefaultName && job.ManagedBy is not null)
            return ItemConfigEndpoints.ManagedByFile(job);
        var (outcome, value, createdAt) = await tokens.CreateAsync(job.Id, name, expiresAt, ct);
        if (outcome == JobTokens.CreateOutcome.NameTaken)
            return Http.Error(409, "name-taken", $"{job.FullName} already has a token named '{name}'");
        return Results.Json(new { name, value, createdAt, expiresAt }, statusCode: 201, contentType: "application/json; charset=utf-8");
    }

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}\z")]
    private static partial Regex TokenName();
}
