using System.Net;
using System.Text.Json.Nodes;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Execution;

public sealed class BuildTests
{
    const string Config = """
        server:
          executors: 2
          quietPeriod: 0
        jobs:
          - name: hello
            steps:
              - sh: |
                  echo "hello from $JOB_NAME #$BUILD_NUMBER in $WORKSPACE"
          - name: team/params
            parameters:
              - { type: string, name: Who, default: nobody, trim: true }
              - { type: choice, name: Size, choices: [S, M, L] }
              - { type: boolean, name: Loud, default: false }
              - { type: password, name: Secret, default: "" }
            steps:
              - sh: |
                  echo "who=[$Who] size=$Size loud=$Loud secret=$Secret"
          - name: failing
            steps:
              - sh: echo first
              - sh: exit 3
              - sh: echo never
          - name: slow
            steps:
              - sh: |
                  sleep 300 &
                  echo "child $!" > "$WORKSPACE/child.pid"
                  echo started
                  wait
        """;

    static async Task<int> TriggerAsync(ValetProcess valet, string path, HttpContent? content = null)
    {
        using var response = await valet.Admin().PostAsync(path, content);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var location = response.Headers.Location!.ToString();
        Assert.Matches(@"/queue/item/\d+/$", location);
        return int.Parse(location.TrimEnd('/').Split('/')[^1]);
    }

    [Fact]
    public async Task A_configured_job_builds_and_its_console_shows_the_cause_and_the_output()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var queueId = await TriggerAsync(valet, "job/hello/build");
        var build = await valet.WaitForBuildAsync("job/hello/", 1);
        Assert.Equal("SUCCESS", build["result"]!.GetValue<string>());
        Assert.Equal(queueId, build["queueId"]!.GetValue<int>());
        var console = await valet.ConsoleAsync("job/hello/", 1);
        var lines = console.Split('\n');
        Assert.Equal("Started by user Administrator", lines[0]);
        Assert.Contains("+ echo", console);
        Assert.Contains($"hello from hello #1 in {Path.Combine(valet.Home, "workspace", "hello")}", console);
        Assert.EndsWith("Finished: SUCCESS\n", console);
    }

    [Fact]
    public async Task Parameters_reach_the_shell_and_passwords_are_masked()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        await TriggerAsync(valet, "job/team/job/params/buildWithParameters", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Who"] = "  Alice  ",
            ["Size"] = "M",
            ["Loud"] = "TRUE",
            ["Secret"] = "hunter2",
        }));
        var build = await valet.WaitForBuildAsync("job/team/job/params/", 1);
        Assert.Equal("SUCCESS", build["result"]!.GetValue<string>());
        var console = await valet.ConsoleAsync("job/team/job/params/", 1);
        Assert.Contains("who=[Alice] size=M loud=true secret=****", console);
        Assert.DoesNotContain("hunter2", console);
        Assert.DoesNotContain("hunter2", build.ToJsonString());
    }

    [Fact]
    public async Task A_bad_parameter_value_is_a_400_naming_the_parameter()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var badChoice = await valet.Admin().PostAsync("job/team/job/params/buildWithParameters?Size=XL", null);
        Assert.Equal(HttpStatusCode.BadRequest, badChoice.StatusCode);
        Assert.Contains("Size", await badChoice.Content.ReadAsStringAsync());
        using var twice = await valet.Admin().PostAsync("job/team/job/params/buildWithParameters?Who=a&Who=b", null);
        Assert.Equal(HttpStatusCode.BadRequest, twice.StatusCode);
        Assert.Contains("Who", await twice.Content.ReadAsStringAsync());
        using var badDelay = await valet.Admin().PostAsync("job/hello/build?delay=soon", null);
        Assert.Equal(HttpStatusCode.BadRequest, badDelay.StatusCode);
        Assert.Contains("delay", await badDelay.Content.ReadAsStringAsync());
        using var unknown = await valet.Admin().PostAsync("job/nope/build", null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var queue = await valet.GetJsonAsync("queue/api/json");
        Assert.Empty(queue["items"]!.AsArray());
    }

    [Fact]
    public async Task A_failing_step_fails_the_build_and_stops_the_steps()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        await TriggerAsync(valet, "job/failing/build");
        var build = await valet.WaitForBuildAsync("job/failing/", 1);
        Assert.Equal("FAILURE", build["result"]!.GetValue<string>());
        var console = await valet.ConsoleAsync("job/failing/", 1);
        Assert.Contains("first", console);
        Assert.DoesNotContain("never", console);
        Assert.EndsWith("Finished: FAILURE\n", console);
        var job = await valet.GetJsonAsync("job/failing/api/json");
        Assert.Equal("red", job["color"]!.GetValue<string>());
    }

    [Fact]
    public async Task Stop_aborts_the_build_and_kills_its_child_processes()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        await TriggerAsync(valet, "job/slow/build");
        var pidFile = Path.Combine(valet.Home, "workspace", "slow", "child.pid");
        await ValetProcess.WaitUntilAsync(() => Task.FromResult(File.Exists(pidFile) && File.ReadAllText(pidFile).EndsWith('\n')), TimeSpan.FromSeconds(30), "the sleep child");
        var pid = int.Parse(File.ReadAllText(pidFile).Split(' ')[1]);
        Assert.True(ProcessAlive(pid));
        var running = await valet.GetJsonAsync("job/slow/1/api/json");
        Assert.True(running["building"]!.GetValue<bool>());
        Assert.Null(running["result"]);
        Assert.EndsWith("_anime", (await valet.GetJsonAsync("job/slow/api/json"))["color"]!.GetValue<string>());

        using var stop = await valet.Admin().PostAsync("job/slow/1/stop", null);
        Assert.Equal(HttpStatusCode.Found, stop.StatusCode);
        var build = await valet.WaitForBuildAsync("job/slow/", 1);
        Assert.Equal("ABORTED", build["result"]!.GetValue<string>());
        await ValetProcess.WaitUntilAsync(() => Task.FromResult(!ProcessAlive(pid)), TimeSpan.FromSeconds(15), "the sleep child to die");
        Assert.Contains("Aborted by Administrator", await valet.ConsoleAsync("job/slow/", 1));
    }

    [Fact]
    public async Task Progressive_text_reads_from_an_offset_and_says_whether_more_is_coming()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        await TriggerAsync(valet, "job/slow/build");
        await ValetProcess.WaitUntilAsync(async () => (await valet.ConsoleAsync("job/slow/", 1)).Contains("started\n"), TimeSpan.FromSeconds(30), "output");
        using var first = await valet.Admin().GetAsync("job/slow/1/logText/progressiveText?start=0");
        Assert.Equal("true", first.Headers.GetValues("X-More-Data").Single());
        var size = long.Parse(first.Headers.GetValues("X-Text-Size").Single());
        var text = await first.Content.ReadAsStringAsync();
        Assert.Equal(size, System.Text.Encoding.UTF8.GetByteCount(text));
        using var rest = await valet.Admin().GetAsync($"job/slow/1/logText/progressiveText?start={size}");
        Assert.Equal("", await rest.Content.ReadAsStringAsync());
        using var bad = await valet.Admin().GetAsync("job/slow/1/logText/progressiveText?start=-1");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        await valet.Admin().PostAsync("job/slow/1/stop", null);
        await valet.WaitForBuildAsync("job/slow/", 1);
        using var done = await valet.Admin().GetAsync($"job/slow/1/logText/progressiveText?start={size}");
        Assert.False(done.Headers.Contains("X-More-Data"));
        Assert.Contains("Finished: ABORTED", await done.Content.ReadAsStringAsync());
    }

    static bool ProcessAlive(int pid) =>
        File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2].Equals("Z", StringComparison.Ordinal);
}
