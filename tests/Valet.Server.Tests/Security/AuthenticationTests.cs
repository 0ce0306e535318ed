using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Security;

public sealed partial class AuthenticationTests
{
    const string Config = """
        server:
          executors: 1
          quietPeriod: 600
          trustedProxies: [127.0.0.1]
        security:
          users:
            - { id: alice, password: alice-pw-9f3k, fullName: Alice Example }
          permissions:
            admin: [Overall/Administer]
            authenticated: [Overall/Read, Job/Read, Job/Build, Job/Cancel]
            anonymous: []
        jobs:
          - name: p
            authToken: job-token-7d2q
            steps:
              - sh: echo p
        """;

    const string AlicePassword = "alice-pw-9f3k";

    static async Task<(string Uuid, string Value)> NewTokenAsync(ValetProcess valet, string name = "ci")
    {
        using var response = await valet.Client("alice", AlicePassword, crumbs: true).PostAsync(
            "me/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken", new FormUrlEncodedContent([new("newTokenName", name)]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("ok", json["status"]!.GetValue<string>());
        Assert.Equal(name, json["data"]!["tokenName"]!.GetValue<string>());
        return (json["data"]!["tokenUuid"]!.GetValue<string>(), json["data"]!["tokenValue"]!.GetValue<string>());
    }

    [Fact]
    public async Task Basic_authenticates_with_the_password_and_with_an_api_token()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var (_, token) = await NewTokenAsync(valet);
        Assert.Matches("^vlt_[A-Za-z0-9]{32}$", token);
        foreach (var secret in (string[])[AlicePassword, token])
        {
            var who = await valet.GetJsonAsync("whoAmI/api/json", valet.Client("alice", secret));
            Assert.Equal("hudson.security.WhoAmI", who["_class"]!.GetValue<string>());
            Assert.Equal("alice", who["name"]!.GetValue<string>());
            Assert.False(who["anonymous"]!.GetValue<bool>());
            Assert.True(who["authenticated"]!.GetValue<bool>());
        }
        var me = await valet.GetJsonAsync("me/api/json", valet.Client("alice", token));
        Assert.Equal("hudson.model.User", me["_class"]!.GetValue<string>());
        Assert.Equal("alice", me["id"]!.GetValue<string>());
        Assert.Equal("Alice Example", me["fullName"]!.GetValue<string>());
        Assert.Equal(valet.BaseAddress + "user/alice", me["absoluteUrl"]!.GetValue<string>());
    }

    [Fact]
    public async Task Wrong_credentials_answer_401_with_a_basic_challenge_everywhere_but_healthz()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var (uuid, token) = await NewTokenAsync(valet);
        using (await valet.Client("alice", AlicePassword, crumbs: true).PostAsync($"me/tokens/{uuid}/revoke", null)) { }
        foreach (var client in new[] { valet.Client("alice", "wrong"), valet.Client("nobody", AlicePassword), valet.Client("alice", token) })
        {
            using var response = await client.GetAsync("whoAmI/api/json");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Basic realm=\"Valet\"", response.Headers.WwwAuthenticate.Single().ToString());
        }
        var malformed = valet.Anonymous();
        malformed.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Basic !!!not-base64");
        using (var response = await malformed.GetAsync("api/json"))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using (var health = await valet.Client("alice", "wrong").GetAsync("healthz"))
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Anonymous_callers_get_who_am_i_but_not_me()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var who = await valet.GetJsonAsync("whoAmI/api/json", valet.Anonymous());
        Assert.Equal("anonymous", who["name"]!.GetValue<string>());
        Assert.True(who["anonymous"]!.GetValue<bool>());
        Assert.False(who["authenticated"]!.GetValue<bool>());
        using var me = await valet.Anonymous().GetAsync("me/api/json");
        Assert.Equal(HttpStatusCode.Forbidden, me.StatusCode);
    }

    [Fact]
    public async Task A_revoked_token_stops_working_at_once()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var (uuid, token) = await NewTokenAsync(valet);
        var (_, other) = await NewTokenAsync(valet, "other");
        using (var ok = await valet.Client("alice", token).PostAsync("job/p/build", null))
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        using (var revoke = await valet.Client("alice", AlicePassword, crumbs: true).PostAsync(
            "me/descriptorByName/jenkins.security.ApiTokenProperty/revoke", new FormUrlEncodedContent([new("tokenUuid", uuid)])))
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        using (var refused = await valet.Client("alice", token).PostAsync("job/p/build", null))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using (var still = await valet.Client("alice", other).GetAsync("api/json"))
            Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    [Fact]
    public async Task The_token_list_shows_metadata_and_use_but_never_a_value()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var (uuid, token) = await NewTokenAsync(valet);
        using (await valet.Client("alice", token).GetAsync("api/json")) { }
        using (await valet.Client("alice", token).GetAsync("api/json")) { }
        using var list = await valet.Client("alice", AlicePassword).GetAsync("me/tokens/api/json");
        var body = await list.Content.ReadAsStringAsync();
        Assert.DoesNotContain(token, body);
        var entry = JsonNode.Parse(body)!["tokens"]!.AsArray().Single()!;
        Assert.Equal(uuid, entry["uuid"]!.GetValue<string>());
        Assert.Equal("ci", entry["name"]!.GetValue<string>());
        Assert.Equal(2, entry["useCount"]!.GetValue<long>());
        Assert.NotNull(entry["lastUsedAt"]);
        Assert.True(entry["createdAt"]!.GetValue<long>() > 0);

        // The native API, with an expiry: admin may act for alice.
        // From now, not from the first token's creation: on a loaded machine seconds may lie between them.
        var expiresAt = TimeProvider.System.GetUtcNow().AddSeconds(5).ToUnixTimeMilliseconds();
        using var created = await valet.Admin().PostAsync("user/alice/tokens", JsonContent(new JsonObject { ["name"] = "short", ["expiresAt"] = expiresAt }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var shortLived = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["value"]!.GetValue<string>();
        using (var fresh = await valet.Client("alice", shortLived).GetAsync("api/json"))
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        await ValetProcess.WaitUntilAsync(async () =>
        {
            using var r = await valet.Client("alice", shortLived).GetAsync("whoAmI/api/json");
            return r.StatusCode == HttpStatusCode.Unauthorized;
        }, TimeSpan.FromSeconds(30), "the token to expire");
    }

    static StringContent JsonContent(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    [Fact]
    public async Task Password_posts_need_a_crumb_of_their_own_session()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var alice = valet.Client("alice", AlicePassword, crumbs: false);
        using (var none = await alice.PostAsync("job/p/build", null))
        {
            Assert.Equal(HttpStatusCode.Forbidden, none.StatusCode);
            Assert.Contains("No valid crumb was included in the request", await none.Content.ReadAsStringAsync());
        }
        // Even for a job that does not exist.
        using (var unknown = await alice.PostAsync("job/nope/build", null))
            Assert.Equal(HttpStatusCode.Forbidden, unknown.StatusCode);

        using var issued = await alice.GetAsync("crumbIssuer/api/json");
        var crumb = JsonNode.Parse(await issued.Content.ReadAsStringAsync())!;
        Assert.Equal("hudson.security.csrf.DefaultCrumbIssuer", crumb["_class"]!.GetValue<string>());
        Assert.Equal("Jenkins-Crumb", crumb["crumbRequestField"]!.GetValue<string>());
        var value = crumb["crumb"]!.GetValue<string>();
        Assert.Matches("^[0-9a-f]{64}$", value);
        var cookie = issued.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("valet_session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
        var session = cookie.Split(';')[0];

        async Task<HttpStatusCode> PostAsync(string? sessionCookie, string? header, string? field)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "job/p/build");
            if (sessionCookie is not null)
                request.Headers.Add("Cookie", sessionCookie);
            if (header is not null)
                request.Headers.Add("Jenkins-Crumb", header);
            if (field is not null)
                request.Content = new FormUrlEncodedContent([new("Jenkins-Crumb", field)]);
            using var response = await alice.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Created, await PostAsync(session, value, null));
        Assert.Equal(HttpStatusCode.Created, await PostAsync(session, null, value));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync("valet_session=" + new string('a', 32), value, null));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(null, value, null));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(session, new string('0', 64), null));

        // The crumb is the user's: another user's crumb for the same session is refused.
        using var adminIssued = await valet.Client("admin", ValetProcess.AdminPassword).SendAsync(WithCookie(new HttpRequestMessage(HttpMethod.Get, "crumbIssuer/api/json"), session));
        var adminCrumb = JsonNode.Parse(await adminIssued.Content.ReadAsStringAsync())!["crumb"]!.GetValue<string>();
        Assert.NotEqual(value, adminCrumb);
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(session, adminCrumb, null));
    }

    static HttpRequestMessage WithCookie(HttpRequestMessage request, string cookie)
    {
        request.Headers.Add("Cookie", cookie);
        return request;
    }

    [Fact]
    public async Task Api_token_posts_pass_without_a_crumb_or_with_a_wrong_one()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var (_, token) = await NewTokenAsync(valet);
        var alice = valet.Client("alice", token);
        using (var none = await alice.PostAsync("job/p/build", null))
            Assert.Equal(HttpStatusCode.Created, none.StatusCode);
        using var wrong = new HttpRequestMessage(HttpMethod.Post, "job/p/build");
        wrong.Headers.Add("Jenkins-Crumb", "not-a-crumb");
        using (var response = await alice.SendAsync(wrong))
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Generate_new_token_with_password_and_crumb_gives_a_value_that_revoke_disables()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var alice = valet.Client("alice", AlicePassword, crumbs: true);
        using var generated = await alice.PostAsync("user/alice/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken",
            new FormUrlEncodedContent([new("newTokenName", "script")]));
        Assert.Equal(HttpStatusCode.OK, generated.StatusCode);
        Assert.Equal("application/json", generated.Content.Headers.ContentType!.MediaType);
        var data = JsonNode.Parse(await generated.Content.ReadAsStringAsync())!["data"]!;
        var token = data["tokenValue"]!.GetValue<string>();
        using (var works = await valet.Client("alice", token).GetAsync("me/api/json"))
            Assert.Equal(HttpStatusCode.OK, works.StatusCode);
        using (var revoke = await alice.PostAsync("user/alice/descriptorByName/jenkins.security.ApiTokenProperty/revoke",
            new FormUrlEncodedContent([new("tokenUuid", data["tokenUuid"]!.GetValue<string>())])))
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        using (var refused = await valet.Client("alice", token).GetAsync("me/api/json"))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        // Another user's tokens are the admin's business only.
        using (var other = await alice.PostAsync("user/admin/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken", null))
            Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
    }

    [Fact]
    public async Task The_crumb_xpath_answers_the_header_line_curl_sends()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var response = await valet.Client("alice", AlicePassword).GetAsync("crumbIssuer/api/xml?xpath=concat(//crumbRequestField,%22:%22,//crumb)");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Matches("^Jenkins-Crumb:[0-9a-f]{64}$", await response.Content.ReadAsStringAsync());
        using var xml = await valet.Client("alice", AlicePassword).GetAsync("crumbIssuer/api/xml");
        Assert.StartsWith("<defaultCrumbIssuer _class=\"hudson.security.csrf.DefaultCrumbIssuer\"><crumb>", await xml.Content.ReadAsStringAsync());
    }

    [GeneratedRegex("name=\"Jenkins-Crumb\" value=\"([0-9a-f]{64})\"")]
    private static partial Regex FormCrumb();

    internal static async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string user, string password, string from = "/")
    {
        using var form = await browser.GetAsync("login?from=" + Uri.EscapeDataString(from));
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var html = await form.Content.ReadAsStringAsync();
        Assert.Single(Regex.Matches(html, "<form method=\"post\""));
        var crumb = FormCrumb().Match(html).Groups[1].Value;
        return await browser.PostAsync("login", new FormUrlEncodedContent(
            [new("j_username", user), new("j_password", password), new("from", from), new("Jenkins-Crumb", crumb)]));
    }

    [Fact]
    public async Task Signing_in_with_the_form_sets_a_cookie_that_survives_a_restart_until_sign_out()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var cookies = new CookieContainer();
        var browser = valet.Browser(cookies);

        using (var wrong = await SignInAsync(browser, "alice", "nope", "/job/p/"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Empty(wrong.Headers.WwwAuthenticate);
            var html = await wrong.Content.ReadAsStringAsync();
            Assert.Contains("Invalid user name or password", html);
            Assert.Contains("<form method=\"post\"", html);
        }
        using (var ok = await SignInAsync(browser, "alice", AlicePassword, "/job/p/"))
        {
            Assert.Equal(HttpStatusCode.Found, ok.StatusCode);
            Assert.Equal(valet.BaseAddress + "job/p/", ok.Headers.Location!.ToString());
            var cookie = ok.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("valet_signin=", StringComparison.Ordinal));
            Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase);
        }
        var who = await valet.GetJsonAsync("whoAmI/api/json", browser);
        Assert.Equal("alice", who["name"]!.GetValue<string>());

        // A cookie caller is an ordinary user: its posts need a crumb.
        using (var noCrumb = await browser.PostAsync("job/p/build", null))
            Assert.Equal(HttpStatusCode.Forbidden, noCrumb.StatusCode);
        var crumb = (await valet.GetJsonAsync("crumbIssuer/api/json", browser))["crumb"]!.GetValue<string>();
        using (var withCrumb = new HttpRequestMessage(HttpMethod.Post, "job/p/build"))
        {
            withCrumb.Headers.Add("Jenkins-Crumb", crumb);
            using var built = await browser.SendAsync(withCrumb);
            Assert.Equal(HttpStatusCode.Created, built.StatusCode);
        }

        await valet.StopAsync();
        await valet.RestartAsync();
        var restarted = valet.Browser(cookies);
        Assert.Equal("alice", (await valet.GetJsonAsync("whoAmI/api/json", restarted))["name"]!.GetValue<string>());

        using (var noCrumbLogout = await restarted.PostAsync("logout", null))
            Assert.Equal(HttpStatusCode.Forbidden, noCrumbLogout.StatusCode);
        using var logout = new HttpRequestMessage(HttpMethod.Post, "logout");
        logout.Headers.Add("Jenkins-Crumb", crumb);
        var stolen = cookies.GetCookies(valet.BaseAddress)["valet_signin"]!.Value;
        using (var done = await restarted.SendAsync(logout))
            Assert.Equal(HttpStatusCode.Found, done.StatusCode);
        Assert.True((await valet.GetJsonAsync("whoAmI/api/json", restarted))["anonymous"]!.GetValue<bool>());
        // The session is over on the server too, not only forgotten by the browser.
        var replay = valet.Anonymous();
        replay.DefaultRequestHeaders.Add("Cookie", "valet_signin=" + stolen);
        Assert.True((await valet.GetJsonAsync("whoAmI/api/json", replay))["anonymous"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Sign_in_redirects_only_to_paths_of_this_site()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        foreach (var from in (string[])["https://evil.example/", "//evil.example/x", "/\\evil.example"])
        {
            using var response = await SignInAsync(valet.Browser(), "alice", AlicePassword, from);
            Assert.Equal(HttpStatusCode.Found, response.StatusCode);
            Assert.Equal(valet.BaseAddress.ToString(), response.Headers.Location!.ToString());
        }
        // Without the form's crumb a foreign page cannot sign a browser in.
        using var forged = await valet.Browser().PostAsync("login", new FormUrlEncodedContent([new("j_username", "alice"), new("j_password", AlicePassword)]));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
    }

    static HttpRequestMessage From(string address, string path, string user, string password)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Forwarded-For", address);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return request;
    }

    [Fact]
    public async Task Repeated_failures_from_one_address_are_refused_with_429_while_other_addresses_are_not()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var client = valet.Anonymous();
        for (var i = 0; i < 10; i++)
        {
            using var failed = await client.SendAsync(From("203.0.113.7", "api/json", "alice", "wrong" + i));
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }
        using (var blocked = await client.SendAsync(From("203.0.113.7", "api/json", "alice", AlicePassword)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
            var retry = blocked.Headers.RetryAfter!.Delta!.Value;
            Assert.InRange(retry, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        }
        using (var other = await client.SendAsync(From("203.0.113.8", "api/json", "alice", AlicePassword)))
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        using (var otherWrong = await client.SendAsync(From("203.0.113.8", "api/json", "alice", "wrong")))
            Assert.Equal(HttpStatusCode.Unauthorized, otherWrong.StatusCode);
        // Callers without credentials are not refused: they are simply anonymous.
        using var request = new HttpRequestMessage(HttpMethod.Get, "whoAmI/api/json");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        using (var anonymous = await client.SendAsync(request))
            Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
    }

    [Fact]
    public async Task No_file_under_the_home_holds_a_password_or_token_value()
    {
        var env = new Dictionary<string, string> { ["Logging__LogLevel__Valet"] = "Debug", ["Logging__LogLevel__Default"] = "Debug" };
        await using var valet = await ValetProcess.StartAsync(Config, env);
        var (_, apiToken) = await NewTokenAsync(valet);
        using var jobToken = await valet.Admin().PostAsync("job/p/tokens", JsonContent(new JsonObject { ["name"] = "made" }));
        var madeToken = JsonNode.Parse(await jobToken.Content.ReadAsStringAsync())!["value"]!.GetValue<string>();
        using (await valet.Client("alice", apiToken).PostAsync("job/p/build", null)) { }
        using (await valet.Client("alice", AlicePassword).GetAsync("api/json")) { }
        using (await valet.Client("alice", "wrong-" + AlicePassword).GetAsync("api/json")) { }
        using (await valet.Anonymous().PostAsync("job/p/build?token=job-token-7d2q", null)) { }
        using (await valet.Anonymous().GetAsync($"job/p/build?token={madeToken}")) { }
        using (await SignInAsync(valet.Browser(), "alice", AlicePassword)) { }
        using (await SignInAsync(valet.Browser(), "admin", ValetProcess.AdminPassword)) { }
        await valet.StopAsync();

        string[] secrets = [AlicePassword, ValetProcess.AdminPassword, apiToken, madeToken, "job-token-7d2q"];
        var needles = secrets.SelectMany(s => new[] { s, Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:" + s)) }).ToList();
        var files = Directory.EnumerateFiles(valet.Home, "*", SearchOption.AllDirectories).ToList();
        if (valet.Database is { } database)
        {
            var rows = database.AllRows();
            Assert.Contains("alice", rows, StringComparison.Ordinal);
            foreach (var needle in needles)
                Assert.False(rows.Contains(needle, StringComparison.Ordinal), "a row of the database holds a secret");
        }
        else
            Assert.Contains(files, f => f.EndsWith("valet.db", StringComparison.Ordinal));
        Assert.Contains(files, f => f.Contains("/logs/", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file);
            var text = Encoding.UTF8.GetString(bytes);
            var latin = Encoding.Latin1.GetString(bytes);
            foreach (var needle in needles)
                Assert.False(text.Contains(needle, StringComparison.Ordinal) || latin.Contains(needle, StringComparison.Ordinal), $"{file} holds a secret");
        }
    }

    [Fact]
    public async Task Anonymous_posts_need_a_crumb_too_and_cookies_are_secure_under_an_https_root_url()
    {
        var config = Config.Replace("  trustedProxies: [127.0.0.1]", "  rootUrl: https://ci.example.com/")
            .Replace("anonymous: []", "anonymous: [Overall/Read, Job/Read]");
        await using var valet = await ValetProcess.StartAsync(config);
        var anonymous = valet.Anonymous();
        using (var post = await anonymous.PostAsync("job/p/build?token=job-token-7d2q", null))
        {
            Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
            Assert.Contains("No valid crumb", await post.Content.ReadAsStringAsync());
        }
        using (var get = await anonymous.GetAsync("job/p/build?token=job-token-7d2q"))
            Assert.Equal(HttpStatusCode.Created, get.StatusCode);
        using (var me = await anonymous.GetAsync("me/api/json"))
            Assert.Equal(HttpStatusCode.Forbidden, me.StatusCode);

        using var issued = await anonymous.GetAsync("crumbIssuer/api/json");
        var cookie = issued.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains("; secure", cookie, StringComparison.OrdinalIgnoreCase);
        var crumb = JsonNode.Parse(await issued.Content.ReadAsStringAsync())!["crumb"]!.GetValue<string>();
        using var request = WithCookie(new HttpRequestMessage(HttpMethod.Post, "job/p/build?token=job-token-7d2q"), cookie.Split(';')[0]);
        request.Headers.Add("Jenkins-Crumb", crumb);
        using (var withCrumb = await anonymous.SendAsync(request))
            Assert.Equal(HttpStatusCode.Created, withCrumb.StatusCode);
    }
}
