using System.Net;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Security;

/// <summary>Every endpoint, every kind of caller: the status remote-api.md §6 gives.</summary>
public sealed class PermissionTableTests
{
    const string Config = """
        server:
          executors: 1
          quietPeriod: 0
        security:
          users:
            - { id: plain, password: pw-plain }
            - { id: disco, password: pw-disco }
            - { id: fdisco, password: pw-fdisco }
            - { id: reader, password: pw-reader }
            - { id: builder, password: pw-builder }
          permissions:
            admin: [Overall/Administer]
            plain: [Overall/Read]
            disco: [Overall/Read, Job/Discover]
            fdisco: [Overall/Read]
            reader: [Overall/Read, Job/Read]
            builder: [Overall/Read, Job/Read, Job/Build]
            anonymous: []
        folders:
          - name: dir
            permissions:
              fdisco: [Job/Discover]
        jobs:
          - name: p
            steps:
              - sh: echo p
          - name: dir/q
            parameters:
              - { type: string, name: P, default: d }
            steps:
              - sh: echo $P
        """;

    // Columns: anonymous, plain (Overall/Read only), disco (Discover globally), fdisco (Discover on dir), reader, builder, admin.
    static readonly string[] Identities = ["anonymous", "plain", "disco", "fdisco", "reader", "builder", "admin"];

    sealed record Row(string Method, string Path, int[] Expected);

    static readonly Row[] Table =
    [
        new("GET", "", [403, 200, 200, 200, 200, 200, 200]),
        new("GET", "api/json", [403, 200, 200, 200, 200, 200, 200]),
        new("GET", "api/xml", [403, 200, 200, 200, 200, 200, 200]),
        new("GET", "view/all/api/json", [403, 200, 200, 200, 200, 200, 200]),
        new("GET", "no/such/route", [403, 404, 404, 404, 404, 404, 404]),
        new("GET", "job/nope/api/json", [403, 404, 404, 404, 404, 404, 404]),
        new("GET", "job/p/", [403, 404, 403, 404, 200, 200, 200]),
        new("GET", "job/p/api/json", [403, 404, 403, 404, 200, 200, 200]),
        new("HEAD", "job/p/api/json", [403, 404, 403, 404, 200, 200, 200]),
        new("GET", "view/all/job/p/api/json", [403, 404, 403, 404, 200, 200, 200]),
        new("GET", "job/dir/api/json", [403, 404, 403, 403, 200, 200, 200]),
        new("GET", "job/dir/job/q/api/json", [403, 404, 403, 403, 200, 200, 200]),
        new("GET", "job/dir/job/nope/api/json", [403, 404, 403, 403, 404, 404, 404]),
        new("GET", "job/p/1/", [403, 404, 403, 404, 200, 200, 200]),
        new("GET", "job/p/1/api/json", [403, 404, 403, 404, 200, 200, 200]),
        new("GET", "job/p/lastBuild/api/json", [403, 404, 403, 404, 200, 200, 200]),
        new("GET", "job/p/99/api/json", [403, 404, 403, 404, 404, 404, 404]),
        new("GET", "job/p/1/consoleText", [403, 404, 403, 404, 200, 200, 200]),
        new("GET", "job/p/1/logText/progressiveText", [403, 404, 403, 404, 200, 200, 200]),
        new("GET", "job/dir/job/q/1/consoleText", [403, 404, 403, 403, 200, 200, 200]),
        new("POST", "job/p/1/stop", [403, 404, 403, 404, 403, 302, 302]),
        new("POST", "job/p/build?delay=600sec", [403, 404, 403, 404, 403, 201, 201]),
        new("GET", "job/p/build", [403, 404, 403, 404, 403, 405, 405]),
        new("POST", "job/dir/job/q/buildWithParameters?delay=600sec&P={who}", [403, 404, 403, 403, 403, 201, 201]),
        new("POST", "job/nope/build", [403, 404, 404, 404, 404, 404, 404]),
        new("GET", "job/p/tokens/api/json", [403, 404, 403, 404, 403, 403, 200]),
        new("GET", "queue/api/json", [403, 200, 200, 200, 200, 200, 200]),
        new("GET", "queue/item/{item}/api/json", [403, 404, 403, 404, 200, 200, 200]),
        new("GET", "queue/item/{item}/", [403, 404, 403, 404, 200, 200, 200]),
        new("GET", "queue/item/99999/api/json", [403, 404, 404, 404, 404, 404, 404]),
        new("POST", "queue/cancelItem?id={item}", [403, 404, 404, 404, 422, 204, 204]),
        new("POST", "queue/item/{item}/cancelQueue", [403, 404, 403, 404, 403, 302, 302]),
        new("GET", "crumbIssuer/api/json", [403, 200, 200, 200, 200, 200, 200]),
        new("GET", "crumbIssuer/api/xml", [403, 200, 200, 200, 200, 200, 200]),
        new("GET", "whoAmI/api/json", [200, 200, 200, 200, 200, 200, 200]),
        new("GET", "me/api/json", [403, 200, 200, 200, 200, 200, 200]),
        new("GET", "user/reader/api/json", [403, 200, 200, 200, 200, 200, 200]),
        new("POST", "me/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken", [403, 200, 200, 200, 200, 200, 200]),
        new("POST", "user/reader/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken", [403, 403, 403, 403, 200, 403, 200]),
        new("GET", "me/tokens/api/json", [403, 200, 200, 200, 200, 200, 200]),
        new("GET", "user/reader/tokens/api/json", [403, 403, 403, 403, 200, 403, 200]),
        new("GET", "login", [200, 200, 200, 200, 200, 200, 200]),
        new("GET", "healthz", [200, 200, 200, 200, 200, 200, 200]),
    ];

    [Fact]
    public async Task Every_endpoint_answers_each_identity_as_the_spec_says()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        foreach (var job in (string[])["job/p/", "job/dir/job/q/"])
        {
            using var built = await valet.Admin().PostAsync(job + (job.Contains("q") ? "buildWithParameters" : "build"), null);
            Assert.Equal(HttpStatusCode.Created, built.StatusCode);
            await valet.WaitForBuildAsync(job, 1);
        }
        var admin = valet.Admin();
        var clients = Identities.ToDictionary(i => i, i => i switch
        {
            "anonymous" => valet.Anonymous(),
            "admin" => admin,
            _ => valet.Client(i, "pw-" + i, crumbs: true),
        });
        var failures = new List<string>();
        foreach (var row in Table)
        {
            for (var i = 0; i < Identities.Length; i++)
            {
                var who = Identities[i];
                var path = row.Path.Replace("{who}", who, StringComparison.Ordinal);
                if (path.Contains("{item}", StringComparison.Ordinal))
                {
                    // A waiting item of p (a cancelled one is replaced by a fresh one).
                    using var queued = await admin.PostAsync("job/p/build?delay=600sec", null);
                    Assert.Equal(HttpStatusCode.Created, queued.StatusCode);
                    path = path.Replace("{item}", queued.Headers.Location!.AbsolutePath.TrimEnd('/').Split('/')[^1], StringComparison.Ordinal);
                }
                using var request = new HttpRequestMessage(new HttpMethod(row.Method), path);
                using var response = await clients[who].SendAsync(request);
                if ((int)response.StatusCode != row.Expected[i])
                    failures.Add($"{row.Method} /{path} as {who}: {(int)response.StatusCode}, expected {row.Expected[i]}: {await response.Content.ReadAsStringAsync()}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task An_item_the_caller_cannot_discover_answers_exactly_like_a_missing_one()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var plain = valet.Client("plain", "pw-plain");
        foreach (var (hidden, missing) in new[] { ("job/p/api/json", "job/nope/api/json"), ("job/p/build", "job/nope/build"), ("job/dir/job/q/", "job/nope/job/q/") })
        {
            using var a = await plain.GetAsync(hidden);
            using var b = await plain.GetAsync(missing);
            Assert.Equal(HttpStatusCode.NotFound, a.StatusCode);
            Assert.Equal(b.StatusCode, a.StatusCode);
            Assert.Equal(b.Content.Headers.ContentType, a.Content.Headers.ContentType);
            Assert.Equal(await b.Content.ReadAsByteArrayAsync(), await a.Content.ReadAsByteArrayAsync());
            Assert.Equal(b.Headers.GetValues("X-Error"), a.Headers.GetValues("X-Error"));
        }
    }

    [Fact]
    public async Task A_missing_permission_is_named_and_never_a_401()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var anonymous = await valet.Anonymous().GetAsync("job/p/api/json");
        Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
        Assert.Equal("hudson.model.Hudson.Read", anonymous.Headers.GetValues("X-Required-Permission").Single());
        Assert.Equal("anonymous", anonymous.Headers.GetValues("X-You-Are-Authenticated-As").Single());
        Assert.Contains("Overall/Read", await anonymous.Content.ReadAsStringAsync());

        using var reader = await valet.Client("reader", "pw-reader", crumbs: true).PostAsync("job/p/build", null);
        Assert.Equal(HttpStatusCode.Forbidden, reader.StatusCode);
        Assert.Equal("hudson.model.Item.Build", reader.Headers.GetValues("X-Required-Permission").Single());
        Assert.Equal("reader", reader.Headers.GetValues("X-You-Are-Authenticated-As").Single());

        using var disco = await valet.Client("disco", "pw-disco").GetAsync("job/p/api/json");
        Assert.Equal("hudson.model.Item.Read", disco.Headers.GetValues("X-Required-Permission").Single());
    }

    [Fact]
    public async Task An_anonymous_browser_gets_the_refusal_as_a_page_linking_the_sign_in_form()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var request = new HttpRequestMessage(HttpMethod.Get, "job/p/?x=1");
        request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml,*/*;q=0.8");
        using var response = await valet.Anonymous().SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Null(response.Headers.Location);
        Assert.Contains("/login?from=" + Uri.EscapeDataString("/job/p/?x=1"), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Listings_hold_only_readable_items()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var disco = await valet.GetJsonAsync("api/json", valet.Client("disco", "pw-disco"));
        Assert.Empty(disco["jobs"]!.AsArray());
        var reader = await valet.GetJsonAsync("api/json", valet.Client("reader", "pw-reader"));
        Assert.Equal(2, reader["jobs"]!.AsArray().Count);
    }
}
