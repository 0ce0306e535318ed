using System.Net;
using System.Text.Json.Nodes;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Triggers;

/// <summary>TR-7, TR-24…31, TR-59: parameter values by their definitions.</summary>
public sealed class TokenParameterTests
{
    static async Task<Dictionary<string, JsonNode?>> ValuesAsync(ValetProcess valet, HttpResponseMessage response)
    {
        response.AssertStatus(HttpStatusCode.Created);
        var item = await valet.QueueItemAsync(response.QueueId());
        var parameters = item["actions"]!.AsArray().Single(a => a!["_class"]!.GetValue<string>() == "hudson.model.ParametersAction")!["parameters"]!.AsArray();
        return parameters.ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!["value"]);
    }

    [Fact]
    public async Task Values_are_taken_from_the_request_and_defaults_fill_the_rest()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-7, TR-24, TR-27 (omitted choice → first), TR-28 (omitted boolean → default)
        var values = await ValuesAsync(valet, await valet.GetAsync("buildByToken/buildWithParameters?job=withparams&token=secret&foo=bar&baz=quux"));
        Assert.Equal("bar", values["foo"]!.GetValue<string>());
        Assert.Equal("quux", values["baz"]!.GetValue<string>());
        Assert.Equal("S", values["size"]!.GetValue<string>());
        Assert.True(values["flag"]!.GetValue<bool>());
        Assert.Null(values["pw"]);
        var defaults = await ValuesAsync(valet, await valet.GetAsync("buildByToken/buildWithParameters?job=withparams&token=secret&foo="));
        Assert.Equal("", defaults["foo"]!.GetValue<string>());
        var omitted = await ValuesAsync(valet, await valet.GetAsync("buildByToken/buildWithParameters?job=withparams&token=secret&baz=other"));
        Assert.Equal("d", omitted["foo"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_build_gets_exactly_the_values_sent()
    {
        // TR-7: a job with string parameters foo and baz only.
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config + """

              - name: strings
                quietPeriod: 0
                authToken: secret
                parameters:
                  - { type: string, name: foo }
                  - { type: string, name: baz }
                steps:
                  - sh: echo "foo=$foo baz=$baz"
            """);
        using var response = await valet.GetAsync("buildByToken/buildWithParameters?job=strings&token=secret&foo=bar&baz=quux");
        response.AssertStatus(HttpStatusCode.Created);
        var build = await valet.WaitForBuildAsync("job/strings/", 1);
        var parameters = build["actions"]!.AsArray().Single(a => a?["_class"]?.GetValue<string>() == "hudson.model.ParametersAction")!["parameters"]!.AsArray();
        Assert.Equal(["foo=bar", "baz=quux"], parameters.Select(p => $"{p!["name"]}={p["value"]}"));
        using var console = await valet.Admin().GetAsync("job/strings/1/consoleText");
        Assert.Contains("foo=bar baz=quux", await console.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Undefined_and_differently_cased_names_are_ignored()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-25
        var values = await ValuesAsync(valet, await valet.GetAsync("buildByToken/buildWithParameters?job=withparams&token=secret&zzz=1&Foo=x"));
        Assert.False(values.ContainsKey("zzz"));
        Assert.False(values.ContainsKey("Foo"));
        Assert.Equal("d", values["foo"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_value_given_twice_or_a_choice_not_in_the_list_is_a_400_naming_it()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-26
        using var twice = await valet.GetAsync("buildByToken/buildWithParameters?job=withparams&token=secret&foo=a&foo=b");
        twice.AssertStatus(HttpStatusCode.BadRequest, "bad-parameter");
        Assert.Contains("foo", await twice.BodyAsync());
        using var queryAndBody = await valet.Anonymous().PostAsync("buildByToken/buildWithParameters?job=withparams&token=secret&foo=a",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["foo"] = "b" }));
        queryAndBody.AssertStatus(HttpStatusCode.BadRequest, "bad-parameter");
        Assert.Contains("foo", await queryAndBody.BodyAsync());
        // TR-27
        foreach (var size in new[] { "XL", "m" })
        {
            using var r = await valet.GetAsync($"buildByToken/buildWithParameters?job=withparams&token=secret&size={size}");
            r.AssertStatus(HttpStatusCode.BadRequest, "bad-parameter");
            Assert.Contains("size", await r.BodyAsync());
        }
        Assert.Empty(await valet.QueueItemsAsync());
    }

    [Theory]
    [InlineData("TRUE", true)]
    [InlineData("true", true)]
    [InlineData("yes", false)]
    [InlineData("1", false)]
    [InlineData("on", false)]
    public async Task Booleans_are_true_only_for_true_in_any_case(string sent, bool expected)
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-28
        var values = await ValuesAsync(valet, await valet.GetAsync($"buildByToken/buildWithParameters?job=withparams&token=secret&flag={sent}"));
        Assert.Equal(expected, values["flag"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Trim_removes_surrounding_whitespace_only_where_defined()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-29
        var values = await ValuesAsync(valet, await valet.GetAsync("buildByToken/buildWithParameters?job=withparams&token=secret&trimmed=%20a%20&foo=%20a%20"));
        Assert.Equal("a", values["trimmed"]!.GetValue<string>());
        Assert.Equal(" a ", values["foo"]!.GetValue<string>());
    }

    [Fact]
    public async Task Password_values_reach_the_build_but_no_json_log_or_audit()
    {
        const string Config = """
            server: { quietPeriod: 0 }
            jobs:
              - name: pw
                authToken: secret
                parameters:
                  - { type: password, name: pw }
                steps:
                  - sh: |
                      test "${pw%2}" = hunter && echo "password arrived: $pw"
            """;
        await using var valet = await ValetProcess.StartAsync(Config, new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Debug" });
        // TR-30
        using var response = await valet.GetAsync("buildByToken/buildWithParameters?job=pw&token=secret&pw=hunter2");
        response.AssertStatus(HttpStatusCode.Created);
        var build = await valet.WaitForBuildAsync("job/pw/", 1);
        Assert.Equal("SUCCESS", build["result"]!.GetValue<string>());
        Assert.Contains("password arrived: ****", await valet.ConsoleAsync("job/pw/", 1));
        Assert.DoesNotContain("hunter2", build.ToJsonString());
        Assert.DoesNotContain("hunter2", (await valet.GetJsonAsync($"queue/item/{response.QueueId()}/api/json")).ToJsonString());
        Assert.DoesNotContain("hunter2", (await valet.GetJsonAsync("audit/api/json")).ToJsonString());
        await valet.StopAsync();
        Assert.DoesNotContain("hunter2", valet.Output);
        foreach (var file in Directory.EnumerateFiles(valet.Home, "*", SearchOption.AllDirectories))
            Assert.DoesNotContain("hunter2", File.ReadAllText(file));
    }

    [Fact]
    public async Task Identical_values_fold_and_different_values_queue_apart()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-31
        using var first = await valet.GetAsync("buildByToken/buildWithParameters?job=withparams&token=secret&foo=1&pw=x");
        first.AssertStatus(HttpStatusCode.Created);
        using var same = await valet.GetAsync("buildByToken/buildWithParameters?job=withparams&token=secret&pw=x&foo=1");
        same.AssertStatus(HttpStatusCode.SeeOther);
        Assert.EndsWith($"/queue/item/{first.QueueId()}/", same.Headers.Location!.ToString());
        using var otherPassword = await valet.GetAsync("buildByToken/buildWithParameters?job=withparams&token=secret&foo=1&pw=y");
        otherPassword.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(2, (await valet.QueueItemsAsync()).Count);
    }

    [Fact]
    public async Task A_multipart_post_takes_text_fields_and_ignores_files()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-59
        using var content = new MultipartFormDataContent
        {
            { new StringContent("v"), "foo" },
            { new ByteArrayContent("file body"u8.ToArray()), "baz", "baz.txt" },
        };
        using var response = await valet.Anonymous().PostAsync("buildByToken/buildWithParameters?job=withparams&token=secret", content);
        var values = await ValuesAsync(valet, response);
        Assert.Equal("v", values["foo"]!.GetValue<string>());
        Assert.Equal("", values["baz"]!.GetValue<string>());
    }
}
