using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Valet.Server.Tests.Support;
using Valet.Server.Tests.Triggers;
using Xunit;

namespace Valet.Server.Tests.Hardening;

/// <summary>limits.md §2: every failed Basic credential counts, on every URL.</summary>
public sealed class GuardTests
{
    static HttpRequestMessage WithBasic(HttpMethod method, string path, string password)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + password)));
        return request;
    }

    [Fact]
    public async Task Wrong_passwords_on_buildByToken_count_and_then_get_429_before_hashing_while_token_only_requests_still_build()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        var client = valet.Anonymous();
        // /healthz never counts.
        for (var i = 0; i < 12; i++)
        {
            using var health = await client.SendAsync(WithBasic(HttpMethod.Get, "healthz", "wrong"));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
        for (var i = 0; i < 10; i++)
        {
            using var wrong = await client.SendAsync(WithBasic(HttpMethod.Post, "buildByToken/build?job=p&token=secret", "wrong" + i));
            wrong.AssertStatus(HttpStatusCode.Unauthorized, "bad-credentials");
        }
        // Blocked: even the right password is refused, on the token path and on every other URL.
        using var blocked = await client.SendAsync(WithBasic(HttpMethod.Post, "buildByToken/build?job=p&token=secret", ValetProcess.AdminPassword));
        blocked.AssertStatus((HttpStatusCode)429, "rate-limited");
        Assert.NotNull(blocked.Headers.RetryAfter);
        using var elsewhere = await client.SendAsync(WithBasic(HttpMethod.Get, "whoAmI/api/json", ValetProcess.AdminPassword));
        Assert.Equal((HttpStatusCode)429, elsewhere.StatusCode);
        Assert.Contains("rate-limited", elsewhere.Headers.GetValues("X-Error").Single());
        // A request with only the job's token is unaffected, and its 201 (not a 303 fold) shows that
        // none of the refused requests queued anything.
        using var tokenOnly = await client.PostAsync("buildByToken/build?job=p&token=secret", null);
        tokenOnly.AssertStatus(HttpStatusCode.Created);
    }
}
