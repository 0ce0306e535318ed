using System.Text;
using Valet.Core.Security;
using Valet.Server.Hosting;

namespace Valet.Server.Security;

public static class Callers
{
    const string Key = "valet.caller";

    public static Caller Caller(this HttpContext context) => context.Items[Key] as Caller ?? Core.Security.Caller.Anonymous;

    internal static void SetCaller(this HttpContext context, Caller caller) => context.Items[Key] = caller;
}

/// <summary>
/// HTTP Basic on any URL, pre-emptive: a valid header makes the caller that user; an invalid one is a
/// 401 everywhere but /healthz. Other schemes are ignored.
/// </summary>
public sealed class AuthenticationMiddleware(RequestDelegate next, UserStore users)
{
    /// <summary>Set instead of answering 401 on /buildByToken, whose decision order puts the guard first.</summary>
    public const string BadCredentialsKey = "valet.badCredentials";

    public async Task InvokeAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var caller = await AuthenticateAsync(header["Basic ".Length..].Trim(), context.RequestAborted);
            if (caller is null)
            {
                if (context.Request.Path.StartsWithSegments("/healthz"))
                {
                    await next(context);
                    return;
                }
                if (context.Request.Path.StartsWithSegments("/buildByToken"))
                {
                    context.Items[BadCredentialsKey] = true;
                    await next(context);
                    return;
                }
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"Valet\"";
                await Http.WriteErrorAsync(context, 401, "bad-credentials", "Invalid user name, password or API token");
                return;
            }
            context.SetCaller(caller);
        }
        await next(context);
    }

    async Task<Caller?> AuthenticateAsync(string encoded, CancellationToken ct)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return null;
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
            return null;
        var user = await users.FindAsync(decoded[..colon], ct);
        var secret = decoded[(colon + 1)..];
        if (user is null || !PasswordHasher.Verify(secret, user.PasswordHash))
            return null;
        return new Caller(user.Id, user.FullName);
    }
}

/// <summary>
/// Overall/Read first: checked before any item is resolved, on every route (and on paths that match
/// none) but the few open ones, so a caller without it never learns what exists.
/// </summary>
public sealed class OverallReadMiddleware(RequestDelegate next, Authorizer authorizer)
{
    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is not null
            || authorizer.Has(context.Caller(), Permission.Read))
            return next(context);
        return Refusals.ForbiddenAsync(context, Permission.Read);
    }
}

public static class Refusals
{
    /// <summary>403 naming the missing permission; never 401 for a missing permission.</summary>
    public static Task ForbiddenAsync(HttpContext context, Permission permission)
    {
        var caller = context.Caller();
        context.Response.Headers["X-Required-Permission"] = permission.Id;
        context.Response.Headers["X-You-Are-Authenticated-As"] = caller.Name;
        return Http.WriteErrorAsync(context, 403, "forbidden", $"Access denied: {caller.Name} is missing the {permission.Name} permission");
    }

    public static IResult Forbidden(Permission permission) => new ForbiddenResult(permission);

    sealed record ForbiddenResult(Permission Permission) : IResult
    {
        public Task ExecuteAsync(HttpContext context) => ForbiddenAsync(context, Permission);
    }

    public static IResult NotFound(string what = "No such item") => Http.Error(404, "not-found", what);
}
