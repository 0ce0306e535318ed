using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.RemoteApi;

/// <summary>
/// The RA items of remote-api.md §9 that no other test class checks, each against a real server
/// (docs/remote-api-conformance.md maps every item to its tests).
/// </summary>
public sealed partial class RemoteApiConformanceTests
{
    // The spec's introduction: folder dir, job p (token secret), job q (parameter P, default d), alice.
    const string Config = """
        server:
          quietPeriod: 5
        security:
          users:
            - { id: alice, password: alice-pw-4t7w, fullName: Alice Example }
            - { id: reader, password: reader-pw-8k2m }
            - { id: disco, password: disco-pw-3n5x }
          permissions:
            admin: [Overall/Administer]
            alice: [Overall/Read, Job/Read, Job/Build, Job/Cancel]
            reader: [Overall/Read, Job/Read]
            disco: [Overall/Read, Job/Discover]
            anonymous: []
        folders:
          - name: dir
        jobs:
          - name: p
            authToken: secret
            steps:
              - sh: echo p
          - name: q
            authToken: qsecret
            parameters:
              - { type: string, name: P, default: d }
              - { type: password, name: Pw, default: pw-default-1 }
            steps:
              - sh: 'test "$Pw" = hunter2-value || test "$Pw" = pw-default-1; echo "P=$P"'
          - name: dir/q
            parameters:
              - { type: string, name: P, default: d }
            steps:
              - sh: echo $P
          - name: plain
            steps:
              - sh: echo plain
        """;

    const string AlicePassword = "alice-pw-4t7w";

    static Task<ValetProcess> StartAsync(string config = Config) => ValetProcess.StartAsync(config);

    /// <summary>Alice with an API token she generated: Basic with it needs no crumb, as curl and python-jenkins use it.</summary>
    static async Task<HttpClient> AliceByTokenAsync(ValetProcess valet)
    {
        using var response = await valet.Client("alice", AlicePassword, crumbs: true).PostAsync(
            "me/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken", new FormUrlEncodedContent([new("newTokenName", "ra")]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["data"]!["tokenValue"]!.GetValue<string>();
        return valet.Client("alice", token);
    }

    static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        return await client.SendAsync(request);
    }

    static async Task<JsonArray> QueueAsync(ValetProcess valet) => (await valet.GetJsonAsync("queue/api/json"))["items"]!.AsArray();

    static long QueueId(HttpResponseMessage response) =>
        long.Parse(response.Headers.Location!.AbsoluteUri.TrimEnd('/').Split('/')[^1]);

    static JsonArray Causes(JsonNode item) =>
        item["actions"]!.AsArray().Single(a => a!["_class"]!.GetValue<string>() == "hudson.model.CauseAction")!["causes"]!.AsArray();

    static string Class(JsonNode? node) => node!["_class"]!.GetValue<string>();

    /// <summary>Jobs from the config file refuse API writes, so the ones a test disables are made through the API.</summary>
    static async Task PutJobAsync(ValetProcess valet, string name, string json)
    {
        using var response = await valet.Admin().PutAsync($"job/{name}/config.json", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    const string ApiJobs = """
        server:
          quietPeriod: 5
        security:
          users:
            - { id: alice, password: alice-pw-4t7w, fullName: Alice Example }
            - { id: reader, password: reader-pw-8k2m }
          permissions:
            admin: [Overall/Administer]
            alice: [Overall/Read, Job/Read, Job/Build, Job/Cancel]
            reader: [Overall/Read, Job/Read]
            anonymous: []
        """;

    [Fact]
    public async Task RA_02_urls_and_locations_are_absolute_with_a_slash_and_queue_item_urls_are_relative()
    {
        await using var valet = await StartAsync();
        var admin = valet.Admin();
        using var queued = await admin.PostAsync("job/p/build?delay=600sec", null);
        Assert.Equal(HttpStatusCode.Created, queued.StatusCode);
        var id = QueueId(queued);
        Assert.Equal($"{valet.BaseAddress}queue/item/{id}/", queued.Headers.Location!.ToString());

        var job = await valet.GetJsonAsync("job/dir/job/q/api/json");
        Assert.Equal($"{valet.BaseAddress}job/dir/job/q/", job["url"]!.GetValue<string>());
        Assert.Equal($"{valet.BaseAddress}job/dir/", (await valet.GetJsonAsync("job/dir/api/json"))["url"]!.GetValue<string>());
        var item = await valet.GetJsonAsync($"queue/item/{id}/api/json");
        Assert.Equal($"queue/item/{id}/", item["url"]!.GetValue<string>());
        Assert.Equal($"{valet.BaseAddress}job/p/", item["task"]!["url"]!.GetValue<string>());
        Assert.Equal($"queue/item/{id}/", (await QueueAsync(valet)).Single()!["url"]!.GetValue<string>());
    }

    [GeneratedRegex("^[0-9a-f]{8}$")]
    private static partial Regex SessionPattern();

    [Fact]
    public async Task RA_03_every_answer_carries_the_jenkins_headers_and_the_session_changes_with_a_restart()
    {
        await using var valet = await StartAsync();
        var answers = new List<HttpResponseMessage>
        {
            await valet.Admin().GetAsync("api/json"),
            await valet.Client("admin", "wrong").GetAsync("api/json"),
            await valet.Anonymous().GetAsync("api/json"),
            await valet.Admin().GetAsync("job/nope/api/json"),
            await valet.Admin().PostAsync("job/p/build?delay=600sec", null),
            await valet.Admin().GetAsync("job/p/build"),
            await valet.Admin().GetAsync("api/json?depth=x"),
        };
        Assert.Equal([200, 401, 403, 404, 201, 405, 400], answers.Select(a => (int)a.StatusCode));
        var sessions = new HashSet<string>();
        foreach (var answer in answers)
        {
            Assert.Equal("2.541", answer.Headers.GetValues("X-Jenkins").Single());
            Assert.Equal("1.395", answer.Headers.GetValues("X-Hudson").Single());
            sessions.Add(answer.Headers.GetValues("X-Jenkins-Session").Single());
            answer.Dispose();
        }
        var session = Assert.Single(sessions);
        Assert.Matches(SessionPattern(), session);

        await valet.StopAsync();
        await valet.RestartAsync();
        using var after = await valet.Admin().GetAsync("api/json");
        Assert.NotEqual(session, after.Headers.GetValues("X-Jenkins-Session").Single());
    }

    [Fact]
    public async Task RA_04_the_root_urls_path_is_the_base_path_of_routes_and_written_urls()
    {
        await using var valet = await StartAsync(Config.Replace("  quietPeriod: 5", "  quietPeriod: 5\n  rootUrl: https://ci.example.com/ci/"));
        var admin = valet.Client("admin", ValetProcess.AdminPassword);
        var job = await valet.GetJsonAsync("ci/job/p/api/json", admin);
        Assert.Equal("https://ci.example.com/ci/job/p/", job["url"]!.GetValue<string>());
        var root = await valet.GetJsonAsync("ci/api/json", admin);
        Assert.Equal("https://ci.example.com/ci/", root["url"]!.GetValue<string>());
        Assert.Equal("https://ci.example.com/ci/job/dir/", root["jobs"]!.AsArray().Single(j => j!["name"]!.GetValue<string>() == "dir")!["url"]!.GetValue<string>());

        // A matching token authorizes a GET without a crumb, so the build needs no session cookie (which is Secure here).
        using var queued = await admin.GetAsync("ci/job/p/build?token=secret&delay=600sec");
        Assert.Equal(HttpStatusCode.Created, queued.StatusCode);
        Assert.Equal($"https://ci.example.com/ci/queue/item/{QueueId(queued)}/", queued.Headers.Location!.ToString());
        Assert.Single(await QueueAsync(valet));
    }

    [Fact]
    public async Task RA_05_head_of_api_json_answers_200_without_a_body_and_404_for_an_unknown_job()
    {
        await using var valet = await StartAsync();
        var admin = valet.Admin();
        using var head = await SendAsync(admin, HttpMethod.Head, "job/q/api/json");
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/json", head.Content.Headers.ContentType!.MediaType);
        using var missing = await SendAsync(admin, HttpMethod.Head, "job/nope/api/json");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Empty(await missing.Content.ReadAsByteArrayAsync());
        Assert.Empty(await QueueAsync(valet));
    }

    [Fact]
    public async Task RA_07_tree_writes_only_the_named_properties_and_class()
    {
        await using var valet = await StartAsync();
        var named = await valet.GetJsonAsync("api/json?tree=jobs[name,url,color]");
        var b = valet.BaseAddress;
        Assert.Equal(
            $$$"""{"_class":"hudson.model.Hudson","jobs":[{"_class":"com.cloudbees.hudson.plugins.folder.Folder","name":"dir","url":"{{{b}}}job/dir/"},{"_class":"hudson.model.FreeStyleProject","name":"p","url":"{{{b}}}job/p/","color":"notbuilt"},{"_class":"hudson.model.FreeStyleProject","name":"plain","url":"{{{b}}}job/plain/","color":"notbuilt"},{"_class":"hudson.model.FreeStyleProject","name":"q","url":"{{{b}}}job/q/","color":"notbuilt"}]}""",
            named.ToJsonString());
        var bare = await valet.GetJsonAsync("api/json?tree=jobs");
        Assert.Equal(
            """{"_class":"hudson.model.Hudson","jobs":[{"_class":"com.cloudbees.hudson.plugins.folder.Folder"},{"_class":"hudson.model.FreeStyleProject"},{"_class":"hudson.model.FreeStyleProject"},{"_class":"hudson.model.FreeStyleProject"}]}""",
            bare.ToJsonString());
    }

    [Fact]
    public async Task RA_08_depth_1_builds_carry_their_result_and_a_range_takes_the_two_newest()
    {
        await using var valet = await StartAsync();
        var admin = valet.Admin();
        for (var n = 1; n <= 3; n++)
        {
            using var built = await admin.PostAsync("job/p/build?delay=0sec", null);
            Assert.Equal(HttpStatusCode.Created, built.StatusCode);
            await valet.WaitForBuildAsync("job/p/", n);
        }
        var deep = await valet.GetJsonAsync("job/p/api/json?depth=1");
        Assert.Equal([3, 2, 1], deep["builds"]!.AsArray().Select(x => x!["number"]!.GetValue<int>()));
        Assert.All(deep["builds"]!.AsArray(), x => Assert.Equal("SUCCESS", x!["result"]!.GetValue<string>()));
        var shallow = await valet.GetJsonAsync("job/p/api/json");
        Assert.All(shallow["builds"]!.AsArray(), x => Assert.Null(x!["result"]));
        var two = await valet.GetJsonAsync("job/p/api/json?tree=builds[number]{0,2}");
        Assert.Equal("""{"_class":"hudson.model.FreeStyleProject","builds":[{"_class":"hudson.model.FreeStyleBuild","number":3},{"_class":"hudson.model.FreeStyleBuild","number":2}]}""", two.ToJsonString());
    }

    [Theory]
    [InlineData("api/json?tree=jobs[name", 400)]
    [InlineData("api/json?depth=x", 400)]
    [InlineData("api/json?depth=11", 400)]
    [InlineData("job/p/api/json?depth=-1", 400)]
    [InlineData("api/xml?depth=x", 400)]
    [InlineData("api/json?jsonp=f", 403)]
    [InlineData("job/p/api/json?jsonp=f", 403)]
    public async Task RA_09_a_malformed_tree_or_depth_is_400_and_jsonp_403(string path, int status)
    {
        await using var valet = await StartAsync();
        using var response = await valet.Admin().GetAsync(path);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.DoesNotContain("_class", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RA_11_an_xpath_with_several_matches_is_400_unless_wrapped_and_no_match_is_404()
    {
        await using var valet = await StartAsync();
        var admin = valet.Admin();
        using var several = await admin.GetAsync("api/xml?xpath=//job/name");
        Assert.Equal(HttpStatusCode.BadRequest, several.StatusCode);
        using var wrapped = await admin.GetAsync("api/xml?xpath=//job/name&wrapper=n");
        Assert.Equal(HttpStatusCode.OK, wrapped.StatusCode);
        Assert.Equal("application/xml", wrapped.Content.Headers.ContentType!.MediaType);
        Assert.Equal("<n><name>dir</name><name>p</name><name>plain</name><name>q</name></n>", await wrapped.Content.ReadAsStringAsync());
        using var none = await admin.GetAsync("api/xml?xpath=//job[name='zz']");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    [Fact]
    public async Task RA_13_parameters_show_in_property_with_their_default_and_in_actions_without_its_name()
    {
        await using var valet = await StartAsync();
        var job = await valet.GetJsonAsync("job/dir/job/q/api/json");
        var property = job["property"]!.AsArray().Single(x => Class(x) == "hudson.model.ParametersDefinitionProperty")!;
        var definition = property["parameterDefinitions"]!.AsArray().Single()!;
        Assert.Equal("hudson.model.StringParameterDefinition", Class(definition));
        Assert.Equal("""{"_class":"hudson.model.StringParameterValue","name":"P","value":"d"}""", definition["defaultParameterValue"]!.ToJsonString());
        var action = job["actions"]!.AsArray().Single(x => x is JsonObject o && o.ContainsKey("_class") && Class(x) == "hudson.model.ParametersDefinitionProperty")!;
        var inAction = action["parameterDefinitions"]!.AsArray().Single()!["defaultParameterValue"]!.AsObject();
        Assert.False(inAction.ContainsKey("name"));
        Assert.Equal("d", inAction["value"]!.GetValue<string>());
    }

    [Fact]
    public async Task RA_14_RA_43_password_values_show_as_stars_in_params_and_console_and_in_no_json()
    {
        await using var valet = await StartAsync();
        var admin = valet.Admin();
        using var queued = await admin.PostAsync("job/q/buildWithParameters?P=x&Pw=hunter2-value&delay=600sec", null);
        Assert.Equal(HttpStatusCode.Created, queued.StatusCode);
        var id = QueueId(queued);
        var item = await valet.GetJsonAsync($"queue/item/{id}/api/json");
        Assert.Equal("\nP=x\nPw=****", item["params"]!.GetValue<string>());
        var everything = string.Concat(
            item.ToJsonString(),
            (await valet.GetJsonAsync("queue/api/json?depth=2")).ToJsonString(),
            (await valet.GetJsonAsync("job/q/api/json?depth=2")).ToJsonString());
        Assert.DoesNotContain("hunter2-value", everything);
        Assert.DoesNotContain("pw-default-1", everything);

        // The same values with an earlier delay move the item up; the step proves the clear value reached it.
        using var now = await admin.PostAsync("job/q/buildWithParameters?P=x&Pw=hunter2-value&delay=0sec", null);
        Assert.Equal(HttpStatusCode.SeeOther, now.StatusCode);
        var build = await valet.WaitForBuildAsync("job/q/", 1);
        Assert.Equal("SUCCESS", build["result"]!.GetValue<string>());
        Assert.DoesNotContain("hunter2-value", build.ToJsonString());
        var password = build["actions"]!.AsArray().Single(a => a is JsonObject o && o.ContainsKey("parameters"))!["parameters"]!.AsArray()
            .Single(p => p!["name"]!.GetValue<string>() == "Pw")!.AsObject();
        Assert.False(password.ContainsKey("value"));

        using var console = await admin.GetAsync("job/q/1/consoleText");
        Assert.Equal("text/plain", console.Content.Headers.ContentType!.MediaType);
        var text = await console.Content.ReadAsStringAsync();
        Assert.Equal("Started by user Administrator", text.Split('\n')[0]);
        Assert.Contains("P=x", text);
        Assert.DoesNotContain("hunter2-value", text);
        Assert.Contains("****", text);
    }

    [Fact]
    public async Task RA_15_a_finished_build_has_a_string_id_its_queue_id_causes_and_parameters()
    {
        await using var valet = await StartAsync();
        var alice = await AliceByTokenAsync(valet);
        using var queued = await alice.PostAsync("job/dir/job/q/buildWithParameters?P=x&delay=0sec", null);
        Assert.Equal(HttpStatusCode.Created, queued.StatusCode);
        var build = await valet.WaitForBuildAsync("job/dir/job/q/", 1);
        Assert.Equal("1", build["id"]!.GetValue<string>());
        Assert.Equal("SUCCESS", build["result"]!.GetValue<string>());
        Assert.Equal(QueueId(queued), build["queueId"]!.GetValue<long>());
        var cause = Causes(build).Single()!;
        Assert.Equal("hudson.model.Cause$UserIdCause", Class(cause));
        Assert.Equal("alice", cause["userId"]!.GetValue<string>());
        Assert.Equal("Started by user Alice Example", cause["shortDescription"]!.GetValue<string>());
        var parameters = build["actions"]!.AsArray().Single(a => a is JsonObject o && o.ContainsKey("_class") && Class(a) == "hudson.model.ParametersAction")!["parameters"]!;
        Assert.Equal("""[{"_class":"hudson.model.StringParameterValue","name":"P","value":"x"}]""", parameters.ToJsonString());
    }

    [Fact]
    public async Task RA_16_a_disabled_job_is_coloured_disabled()
    {
        await using var valet = await StartAsync(ApiJobs);
        await PutJobAsync(valet, "p", """{"steps":[{"sh":"echo p"}]}""");
        using var disable = await valet.Admin().PostAsync("job/p/disable", null);
        Assert.Equal(HttpStatusCode.Found, disable.StatusCode);
        var job = await valet.GetJsonAsync("job/p/api/json");
        Assert.Equal("disabled", job["color"]!.GetValue<string>());
        Assert.False(job["buildable"]!.GetValue<bool>());
        var listed = (await valet.GetJsonAsync("api/json"))["jobs"]!.AsArray().Single(j => j!["name"]!.GetValue<string>() == "p")!;
        Assert.Equal("disabled", listed["color"]!.GetValue<string>());
    }

    [Fact]
    public async Task RA_17_last_build_is_404_before_any_build_and_then_equals_build_1()
    {
        await using var valet = await StartAsync();
        using var none = await valet.Admin().GetAsync("job/p/lastBuild/api/json");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        using var built = await valet.Admin().PostAsync("job/p/build?delay=0sec", null);
        await valet.WaitForBuildAsync("job/p/", 1);
        var last = await valet.GetJsonAsync("job/p/lastBuild/api/json");
        Assert.Equal((await valet.GetJsonAsync("job/p/1/api/json")).ToJsonString(), last.ToJsonString());
    }

    [Fact]
    public async Task RA_18_alice_with_her_api_token_posts_build_without_a_crumb_and_gets_201_and_the_item()
    {
        await using var valet = await StartAsync();
        var alice = await AliceByTokenAsync(valet);
        using var queued = await alice.PostAsync("job/p/build", null);
        Assert.Equal(HttpStatusCode.Created, queued.StatusCode);
        Assert.Equal(0, queued.Content.Headers.ContentLength);
        Assert.Empty(await queued.Content.ReadAsByteArrayAsync());
        var id = QueueId(queued);
        Assert.Equal($"{valet.BaseAddress}queue/item/{id}/", queued.Headers.Location!.ToString());
        var item = Assert.Single(await QueueAsync(valet))!;
        Assert.Equal(id, item["id"]!.GetValue<long>());
        Assert.Equal("alice", Causes(item).Single()!["userId"]!.GetValue<string>());
    }

    [Fact]
    public async Task RA_20_a_get_of_build_is_405_allowing_post_and_queues_nothing()
    {
        await using var valet = await StartAsync();
        var alice = await AliceByTokenAsync(valet);
        using var get = await alice.GetAsync("job/p/build");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal(["POST"], get.Content.Headers.Allow);
        Assert.Empty(await QueueAsync(valet));
        Assert.Null((await valet.GetJsonAsync("job/p/api/json"))["lastBuild"]);
    }

    [Fact]
    public async Task RA_22_RA_27_a_disabled_job_answers_409_to_get_and_post_after_the_permission_check()
    {
        await using var valet = await StartAsync(ApiJobs);
        await PutJobAsync(valet, "p", """{"steps":[{"sh":"echo p"}]}""");
        await PutJobAsync(valet, "q", """{"parameters":[{"type":"string","name":"P","default":"d"}],"steps":[{"sh":"echo $P"}]}""");
        var admin = valet.Admin();
        foreach (var job in new[] { "p", "q" })
        {
            using var disable = await admin.PostAsync($"job/{job}/disable", null);
            Assert.Equal(HttpStatusCode.Found, disable.StatusCode);
        }
        var alice = await AliceByTokenAsync(valet);
        using var post = await alice.PostAsync("job/p/build", null);
        Assert.Equal(HttpStatusCode.Conflict, post.StatusCode);
        Assert.Contains("p is not buildable", await post.Content.ReadAsStringAsync());
        using var get = await alice.GetAsync("job/p/build");
        Assert.Equal(HttpStatusCode.Conflict, get.StatusCode);
        using var withParameters = await alice.PostAsync("job/q/buildWithParameters?P=x", null);
        Assert.Equal(HttpStatusCode.Conflict, withParameters.StatusCode);
        using var reader = await valet.Client("reader", "reader-pw-8k2m", crumbs: true).PostAsync("job/q/buildWithParameters?P=x", null);
        Assert.Equal(HttpStatusCode.Forbidden, reader.StatusCode);
        Assert.Equal("hudson.model.Item.Build", reader.Headers.GetValues("X-Required-Permission").Single());
        Assert.Empty(await QueueAsync(valet));
    }

    [Fact]
    public async Task RA_23_a_get_of_build_on_a_parameterized_job_is_a_405_form_even_with_the_right_token()
    {
        await using var valet = await StartAsync();
        using var get = await valet.Admin().GetAsync("job/q/build?token=qsecret");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal("text/html", get.Content.Headers.ContentType!.MediaType);
        Assert.Contains("<form", await get.Content.ReadAsStringAsync());
        Assert.Empty(await QueueAsync(valet));
    }

    [Fact]
    public async Task RA_24_RA_25_build_of_a_parameterized_job_takes_the_json_field_or_body_and_answers_the_job_url()
    {
        await using var valet = await StartAsync();
        var alice = await AliceByTokenAsync(valet);
        using var noJson = await alice.PostAsync("job/q/build?delay=600sec", null);
        Assert.Equal(HttpStatusCode.BadRequest, noJson.StatusCode);
        Assert.Empty(await QueueAsync(valet));

        const string payload = """{"parameter":[{"name":"P","value":"x"}]}""";
        using var field = await alice.PostAsync("job/q/build?delay=600sec", new FormUrlEncodedContent([new("json", payload)]));
        Assert.Equal(HttpStatusCode.Created, field.StatusCode);
        Assert.Equal($"{valet.BaseAddress}job/q/", field.Headers.Location!.ToString());
        var item = Assert.Single(await QueueAsync(valet))!;
        Assert.Equal("\nP=x\nPw=****", item["params"]!.GetValue<string>());

        using var raw = await alice.PostAsync("job/q/build?delay=600sec", new StringContent(payload.Replace("\"x\"", "\"y\""), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, raw.StatusCode);
        Assert.Equal(["\nP=x\nPw=****", "\nP=y\nPw=****"], (await QueueAsync(valet)).Select(i => i!["params"]!.GetValue<string>()).Order());

        using var unknown = await alice.PostAsync("job/q/build?delay=600sec", new StringContent("""{"parameter":[{"name":"Z","value":"x"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("Z", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(2, (await QueueAsync(valet)).Count);
    }

    [Fact]
    public async Task RA_27_build_with_parameters_on_a_job_without_parameters_is_400()
    {
        await using var valet = await StartAsync();
        var alice = await AliceByTokenAsync(valet);
        using var response = await alice.PostAsync("job/p/buildWithParameters?X=1", null);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(await QueueAsync(valet));
    }

    [Fact]
    public async Task RA_28_omitted_values_take_defaults_a_repeated_one_is_400_and_unknown_names_are_ignored()
    {
        await using var valet = await StartAsync();
        var alice = await AliceByTokenAsync(valet);
        using var twice = await alice.PostAsync("job/dir/job/q/buildWithParameters?P=a&P=b&delay=600sec", null);
        Assert.Equal(HttpStatusCode.BadRequest, twice.StatusCode);
        Assert.Contains("P", await twice.Content.ReadAsStringAsync());
        Assert.Empty(await QueueAsync(valet));
        using var omitted = await alice.PostAsync("job/dir/job/q/buildWithParameters?Z=1&delay=600sec", null);
        Assert.Equal(HttpStatusCode.Created, omitted.StatusCode);
        var item = Assert.Single(await QueueAsync(valet))!;
        Assert.Equal("\nP=d", item["params"]!.GetValue<string>());
    }

    const string OpenConfig = """
        server:
          quietPeriod: 5
        security:
          permissions:
            admin: [Overall/Administer]
            anonymous: [Overall/Read, Job/Read]
        jobs:
          - name: p
            authToken: secret
            steps:
              - sh: echo p
        """;

    [Fact]
    public async Task RA_29_anonymous_readers_with_the_right_token_get_201_and_a_remote_cause_with_the_note()
    {
        await using var valet = await StartAsync(OpenConfig);
        using var queued = await valet.Anonymous().GetAsync("job/p/build?token=secret&cause=hi&delay=600sec");
        Assert.Equal(HttpStatusCode.Created, queued.StatusCode);
        var item = Assert.Single(await QueueAsync(valet))!;
        var cause = Causes(item).Single()!;
        Assert.Equal("hudson.model.Cause$RemoteCause", Class(cause));
        Assert.Equal("hi", cause["note"]!.GetValue<string>());
        Assert.Equal("127.0.0.1", cause["addr"]!.GetValue<string>());
    }

    [Fact]
    public async Task RA_30_a_wrong_or_empty_token_is_403_for_an_admin_too_and_queues_nothing()
    {
        await using var valet = await StartAsync();
        foreach (var client in new[] { valet.Client("admin", ValetProcess.AdminPassword), valet.Client("alice", AlicePassword) })
            foreach (var token in new[] { "wrong", "", "SECRET" })
            {
                using var response = await client.GetAsync($"job/p/build?token={token}");
                Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
                Assert.Contains("Invalid token provided.", await response.Content.ReadAsStringAsync());
                Assert.False(response.Headers.Contains("X-Required-Permission"));
            }
        Assert.Empty(await QueueAsync(valet));
    }

    [Fact]
    public async Task RA_31_anonymous_without_overall_read_is_403_even_with_the_right_token()
    {
        await using var valet = await StartAsync();
        using var response = await valet.Anonymous().GetAsync("job/p/build?token=secret");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("hudson.model.Hudson.Read", response.Headers.GetValues("X-Required-Permission").Single());
        Assert.Empty(await QueueAsync(valet));
    }

    [Fact]
    public async Task RA_32_a_post_with_the_right_token_but_no_crumb_and_no_api_token_is_403()
    {
        await using var valet = await StartAsync(OpenConfig);
        using var anonymous = await valet.Anonymous().PostAsync("job/p/build?token=secret", null);
        Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
        using var password = await valet.Client("admin", ValetProcess.AdminPassword).PostAsync("job/p/build?token=secret", null);
        Assert.Equal(HttpStatusCode.Forbidden, password.StatusCode);
        Assert.Empty(await QueueAsync(valet));
    }

    [Fact]
    public async Task RA_33_a_job_without_a_token_ignores_one_and_builds_as_the_user()
    {
        await using var valet = await StartAsync();
        var alice = await AliceByTokenAsync(valet);
        using var queued = await alice.PostAsync("job/plain/build?token=x&delay=600sec", null);
        Assert.Equal(HttpStatusCode.Created, queued.StatusCode);
        var item = Assert.Single(await QueueAsync(valet))!;
        var cause = Causes(item).Single()!;
        Assert.Equal("hudson.model.Cause$UserIdCause", Class(cause));
        Assert.Equal("alice", cause["userId"]!.GetValue<string>());
    }

    [Fact]
    public async Task RA_34_without_delay_the_item_waits_the_quiet_period_and_a_bad_delay_is_400()
    {
        await using var valet = await StartAsync();
        var alice = await AliceByTokenAsync(valet);
        using var bad = await alice.PostAsync("job/p/build?delay=abc", null);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Empty(await QueueAsync(valet));
        var sent = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        using var queued = await alice.PostAsync("job/p/build", null);
        Assert.Equal(HttpStatusCode.Created, queued.StatusCode);
        var item = await valet.GetJsonAsync($"queue/item/{QueueId(queued)}/api/json");
        Assert.Equal("hudson.model.Queue$WaitingItem", Class(item));
        Assert.StartsWith("In the quiet period. Expires in", item["why"]!.GetValue<string>());
        var due = item["timestamp"]!.GetValue<long>() - sent;
        Assert.InRange(due, 4_000, 6_000);
    }

    [Fact]
    public async Task RA_37_a_waiting_item_has_no_executable_and_a_started_one_names_its_build()
    {
        await using var valet = await StartAsync();
        var admin = valet.Admin();
        using var queued = await admin.PostAsync("job/p/build?delay=600sec", null);
        var id = QueueId(queued);
        var waiting = await valet.GetJsonAsync($"queue/item/{id}/api/json");
        Assert.Equal("hudson.model.Queue$WaitingItem", Class(waiting));
        Assert.False(waiting.AsObject().ContainsKey("executable"));

        // The same request with an earlier delay moves the item up, so it starts now.
        using var now = await admin.PostAsync("job/p/build?delay=0sec", null);
        Assert.Equal(queued.Headers.Location, now.Headers.Location);
        await valet.WaitForBuildAsync("job/p/", 1);
        var left = await valet.GetJsonAsync($"queue/item/{id}/api/json");
        Assert.Equal("hudson.model.Queue$LeftItem", Class(left));
        Assert.False(left["cancelled"]!.GetValue<bool>());
        Assert.Equal($$"""{"_class":"hudson.model.FreeStyleBuild","number":1,"url":"{{valet.BaseAddress}}job/p/1/"}""", left["executable"]!.ToJsonString());
    }

    [Fact]
    public async Task RA_40_the_queue_lists_readable_items_and_discover_only_ones_by_name()
    {
        await using var valet = await StartAsync();
        var admin = valet.Admin();
        using var queued = await admin.PostAsync("job/p/build?delay=600sec", null);
        Assert.Equal(HttpStatusCode.Created, queued.StatusCode);

        var reader = await valet.GetJsonAsync("queue/api/json", valet.Client("reader", "reader-pw-8k2m"));
        Assert.Equal(QueueId(queued), Assert.Single(reader["items"]!.AsArray())!["id"]!.GetValue<long>());

        var disco = await valet.GetJsonAsync("queue/api/json", valet.Client("disco", "disco-pw-3n5x"));
        Assert.Empty(disco["items"]!.AsArray());
        var discoverable = Assert.Single(disco["discoverableItems"]!.AsArray())!;
        Assert.Equal("p", discoverable["task"]!["name"]!.GetValue<string>());
        Assert.DoesNotContain("actions", discoverable.ToJsonString());
    }
}
