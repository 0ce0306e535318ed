using CsCheck;
using Valet.Core.Configuration;
using Xunit;

namespace Valet.Core.Tests.Configuration;

/// <summary>
/// The configuration adapters and the validator under arbitrary text: the only failure is a
/// <see cref="ConfigResult"/> with located errors, never an exception.
/// </summary>
public sealed class ConfigFilePropertyTests
{
    const string Valid = """
        server:
          executors: 2
          quietPeriod: 5
          trustedProxies: [10.0.0.1]
        security:
          users:
            - { id: alice, password: "${PW}" }
          permissions:
            anonymous: [Overall/Read]
        folders:
          - name: dir
        jobs:
          - name: dir/p
            authToken: secret
            quietPeriod: 0
            parameters:
              - { type: choice, name: c, choices: [x, y] }
              - { type: boolean, name: b, default: true }
            triggers: { cron: "H/5 * * * *" }
            steps:
              - sh: echo p
        """;

    static void AssertLocated(ConfigResult result, string source)
    {
        Assert.True(result.Config is not null ^ result.Errors.Count > 0);
        Assert.All(result.Errors, e => Assert.StartsWith(source + ":", e));
    }

    static ConfigResult ParseYaml(string text) => ConfigFile.Parse("/etc/valet.yaml", text, name => name == "PW" ? "pw" : null);

    [Fact]
    public void Arbitrary_yaml_is_read_or_refused_with_located_errors() =>
        HostileText.From(40, "jobs:", "folders:", "server:", "security:", "\n", "\n  ", "- ", "name: ", "p", "a/b", ": ", "{", "}", "[", "]", ",",
                "&a ", "*a", "<<: ", "!!binary ", "!tag ", "---\n", "...", "'", "\"", "#", "|\n", ">\n", "? ", "%YAML 1.2\n", "${X}", "~", "null", "1e999", "\t")
            .Sample(text => AssertLocated(ParseYaml(text), "valet.yaml"), iter: 3_000);

    [Fact]
    public void A_valid_file_mutated_at_random_is_read_or_refused_with_located_errors()
    {
        Assert.NotNull(ParseYaml(Valid).Config);
        HostileText.Mutations(Valid, edits: 6).Sample(text => AssertLocated(ParseYaml(text), "valet.yaml"), iter: 3_000);
    }

    [Fact]
    public void Arbitrary_json_item_entries_are_read_or_refused_with_located_errors()
    {
        const string Entry = """{"name":"p","quietPeriod":3,"parameters":[{"type":"choice","name":"c","choices":["x"]}],"steps":[{"sh":"echo"}]}""";
        Assert.NotNull(ConfigFile.ParseItem("config.json", Entry, "p").Config);
        Gen.Frequency(
                (1, HostileText.Mutations(Entry, edits: 6)),
                (1, HostileText.From(30, "{", "}", "[", "]", ":", ",", "\"name\"", "\"type\"", "\"folder\"", "\"parameters\"", "\"steps\"", "\"p\"",
                    "1", "-1", "1e999", "true", "null", "\"\\ud800\"", "\"\\u0000\"")))
            .Sample(text => AssertLocated(ConfigFile.ParseItem("config.json", text, "p"), "config.json"), iter: 5_000);
    }
}
