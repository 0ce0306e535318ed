using System.Globalization;
using System.Net;
using System.Text.Json;
using Valet.Core.Configuration;
using Valet.Core.Security;
using Valet.Server.Hosting;
using Valet.Server.Items;
using Valet.Server.RemoteApi;

namespace Valet.Server.Security;

/// <summary>Crumbs, who am I, the user's own page and API tokens, sign-in and sign-out.</summary>
public static class SecurityEndpoints
{
    static readonly string[] ReadMethods = ["GET", "HEAD"];
    const string Api = "/api/{format:regex(^(json|xml)$)}";
    const string TokenDescriptor = "/descriptorByName/jenkins.security.ApiTokenProperty";

    public static void MapSecurity(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/crumbIssuer" + Api, ReadMethods, CrumbIssuer);
        app.MapMethods("/whoAmI" + Api, ReadMethods, WhoAmI).AllowAnonymous();
        app.MapMethods("/me" + Api, ReadMethods, (HttpContext c, string format, UserStore users, Authorizer authorizer, CancellationToken ct) => UserApi(c, null, format, users, authorizer, ct));
        app.MapMethods("/user/{id}" + Api, ReadMethods, UserApi);

        app.MapPost("/me" + TokenDescriptor + "/generateNewToken", (HttpContext c, UserStore users, ApiTokens tokens, Authorizer authorizer, TimeProvider time, CancellationToken ct) => GenerateNewToken(c, null, users, tokens, authorizer, time, ct));
        app.MapPost("/user/{id}" + TokenDescriptor + "/generateNewToken", GenerateNewToken);
        app.MapPost("/me" + TokenDescriptor + "/revoke", (HttpContext c, UserStore users, ApiTokens tokens, Authorizer authorizer, CancellationToken ct) => Revoke(c, null, null, users, tokens, authorizer, ct));
        app.MapPost("/user/{id}" + TokenDescriptor + "/revoke", (HttpContext c, string id, UserStore users, ApiTokens tokens, Authorizer authorizer, CancellationToken ct) => Revoke(c, id, null, users, tokens, authorizer, ct));

        // Valet's own token API: list (metadata only), create (the value shown once), revoke.
        app.MapMethods("/me/tokens/api/json", ReadMethods, (HttpContext c, UserStore users, ApiTokens tokens, Authorizer authorizer, CancellationToken ct) => ListTokens(c, null, users, tokens, authorizer, ct));
        app.MapMethods("/user/{id}/tokens/api/json", ReadMethods, ListTokens);
        app.MapPost("/me/tokens", (HttpContext c, UserStore users, ApiTokens tokens, Authorizer authorizer, TimeProvider time, CancellationToken ct) => CreateToken(c, null, users, tokens, authorizer, time, ct));
        app.MapPost("/user/{id}/tokens", CreateToken);
        app.MapPost("/me/tokens/{uuid}/revoke", (HttpContext c, string uuid, UserStore users, ApiTokens tokens, Authorizer authorizer, CancellationToken ct) => Revoke(c, null, uuid, users, tokens, authorizer, ct));
        app.MapPost("/user/{id}/tokens/{uuid}/revoke", (HttpContext c, string id, string uuid, UserStore users, ApiTokens tokens, Authorizer authorizer, CancellationToken ct) => Revoke(c, id, uuid, users, tokens, authorizer, ct));

        app.MapMethods("/login", ReadMethods, LoginForm).AllowAnonymous();
        app.MapPost("/login", SignIn).AllowAnonymous();
        app.MapPost("/logout", SignOut).AllowAnonymous();
        app.MapMethods("/logout", ReadMethods, () => ItemEndpoints.MethodNotAllowed("POST")).AllowAnonymous();
    }

    static string Now(TimeProvider time) => time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    static bool Secure(HttpContext context) =>
        context.Request.IsHttps || Http.BaseUrl(context).StartsWith("https:", StringComparison.OrdinalIgnoreCase);

    static CookieOptions CookieOptions(HttpContext context, TimeSpan? maxAge = null) =>
        new() { HttpOnly = true, SameSite = SameSiteMode.Lax, Secure = Secure(context), Path = "/", MaxAge = maxAge, IsEssential = true };

    /// <summary>The browser's crumb session, created (and set as a cookie) when it has none; never replaced.</summary>
    static string EnsureSession(HttpContext context)
    {
        if (context.Request.Cookies[Crumbs.SessionCookie] is { Length: >= 32 } existing)
            return existing;
        var session = Crumbs.NewSession();
        context.Response.Cookies.Append(Crumbs.SessionCookie, session, CookieOptions(context));
        return session;
    }

    static IResult CrumbIssuer(HttpContext context, string format, Crumbs crumbs)
    {
        var crumb = crumbs.For(context.Caller(), EnsureSession(context));
        var model = new ApiObject("hudson.security.csrf.DefaultCrumbIssuer").Add("crumb", crumb).Add("crumbRequestField", Crumbs.Field);
        return ApiResults.Render(context, model, format);
    }

    static IResult WhoAmI(HttpContext context, string format)
    {
        var caller = context.Caller();
        var model = new ApiObject("hudson.security.WhoAmI")
            .Add("anonymous", caller.IsAnonymous)
            .Add("authenticated", !caller.IsAnonymous)
            .Add("authorities", caller.IsAnonymous ? new[] { Authorizer.AnonymousPrincipal } : [Authorizer.Authenticated])
            .Add("name", caller.Name);
        return ApiResults.Render(context, model, format);
    }

    /// <summary>
    /// The user a `/me/…` or `/user/&lt;id&gt;/…` URL names, when the caller may act for it (itself, or
    /// Overall/Administer); otherwise the refusal. Others' ids are not confirmed to non-admins.
    /// </summary>
    static async Task<(User? User, IResult? Refusal)> TargetAsync(HttpContext context, string? id, UserStore users, Authorizer authorizer, bool readOnly, CancellationToken ct)
    {
        var caller = context.Caller();
        if (id is null)
        {
            if (caller.IsAnonymous)
                return (null, Refusals.SignInRequired());
            id = caller.UserId!;
        }
        var self = string.Equals(id, caller.UserId, StringComparison.OrdinalIgnoreCase);
        if (!self && !readOnly && !authorizer.Has(caller, Permission.Administer))
            return (null, Refusals.Forbidden(Permission.Administer));
        return await users.FindAsync(id, ct) is { } user ? (user, null) : (null, Refusals.NotFound("No such user"));
    }

    static async Task<IResult> UserApi(HttpContext context, string? id, string format, UserStore users, Authorizer authorizer, CancellationToken ct)
    {
        var (user, refusal) = await TargetAsync(context, id, users, authorizer, readOnly: true, ct);
        if (refusal is not null)
            return refusal;
        var model = new ApiObject("hudson.model.User")
            .Add("absoluteUrl", $"{Http.BaseUrl(context)}user/{Uri.EscapeDataString(user!.Id.ToLowerInvariant())}")
            .Add("description", null)
            .Add("fullName", user.FullName)
            .Add("id", user.Id)
            .Add("property", Array.Empty<object>());
        return ApiResults.Render(context, model, format);
    }

    static async Task<IResult> GenerateNewToken(HttpContext context, string? id, UserStore users, ApiTokens tokens, Authorizer authorizer, TimeProvider time, CancellationToken ct)
    {
        var (user, refusal) = await TargetAsync(context, id, users, authorizer, readOnly: false, ct);
        if (refusal is not null)
            return refusal;
        var (inputs, problem) = await RequestInputs.ReadAsync(context, ct);
        if (problem != RequestInputs.Problem.None)
            return Http.Error(400, "bad-body", "The request body could not be parsed as a form");
        var name = inputs.First("newTokenName")?.Trim() is { Length: > 0 } given ? given : $"Token created on {Now(time)}";
        if (ApiTokens.NameProblem(name) is { } nameProblem)
            return Http.Error(400, "bad-name", nameProblem);
        var (token, value) = await tokens.CreateAsync(user!.Id, name, null, ct);
        return Json(new { status = "ok", data = new { tokenName = token.Name, tokenUuid = token.Uuid, tokenValue = value } });
    }

    static async Task<IResult> Revoke(HttpContext context, string? id, string? uuid, UserStore users, ApiTokens tokens, Authorizer authorizer, CancellationToken ct)
    {
        var (user, refusal) = await TargetAsync(context, id, users, authorizer, readOnly: false, ct);
        if (refusal is not null)
            return refusal;
        var native = uuid is not null;
        if (uuid is null)
        {
            var (inputs, _) = await RequestInputs.ReadAsync(context, ct);
            uuid = inputs.First("tokenUuid");
        }
        if (string.IsNullOrEmpty(uuid))
            return Http.Error(400, "no-uuid", "Name the token to revoke with tokenUuid");
        if (!await tokens.RevokeAsync(user!.Id, uuid, ct))
            return Http.Error(404, "no-such-token", $"{user.Id} has no token {uuid}");
        return native ? Http.Empty(204) : Json(new { status = "ok" });
    }

    static async Task<IResult> ListTokens(HttpContext context, string? id, UserStore users, ApiTokens tokens, Authorizer authorizer, CancellationToken ct)
    {
        var (user, refusal) = await TargetAsync(context, id, users, authorizer, readOnly: false, ct);
        if (refusal is not null)
            return refusal;
        var list = await tokens.ListAsync(user!.Id, ct);
        return Json(new
        {
            tokens = list.Select(t => new { uuid = t.Uuid, name = t.Name, createdAt = t.CreatedAt, expiresAt = t.ExpiresAt, lastUsedAt = t.LastUsedAt, useCount = t.UseCount }),
        });
    }

    /// <summary>Native creation: JSON `{"name":…,"expiresAt":…}` or the same as form fields; 201 with the value, shown this once.</summary>
    static async Task<IResult> CreateToken(HttpContext context, string? id, UserStore users, ApiTokens tokens, Authorizer authorizer, TimeProvider time, CancellationToken ct)
    {
        var (user, refusal) = await TargetAsync(context, id, users, authorizer, readOnly: false, ct);
        if (refusal is not null)
            return refusal;
        var (request, problem) = await TokenRequest.ReadAsync(context, ApiTokens.NameProblem, time, ct);
        if (problem is not null)
            return problem;
        var (token, value) = await tokens.CreateAsync(user!.Id, request!.Name, request.ExpiresAt, ct);
        return Json(new { uuid = token.Uuid, name = token.Name, value, createdAt = token.CreatedAt, expiresAt = token.ExpiresAt }, 201);
    }

    static IResult Json(object body, int status = 200) => Results.Json(body, statusCode: status, contentType: "application/json; charset=utf-8");

    /// <summary>Only a path on this site: `/x`, never `//host`, `/\host` or a scheme.</summary>
    public static string SafeFrom(string? from) =>
        from is { Length: > 0 and <= 2000 } f && f[0] == '/' && !f.StartsWith("//", StringComparison.Ordinal) && !f.Contains('\\', StringComparison.Ordinal) && !f.Any(char.IsControl)
            ? f : "/";

    static IResult LoginForm(HttpContext context, Crumbs crumbs) =>
        LoginPage(context, crumbs, 200, SafeFrom(context.Request.Query["from"].FirstOrDefault()), null, null);

    static IResult LoginPage(HttpContext context, Crumbs crumbs, int status, string from, string? user, string? error)
    {
        var crumb = crumbs.For(context.Caller(), EnsureSession(context));
        var e = (string s) => WebUtility.HtmlEncode(s);
        var html = $"""
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>Sign in to Valet</title></head>
            <body><h1>Sign in to Valet</h1>
            {(error is null ? "" : $"<p class=\"error\" role=\"alert\">{e(error)}</p>")}
            <form method="post" action="{e(context.Request.PathBase + "/login")}">
            <p><label>User <input type="text" name="j_username" autocomplete="username" value="{e(user ?? "")}" autofocus></label></p>
            <p><label>Password <input type="password" name="j_password" autocomplete="current-password"></label></p>
            <input type="hidden" name="from" value="{e(from)}">
            <input type="hidden" name="{Crumbs.Field}" value="{crumb}">
            <p><button type="submit">Sign in</button></p>
            </form></body></html>
            """;
        return new HtmlResult(status, html);
    }

    sealed record HtmlResult(int Status, string Html) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = Status;
            context.Response.Headers.CacheControl = "no-store";
            context.Response.ContentType = "text/html; charset=utf-8";
            return context.Response.WriteAsync(Html);
        }
    }

    static async Task<IResult> SignIn(HttpContext context, Crumbs crumbs, Authenticator authenticator, SignInSessions sessions, SignInGuard guard,
        ClientAddress clientAddress, TimeProvider time, CancellationToken ct)
    {
        var (form, problem) = await RequestInputs.ReadAsync(context, ct);
        if (problem != RequestInputs.Problem.None)
            return Http.Error(400, "bad-body", "Sign in with the form at /login");
        var from = SafeFrom(form.First("from"));
        // The sign-in form carries its own crumb, so a foreign page cannot sign a browser in.
        if (!crumbs.IsValid(context.Caller(), context.Request.Cookies[Crumbs.SessionCookie], form.First(Crumbs.Field)))
            return Http.Error(403, "no-crumb", "No valid crumb was included in the request");
        var address = clientAddress.Of(context);
        if (guard.IsBlocked(address, out var retryAfter))
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return LoginPage(context, crumbs, 429, from, form.First("j_username"), "Too many failed sign-in attempts from this address; try again later.");
        }
        var userId = form.First("j_username") ?? "";
        var user = await authenticator.PasswordAsync(userId, form.First("j_password") ?? "", ct);
        if (user is null)
        {
            var delay = guard.RecordFailure(address);
            if (delay > TimeSpan.Zero)
                await Task.Delay(delay, time, ct);
            return LoginPage(context, crumbs, 401, from, userId, "Invalid user name or password.");
        }
        var value = await sessions.OpenAsync(user, ct);
        context.Response.Cookies.Append(AuthenticationMiddleware.SignInCookie, value, CookieOptions(context, SignInSessions.Lifetime));
        return Http.Empty(302, Http.BaseUrl(context) + from[1..]);
    }

    static async Task<IResult> SignOut(HttpContext context, SignInSessions sessions, CancellationToken ct)
    {
        if (context.Request.Cookies[AuthenticationMiddleware.SignInCookie] is { Length: > 0 } value)
            await sessions.CloseAsync(value, ct);
        context.Response.Cookies.Delete(AuthenticationMiddleware.SignInCookie, CookieOptions(context));
        return Http.Empty(302, Http.BaseUrl(context));
    }
}

public static class SecurityServices
{
    public static IServiceCollection AddValetSecurity(this IServiceCollection s) => s
        .AddSingleton<ApiTokens>()
        .AddSingleton<Authenticator>()
        .AddSingleton<SignInSessions>()
        .AddSingleton<SignInGuard>()
        .AddSingleton<Crumbs>();
}
