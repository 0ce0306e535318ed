using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Clients;

/// <summary>
/// Real Jenkins clients against a real server (remote-api.md §8, RA-61…63): the scripts in tests/clients
/// run as child processes and print `OK <step>` for each call that did what Jenkins would have done.
/// </summary>
public sealed class JenkinsClientTests
{
    const string AlicePassword = "alice-pw-5r8t";

    const string Config = """
        server:
          executors: 2
        security:
          users:
            - id: alice
              password: alice-pw-5r8t
              fullName: Alice Example
          permissions:
            alice: [Overall/Read, Job/Read, Job/Build, Job/Cancel, Job/Configure, Job/Create, Job/Delete]
        """;

    static readonly string Clients = Path.Combine(RepositoryRoot(), "tests", "clients");

    static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Valet.slnx")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Valet.slnx not found above " + AppContext.BaseDirectory);
    }

    static async Task<(int Exit, string Output)> RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Clients };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    static void AssertSteps(string output, params string[] steps)
    {
        var lines = output.Split('\n');
        foreach (var step in steps)
            Assert.True(lines.Any(l => l == $"OK {step}" || l.StartsWith($"OK {step} ", StringComparison.Ordinal)), $"step {step} missing:\n{output}");
    }

    static async Task<string> NewApiTokenAsync(ValetProcess valet)
    {
        using var response = await valet.Client("alice", AlicePassword, crumbs: true).PostAsync(
            "me/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken", new FormUrlEncodedContent([new("newTokenName", "clients")]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["data"]!["tokenValue"]!.GetValue<string>();
    }

    static readonly string[] PythonSteps =
        ["whoami alice", "version 2.541", "create_job", "create_folder_job", "info", "job_info notbuilt", "build_job", "queue_item", "build_info SUCCESS", "console", "reconfig", "disable_enable", "copy_job", "cancel_queue", "stop_build ABORTED", "delete_job"];

    static void RequirePythonJenkins()
    {
        if (!File.Exists("/usr/lib/python3/dist-packages/jenkins/__init__.py"))
            Assert.Skip("python3-jenkins is not installed (./test installs it)");
    }

    [Fact]
    public async Task Python_jenkins_runs_every_call_with_a_password()
    {
        RequirePythonJenkins();
        await using var valet = await ValetProcess.StartAsync(Config);
        var (exit, output) = await RunAsync("/usr/bin/python3", "python_jenkins.py", valet.BaseAddress.ToString(), "alice", AlicePassword, "pw-");
        Assert.True(exit == 0, output);
        AssertSteps(output, PythonSteps);
    }

    [Fact]
    public async Task Python_jenkins_runs_every_call_with_an_api_token()
    {
        RequirePythonJenkins();
        await using var valet = await ValetProcess.StartAsync(Config);
        var token = await NewApiTokenAsync(valet);
        var (exit, output) = await RunAsync("/usr/bin/python3", "python_jenkins.py", valet.BaseAddress.ToString(), "alice", token, "tok-");
        Assert.True(exit == 0, output);
        AssertSteps(output, PythonSteps);
    }

    [Fact]
    public async Task Npm_jenkins_runs_every_call_with_crumbs_on()
    {
        if (!File.Exists(Path.Combine(Clients, "node_modules", "jenkins", "package.json")))
            Assert.Skip("npm jenkins is not installed in tests/clients (./test installs it)");
        await using var valet = await ValetProcess.StartAsync(Config);
        var baseUrl = $"http://alice:{AlicePassword}@{valet.BaseAddress.Authority}/";
        var (exit, output) = await RunAsync("node", "node_jenkins.js", baseUrl, "node-");
        Assert.True(exit == 0, output);
        AssertSteps(output, "info", "job.create", "job.get notbuilt", "job.build", "queue.item", "build.get SUCCESS", "build.log", "job.disable_enable", "job.copy", "queue.cancel", "build.stop ABORTED", "job.destroy");
    }

    [Fact]
    public async Task The_seed_curl_recipes_queue_builds_while_anonymous_has_no_permissions()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var alice = valet.Client("alice", AlicePassword, crumbs: true);
        foreach (var (name, parameters) in new[] { ("plain", ""), ("with-param", Parameter) })
        {
            using var created = await alice.PostAsync($"createItem?name={name}", new StringContent(Job(parameters), Encoding.UTF8, "text/xml"));
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }
        var token = await NewApiTokenAsync(valet);
        using (var anonymous = await valet.Anonymous().GetAsync("job/plain/api/json"))
            Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);

        var (exit, output) = await RunAsync("/bin/bash", "seed_curl.sh", valet.BaseAddress.Authority, "alice", token, "plain", "with-param", "seed-token");
        Assert.True(exit == 0, output);
        AssertSteps(output, "build-by-token 201", "crumb-xpath", "crumb-build 201", "token-build 201", "url-credentials-build 201", "script-build 201",
            "json-payload 201", "build-with-parameters 201");
    }

    const string Parameter = """
        <properties>
          <hudson.model.ParametersDefinitionProperty>
            <parameterDefinitions>
              <hudson.model.StringParameterDefinition><name>param1</name><defaultValue>d</defaultValue></hudson.model.StringParameterDefinition>
            </parameterDefinitions>
          </hudson.model.ParametersDefinitionProperty>
        </properties>
        """;

    static string Job(string properties) => $"""
        <?xml version='1.1' encoding='UTF-8'?>
        <project>
          {properties}
          <authToken>seed-token</authToken>
          <builders><hudson.tasks.Shell><command>echo seed</command></hudson.tasks.Shell></builders>
        </project>
        """;
}
