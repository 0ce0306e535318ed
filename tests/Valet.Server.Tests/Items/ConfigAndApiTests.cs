using System.Net;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Items;

public sealed class ConfigAndApiTests
{
    const string Config = """
        server:
          quietPeriod: 5
        folders:
          - name: dir
            description: A folder
        jobs:
          - name: dir/q
            description: Parameterized
            parameters:
              - { type: string, name: P, default: d, description: a value }
              - { type: password, name: Pw, default: topsecret }
          - name: p
            steps:
              - sh: echo p
        """;

    [Fact]
    public async Task A_config_error_stops_the_start_and_names_file_line_and_key()
    {
        await using var valet = await ValetProcess.StartAsync("jobs:\n  - name: ok\n    colour: red\n", waitUntilReady: false);
        var exit = await valet.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, exit);
        Assert.Contains(Path.GetFileName(valet.ConfigPath!), valet.Output);
        Assert.Contains(":3", valet.Output);
        Assert.Contains("colour", valet.Output);
        Assert.DoesNotContain("Now listening", valet.Output);
    }

    [Fact]
    public async Task The_root_lists_jobs_and_folders_with_their_classes()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var root = await valet.GetJsonAsync("api/json");
        Assert.Equal("hudson.model.Hudson", root["_class"]!.GetValue<string>());
        var jobs = root["jobs"]!.AsArray();
        var dir = jobs.Single(j => j!["name"]!.GetValue<string>() == "dir")!;
        Assert.Equal("com.cloudbees.hudson.plugins.folder.Folder", dir["_class"]!.GetValue<string>());
        Assert.Null(dir["color"]);
        var p = jobs.Single(j => j!["name"]!.GetValue<string>() == "p")!;
        Assert.Equal("hudson.model.FreeStyleProject", p["_class"]!.GetValue<string>());
        Assert.Equal("notbuilt", p["color"]!.GetValue<string>());
        Assert.Equal(valet.BaseAddress + "job/p/", p["url"]!.GetValue<string>());
        using var response = await valet.Admin().GetAsync("api/json");
        Assert.Equal("2.541", response.Headers.GetValues("X-Jenkins").Single());
    }

    [Fact]
    public async Task Names_resolve_ignoring_case_and_json_shows_the_stored_spelling()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var job = await valet.GetJsonAsync("job/DIR/job/Q/api/json/");
        Assert.Equal("q", job["name"]!.GetValue<string>());
        Assert.Equal("dir/q", job["fullName"]!.GetValue<string>());
        Assert.Equal(1, job["nextBuildNumber"]!.GetValue<int>());
        Assert.Null(job["lastBuild"]);
        Assert.False(job["inQueue"]!.GetValue<bool>());
        var definition = job["property"]![0]!["parameterDefinitions"]![0]!;
        Assert.Equal("P", definition["defaultParameterValue"]!["name"]!.GetValue<string>());
        Assert.Equal("d", definition["defaultParameterValue"]!["value"]!.GetValue<string>());
        Assert.DoesNotContain("topsecret", job.ToJsonString());
        using var missing = await valet.Admin().GetAsync("job/dir/job/nope/api/json");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var head = await valet.Admin().SendAsync(new HttpRequestMessage(HttpMethod.Head, "job/dir/job/q/api/json"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Fact]
    public async Task Tree_and_depth_select_what_is_written()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var tree = await valet.GetJsonAsync("api/json?tree=jobs[name]");
        Assert.Equal("""{"_class":"hudson.model.Hudson","jobs":[{"_class":"com.cloudbees.hudson.plugins.folder.Folder","name":"dir"},{"_class":"hudson.model.FreeStyleProject","name":"p"}]}""", tree.ToJsonString());
        using var bad = await valet.Admin().GetAsync("api/json?tree=jobs[name");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var depth = await valet.Admin().GetAsync("api/json?depth=11");
        Assert.Equal(HttpStatusCode.BadRequest, depth.StatusCode);
    }

    [Fact]
    public async Task Anonymous_callers_get_403_and_bad_credentials_401()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var anonymous = await valet.Anonymous().GetAsync("job/p/api/json");
        Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
        using var missing = await valet.Anonymous().GetAsync("job/nope/api/json");
        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
        using var wrong = await valet.Client("admin", "wrong").GetAsync("api/json");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("Basic realm=\"Valet\"", wrong.Headers.WwwAuthenticate.Single().ToString());
        using var health = await valet.Anonymous().GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task A_new_home_without_config_gets_the_example_job_and_its_token_works()
    {
        await using var valet = await ValetProcess.StartAsync();
        var line = valet.Output.Split('\n').Single(l => l.Contains("curl "));
        var token = System.Text.RegularExpressions.Regex.Match(line, "vlt_[A-Za-z0-9]{32}").Value;
        Assert.NotEmpty(token);
        using var request = new HttpRequestMessage(HttpMethod.Post, "buildByToken/buildWithParameters?job=examples/hello&name=Valet");
        request.Headers.Add("X-Build-Token", token);
        using var response = await valet.Anonymous().SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        await valet.WaitForBuildAsync("job/examples/job/hello/", 1);
        Assert.Contains("Hello, Valet!", await valet.ConsoleAsync("job/examples/job/hello/", 1));
        foreach (var file in Directory.EnumerateFiles(valet.Home, "*", SearchOption.AllDirectories))
            Assert.DoesNotContain(token, File.ReadAllText(file));
    }
}
