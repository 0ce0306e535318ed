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
public sealed partial class JobTokenEndpoints(JobTokens tokens, ItemAccess access, TimeProvider time)
{
    public async Task<IResult> HandleAsync(HttpContext context, Item job, IReadOnlyList<Item> path, IReadOnlyList<string> rest, CancellationToken ct)
    {
        if (!access.Has(context, Permission.JobConfigure, path))
            return Refusals.Forbidden(Permission.JobConfigure);
        var isPost = HttpMethods.IsPost(context.Request.Method);
        return rest switch
        {
            ["api", "json"] => await ListAsync(job, ct),
            [] => isPost ? await CreateAsync(context, job, ct) : ItemEndpoints.MethodNotAllowed("POST"),
            [JobTokens.DefaultName, "revoke"] when job.ManagedBy is not null => ItemConfigEndpoints.ManagedByFile(job),
            [var name, "revoke"] => isPost
                ? await tokens.RevokeAsync(job.Id, name, ct) ? Http.Empty(204) : Http.Error(404, "no-such-token", $"{job.FullName} has no token named '{name}'")
                : ItemEndpoints.MethodNotAllowed("POST"),
            _ => Refusals.NotFound(),
        };
    }

    async Task<IResult> ListAsync(Item job, CancellationToken ct) => Results.Json(new
    {
        tokens = (await tokens.ListAsync(job.Id, ct)).Select(t => new
        {
            name = t.Name,
            createdAt = t.CreatedAt,
            expiresAt = t.ExpiresAt,
            revoked = t.Revoked,
            lastUsedAt = t.LastUsedAt,
            lastUsedAddress = t.LastUsedAddress,
        }),
    }, contentType: "application/json; charset=utf-8");

    async Task<IResult> CreateAsync(HttpContext context, Item job, CancellationToken ct)
    {
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
