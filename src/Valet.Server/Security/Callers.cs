using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Net.Http.Headers;
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
/// Who is asking. HTTP Basic on any URL, pre-emptive (API token first, then password), beats the
/// sign-in cookie; an invalid header is a 401 everywhere but /healthz, and repeated failures from one
/// address are slowed, then refused with 429. Other schemes are ignored.
/// </summary>
public sealed partial class AuthenticationMiddleware(RequestDelegate next, Authenticator authenticator, SignInSessions sessions, SignInGuard guard,
    ClientAddress clientAddress, TimeProvider time, ILoggerFactory loggers)
{
    public const string SignInCookie = "valet_signin";

    readonly ILogger logger = loggers.CreateLogger("Valet.Security");

    /// <summary>Set instead of answering 401 on /buildByToken, whose decision order puts the guard first.</summary>
    public const string BadCredentialsKey = "valet.badCredentials";

    /// <summary>Set, with the wait, instead of answering 429 on /buildByToken (step 1s).</summary>
    public const string SignInBlockedKey = "valet.signInBlocked";

    public async Task InvokeAsync(HttpContext context)
    {
        // /healthz answers anyone, whatever credentials come along.
        if (context.Request.Path.StartsWithSegments("/healthz"))
        {
            await next(context);
            return;
        }
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var address = clientAddress.Of(context);
            var byToken = context.Request.Path.StartsWithSegments("/buildByToken");
            // Checked before any password is hashed; /buildByToken answers it itself, after its own guard (step 1s).
            if (guard.IsBlocked(address, out var retryAfter))
            {
                if (byToken)
                {
                    context.Items[SignInBlockedKey] = retryAfter;
                    await next(context);
                    return;
                }
                await TooManyAsync(context, retryAfter);
                return;
            }
            var caller = await AuthenticateAsync(header["Basic ".Length..].Trim(), context.RequestAborted);
            if (caller is null)
            {
                // Every failed credential counts, on every URL: else /buildByToken would guess passwords at full speed.
                var delay = guard.RecordFailure(address);
                Log.BasicFailed(logger, address);
                if (delay > TimeSpan.Zero)
                    await Task.Delay(delay, time, context.RequestAborted);
                // /buildByToken decides itself, its own guard first (build-token-root.md).
                if (byToken)
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
        else if (context.Request.Cookies[SignInCookie] is { Length: > 0 } cookie
            && await sessions.FindAsync(cookie, context.RequestAborted) is { } user)
        {
            context.SetCaller(new Caller(user.Id, user.FullName));
        }
        await next(context);
    }

    public static Task TooManyAsync(HttpContext context, TimeSpan retryAfter)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return Http.WriteErrorAsync(context, 429, "rate-limited", "Too many failed sign-in attempts from this address; try again later");
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
        return await authenticator.BasicAsync(decoded[..colon], decoded[(colon + 1)..], ct);
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Rejected HTTP Basic credentials from {Address}")]
        public static partial void BasicFailed(ILogger logger, string address);
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
    /// <summary>
    /// 403 naming the missing permission; never 401 for a missing permission. An anonymous browser
    /// gets it as a small page linking the sign-in form (never a redirect).
    /// </summary>
    public static Task ForbiddenAsync(HttpContext context, Permission permission)
    {
        var caller = context.Caller();
        context.Response.Headers["X-Required-Permission"] = permission.Id;
        context.Response.Headers["X-You-Are-Authenticated-As"] = Http.HeaderSafe(caller.Name);
        var message = $"Access denied: {caller.Name} is missing the {permission.Name} permission";
        return caller.IsAnonymous && WantsHtml(context.Request)
            ? SignInPageAsync(context, message)
            : Http.WriteErrorAsync(context, 403, "forbidden", message);
    }

    /// <summary>403 for a URL that needs a signed-in user (`/me/…`).</summary>
    public static Task SignInRequiredAsync(HttpContext context)
    {
        context.Response.Headers["X-You-Are-Authenticated-As"] = Http.HeaderSafe(context.Caller().Name);
        const string message = "Access denied: sign in to use this URL";
        return WantsHtml(context.Request) ? SignInPageAsync(context, message) : Http.WriteErrorAsync(context, 403, "sign-in-required", message);
    }

    static Task SignInPageAsync(HttpContext context, string message)
    {
        var request = context.Request;
        var from = request.Path.Value + request.QueryString.Value;
        var login = $"{request.PathBase}/login?from={Uri.EscapeDataString(from)}";
        var response = context.Response;
        response.StatusCode = 403;
        response.Headers["X-Error"] = Http.HeaderSafe(message);
        response.ContentType = "text/html; charset=utf-8";
        return response.WriteAsync(
            $"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sign in</title></head><body><h1>Access denied</h1><p>{WebUtility.HtmlEncode(message)}.</p><p><a href=\"{WebUtility.HtmlEncode(login)}\">Sign in</a></p></body></html>",
            Encoding.UTF8);
    }

    /// <summary>Whether the client (a browser) accepts HTML.</summary>
    public static bool WantsHtml(HttpRequest request) =>
        MediaTypeHeaderValue.TryParseList(request.Headers.Accept.Where(a => a is not null).ToList()!, out var accepts)
        && accepts.Any(a => string.Equals(a.MediaType.Value, "text/html", StringComparison.OrdinalIgnoreCase) && (a.Quality ?? 1) > 0);

    public static IResult Forbidden(Permission permission) => new ForbiddenResult(permission);

    sealed record ForbiddenResult(Permission Permission) : IResult
    {
        public Task ExecuteAsync(HttpContext context) => ForbiddenAsync(context, Permission);
    }

    public static IResult SignInRequired() => new SignInRequiredResult();

    sealed record SignInRequiredResult : IResult
    {
        public Task ExecuteAsync(HttpContext context) => SignInRequiredAsync(context);
    }

    public static IResult NotFound(string what = "No such item") => Http.Error(404, "not-found", what);
}

/// <summary>
/// CSRF crumbs on every unsafe method (remote-api.md §6.4), checked before Overall/Read as §3 orders
/// it. Not for API-token callers (a crumb they send is ignored), `/buildByToken/*`, or the sign-in
/// POST, which checks the crumb its own form carries.
/// </summary>
public sealed class CrumbMiddleware(RequestDelegate next, Crumbs crumbs)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) || HttpMethods.IsTrace(request.Method)
            || context.Caller().ByApiToken
            || request.Path.StartsWithSegments("/buildByToken") || request.Path.StartsWithSegments("/login")
            || crumbs.IsValid(context.Caller(), request.Cookies[Crumbs.SessionCookie], await PresentedAsync(request)))
        {
            await next(context);
            return;
        }
        await Http.WriteErrorAsync(context, 403, "no-crumb", "No valid crumb was included in the request");
    }

    /// <summary>The crumb sent: header, else query, else form field (read once per request, so the endpoint still sees the body).</summary>
    public static async Task<string?> PresentedAsync(HttpRequest request)
    {
        if (request.Headers[Crumbs.Field].FirstOrDefault() is { Length: > 0 } header)
            return header;
        var (inputs, _) = await RequestInputs.ReadAsync(request.HttpContext, request.HttpContext.RequestAborted);
        return inputs.First(Crumbs.Field);
    }
}
