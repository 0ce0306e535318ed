using System.Net;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Items;

/// <summary>Item URLs as routes: aliases, slashes, permalinks, 405s on sub-routes, and 404s that never tell what exists.</summary>
public sealed class ItemRoutingTests
{
    const string Config = """
        server:
          quietPeriod: 0
        security:
          users:
            - { id: plain, password: pw-plain }
            - { id: reader, password: pw-reader }
          permissions:
            admin: [Overall/Administer]
            plain: [Overall/Read]
            reader: [Overall/Read, Job/Read]
        folders:
          - name: dir
        jobs:
          - name: p
            steps:
              - sh: echo p
          - name: dir/q
            steps:
              - sh: echo q
        """;

    static async Task<(int Status, string? Allow, string Body)> SendAsync(HttpClient client, string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        using var response = await client.SendAsync(request);
        return ((int)response.StatusCode, response.Content.Headers.Allow.Count == 0 ? null : string.Join(", ", response.Content.Headers.Allow),
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Aliases_slashes_and_case_reach_the_same_item()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        foreach (var path in (string[])["job/dir/job/q/api/json", "job/dir/job/q/api/json/", "view/all/job/dir/job/q/api/json", "job/DIR/job/Q/api/json"])
            Assert.Equal("dir/q", (await valet.GetJsonAsync(path))["fullName"]!.GetValue<string>());
        var page = await SendAsync(valet.Admin(), "GET", "job/dir/job/q");
        Assert.Equal(200, page.Status);
        Assert.Contains("<h1>dir/q</h1>", page.Body);
    }

    [Fact]
    public async Task Permalinks_name_the_build_they_stand_for_and_404_when_there_is_none()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var admin = valet.Admin();
        using var missing = await admin.GetAsync("job/p/lastBuild/api/json");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("not-found: No such build\n", await missing.Content.ReadAsStringAsync());
        using var built = await admin.PostAsync("job/p/build", null);
        Assert.Equal(HttpStatusCode.Created, built.StatusCode);
        await valet.WaitForBuildAsync("job/p/", 1);
        foreach (var permalink in (string[])["lastBuild", "lastCompletedBuild", "lastSuccessfulBuild", "lastStableBuild"])
            Assert.Equal(1, (await valet.GetJsonAsync($"job/p/{permalink}/api/json"))["number"]!.GetValue<int>());
        Assert.Contains("echo p", await (await admin.GetAsync("job/p/lastBuild/consoleText")).Content.ReadAsStringAsync());
        Assert.Equal(404, (await SendAsync(admin, "GET", "job/p/lastFailedBuild/api/json")).Status);
        // Permalinks are spelled exactly, as in Jenkins.
        Assert.Equal("not-found: No such item\n", (await SendAsync(admin, "GET", "job/p/lastbuild/api/json")).Body);
        Assert.Equal(404, (await SendAsync(admin, "GET", "job/dir/lastBuild/api/json")).Status);
    }

    [Theory]
    [InlineData("POST", "job/p/", "GET, DELETE")]
    [InlineData("PUT", "job/p/api/json", "GET")]
    [InlineData("POST", "job/p/config.json", "GET, PUT")]
    [InlineData("DELETE", "job/dir/config.json", "GET, PUT")]
    [InlineData("POST", "job/p/1/", "GET")]
    [InlineData("POST", "job/p/1/api/xml", "GET")]
    [InlineData("POST", "job/p/lastBuild/consoleText", "GET")]
    [InlineData("GET", "job/p/1/stop", "POST")]
    [InlineData("GET", "job/p/tokens", "POST")]
    [InlineData("GET", "job/p/tokens/x/revoke", "POST")]
    public async Task A_wrong_method_on_a_sub_route_is_405_with_allow(string method, string path, string allow)
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var admin = valet.Admin();
        using var built = await admin.PostAsync("job/p/build", null);
        await valet.WaitForBuildAsync("job/p/", 1);
        var (status, allowed, body) = await SendAsync(admin, method, path);
        Assert.Equal(405, status);
        Assert.Equal(allow, allowed);
        Assert.Equal($"method-not-allowed: This URL requires {allow}\n", body);
    }

    [Fact]
    public async Task Hidden_missing_and_malformed_items_answer_alike_whatever_the_method_or_sub_route()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var plain = valet.Client("plain", "pw-plain", crumbs: true);
        var missing = await SendAsync(plain, "GET", "job/nope/api/json");
        Assert.Equal(404, missing.Status);
        foreach (var (method, path) in new[]
        {
            ("POST", "job/p/"), ("POST", "job/p/api/json"), ("PUT", "job/p/1/stop"), ("GET", "job/p/1/api/json"), ("GET", "job/p/tokens/api/json"),
            ("GET", "job/p/no/such/thing"), ("GET", "job/a%2Fb/api/json"), ("GET", "job/p//api/json"),
        })
            Assert.Equal(missing, await SendAsync(plain, method, path));
        // Known to a reader, the item still has no such sub-route.
        var reader = valet.Client("reader", "pw-reader");
        Assert.Equal(missing, await SendAsync(reader, "GET", "job/p/no/such/thing"));
        Assert.Equal(missing, await SendAsync(reader, "GET", "job/dir/build"));
    }

    [Fact]
    public async Task The_internal_item_prefix_is_no_url_of_its_own()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var admin = valet.Admin();
        foreach (var path in (string[])["item/api/json", "item/", "item/config.json", "no/such/route"])
        {
            var (status, _, body) = await SendAsync(admin, "GET", path);
            Assert.Equal(404, status);
            Assert.Equal("", body);
        }
    }
}
