using System.Net.Http.Headers;
using System.Text;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Hardening;

/// <summary>limits.md §2: no secret in any log, at any level, under any provider configuration.</summary>
public sealed class LogSecretTests
{
    const string Config = """
        server:
          quietPeriod: 0
        jobs:
          - name: p
            authToken: job-token-9x7k
            parameters:
              - { type: password, name: pw, default: "" }
            steps:
              - sh: test "${pw%2}" = hunter
        """;

    public static TheoryData<string, string> Levels => new()
    {
        { "Logging__LogLevel__Default", "Trace" },
        { "Logging__Console__LogLevel__Default", "Trace" },
        { "Logging__LogLevel__Microsoft", "Trace" },
        { "Logging__Console__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics", "Trace" },
    };

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task Tokens_and_passwords_appear_in_no_log_line_with_trace_logging(string variable, string level)
    {
        var env = new Dictionary<string, string> { [variable] = level, ["Logging__LogLevel__Default"] = "Trace" };
        await using var valet = await ValetProcess.StartAsync(Config, env);
        var client = valet.Anonymous();
        using (await client.PostAsync("buildByToken/buildWithParameters?job=p&token=job-token-9x7k&pw=hunter2", null)) { }
        using (var header = new HttpRequestMessage(HttpMethod.Post, "buildByToken/buildWithParameters?job=p&pw=hunter2"))
        {
            header.Headers.Add("X-Build-Token", "job-token-9x7k");
            using (await client.SendAsync(header)) { }
        }
        using (await client.PostAsync("buildByToken/build", new FormUrlEncodedContent(new Dictionary<string, string> { ["job"] = "p", ["token"] = "job-token-9x7k" }))) { }
        using (var basic = new HttpRequestMessage(HttpMethod.Get, "api/json?token=job-token-9x7k"))
        {
            basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:wrong-pw-5511")));
            using (await client.SendAsync(basic)) { }
        }
        var build = await valet.WaitForBuildAsync("job/p/", 1);
        Assert.Equal("SUCCESS", build["result"]!.GetValue<string>());
        await valet.StopAsync();

        // The framework's request log was asked for at Trace, so a leak would show here.
        Assert.Contains("Valet.", valet.Output);
        var logs = string.Concat(Directory.EnumerateFiles(Path.Combine(valet.Home, "logs"), "*", SearchOption.AllDirectories).Select(File.ReadAllText));
        foreach (var secret in new[] { "job-token-9x7k", "hunter2", "wrong-pw-5511", ValetProcess.AdminPassword })
        {
            Assert.DoesNotContain(secret, valet.Output);
            Assert.DoesNotContain(secret, logs);
        }
    }
}
