using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Items;

/// <summary>Items made, read, replaced and deleted through the native JSON API.</summary>
public sealed class ItemApiTests
{
    const string Config = """
        server: { quietPeriod: 0 }
        folders:
          - name: managed
        jobs:
          - name: managed/job
            authToken: secret
            steps:
              - sh: echo managed
        """;

    static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_folder_and_a_job_made_through_the_api_build_and_survive_a_restart()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var admin = valet.Admin();
        using var folder = await admin.PutAsync("job/team/config.json", Json("""{"name":"team","type":"folder","description":"Team"}"""));
        Assert.Equal(HttpStatusCode.Created, folder.StatusCode);
        using var job = await admin.PutAsync("job/team/job/app/config.json", Json("""
            {"name":"team/app","parameters":[{"type":"string","name":"who","default":"x"}],
             "steps":[{"sh":"echo \"hi ${who}\""}]}
            """));
        Assert.Equal(HttpStatusCode.Created, job.StatusCode);
        Assert.EndsWith("/job/team/job/app/", job.Headers.Location!.ToString());

        var config = await valet.GetJsonAsync("job/team/job/app/config.json");
        Assert.Equal("team/app", config["name"]!.GetValue<string>());
        Assert.Equal("echo \"hi ${who}\"", config["steps"]![0]!["sh"]!.GetValue<string>());

        await admin.PostAsync("job/team/job/app/buildWithParameters?who=api", null);
        await valet.WaitForBuildAsync("job/team/job/app/", 1);
        Assert.Contains("hi api", await valet.ConsoleAsync("job/team/job/app/", 1));

        using var replace = await admin.PutAsync("job/team/job/app/config.json", Json("""{"steps":[{"sh":"echo replaced"}]}"""));
        Assert.Equal(HttpStatusCode.OK, replace.StatusCode);
        await valet.StopAsync();
        await valet.RestartAsync();
        var after = await valet.GetJsonAsync("job/team/job/app/config.json");
        Assert.Equal("echo replaced", after["steps"]![0]!["sh"]!.GetValue<string>());
        Assert.Single((await valet.GetJsonAsync("job/team/job/app/api/json"))["builds"]!.AsArray());
    }

    [Fact]
    public async Task A_job_with_more_than_100_builds_lists_the_newest_100_in_builds_and_every_one_in_allBuilds()
    {
        await using var valet = await ValetProcess.StartAsync("""
            server: { quietPeriod: 0, executors: 2 }
            jobs:
              - name: many
                authToken: secret
                concurrent: true
                parameters:
                  - { type: string, name: v }
            """);
        using var http = valet.Anonymous();
        for (var i = 0; i < 103; i++)
        {
            using var response = await http.GetAsync($"buildByToken/buildWithParameters?job=many&token=secret&v={i}");
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        await ValetProcess.WaitUntilAsync(async () => (await valet.GetJsonAsync("queue/api/json"))["items"]!.AsArray().Count == 0,
            TimeSpan.FromSeconds(120), "the queue to empty");
        var job = await valet.GetJsonAsync("job/many/api/json?tree=builds[number],allBuilds[number]");
        Assert.Equal(Enumerable.Range(4, 100).Reverse(), job["builds"]!.AsArray().Select(b => b!["number"]!.GetValue<int>()));
        Assert.Equal(Enumerable.Range(1, 103).Reverse(), job["allBuilds"]!.AsArray().Select(b => b!["number"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Bad_entries_are_400_naming_the_problem_and_change_nothing()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var admin = valet.Admin();
        using var unknownKey = await admin.PutAsync("job/x/config.json", Json("{\n  \"colour\": \"red\"\n}"));
        Assert.Equal(HttpStatusCode.BadRequest, unknownKey.StatusCode);
        var body = await unknownKey.Content.ReadAsStringAsync();
        Assert.Contains("colour", body);
        Assert.Contains("config.json:2", body);
        using var badName = await admin.PutAsync("job/a%3Bb/config.json", Json("{}"));
        Assert.NotEqual(HttpStatusCode.Created, badName.StatusCode);
        using var mismatch = await admin.PutAsync("job/x/config.json", Json("""{"name":"y"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        using var noParent = await admin.PutAsync("job/nofolder/job/x/config.json", Json("{}"));
        Assert.Equal(HttpStatusCode.NotFound, noParent.StatusCode);
        using var notJson = await admin.PutAsync("job/x/config.json", Json("{ not json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        using var noEnv = await admin.PutAsync("job/x/config.json", Json("""{"description":"${HOME}"}"""));
        Assert.Equal(HttpStatusCode.Created, noEnv.StatusCode);
        Assert.Equal("${HOME}", (await valet.GetJsonAsync("job/x/config.json"))["description"]!.GetValue<string>());
        var names = (await valet.GetJsonAsync("api/json"))["jobs"]!.AsArray().Select(j => j!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["managed", "x"], names);
    }

    [Fact]
    public async Task Items_from_the_config_file_refuse_api_writes_with_409_naming_the_file()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var admin = valet.Admin();
        using var put = await admin.PutAsync("job/managed/job/job/config.json", Json("{}"));
        Assert.Equal(HttpStatusCode.Conflict, put.StatusCode);
        Assert.Contains(Path.GetFileName(valet.ConfigPath!), await put.Content.ReadAsStringAsync());
        using var delete = await admin.DeleteAsync("job/managed/");
        Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
        using var token = await admin.PostAsync("job/managed/job/job/tokens/default/revoke", null);
        Assert.Equal(HttpStatusCode.Conflict, token.StatusCode);
        // Builds and other tokens stay allowed.
        using var build = await admin.PostAsync("job/managed/job/job/build", null);
        Assert.Equal(HttpStatusCode.Created, build.StatusCode);
        using var other = await admin.PostAsync("job/managed/job/job/tokens", Json("""{"name":"extra"}"""));
        Assert.Equal(HttpStatusCode.Created, other.StatusCode);
    }

    [Fact]
    public async Task Deleting_a_job_aborts_its_build_and_removes_its_history()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var admin = valet.Admin();
        await admin.PutAsync("job/doomed/config.json", Json("""{"steps":[{"sh":"echo running; sleep 300"}]}"""));
        await admin.PostAsync("job/doomed/build", null);
        await ValetProcess.WaitUntilAsync(async () => (await valet.ConsoleAsync("job/doomed/", 1)).Contains("running"), TimeSpan.FromSeconds(30), "the build");
        var jobId = Directory.GetDirectories(Path.Combine(valet.Home, "jobs")).Single();
        using var delete = await admin.DeleteAsync("job/doomed/");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var gone = await admin.GetAsync("job/doomed/api/json");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.False(Directory.Exists(jobId));
        // A new job of the same name starts from build 1.
        await admin.PutAsync("job/doomed/config.json", Json("""{"steps":[{"sh":"echo again"}]}"""));
        Assert.Equal(1, (await valet.GetJsonAsync("job/doomed/api/json"))["nextBuildNumber"]!.GetValue<int>());
    }
}
