using Valet.Core.Configuration;
using Valet.Core.Items;
using Xunit;

namespace Valet.Core.Tests.Configuration;

/// <summary>The one validator, fed by each format adapter: every error carries where it was written.</summary>
public sealed class ConfigValidatorTests
{
    static IReadOnlyList<ConfigError> YamlErrors(string yaml, Func<string, string?>? env = null)
    {
        var document = YamlConfig.Read("valet.yaml", yaml);
        Assert.Empty(document.Errors);
        var (config, errors) = ConfigValidator.ValidateFile(document.Root, env ?? (_ => null));
        Assert.Null(config);
        return errors;
    }

    static IReadOnlyList<ConfigError> JsonErrors(string json, string fullName = "team/app")
    {
        var document = JsonConfig.Read("config.json", json);
        Assert.Empty(document.Errors);
        var (entry, errors) = ConfigValidator.ValidateItem(document.Root!, fullName);
        Assert.Null(entry);
        return errors;
    }

    static ItemEntry JsonEntry(string json, string fullName = "team/app")
    {
        var document = JsonConfig.Read("config.json", json);
        Assert.Empty(document.Errors);
        var (entry, errors) = ConfigValidator.ValidateItem(document.Root!, fullName);
        Assert.Empty(errors);
        return entry!;
    }

    [Fact]
    public void Yaml_errors_carry_file_line_and_key_path()
    {
        var errors = YamlErrors("""
            jobs:
              - name: a
                parameters:
                  - { type: string, name: ok }
                  - type: number
                    name: n
            """);

        var error = Assert.Single(errors);
        Assert.Equal(new SourceLocation("valet.yaml", 5, "jobs[0].parameters[1].type"), error.At);
        Assert.Equal("unknown parameter type 'number' (string, text, boolean, choice, password)", error.Message);
        Assert.Equal("valet.yaml:5: jobs[0].parameters[1].type: unknown parameter type 'number' (string, text, boolean, choice, password)", error.ToString());
    }

    [Fact]
    public void Yaml_errors_are_all_reported_in_line_order_each_at_its_own_place()
    {
        var errors = YamlErrors("""
            security:
              users:
                - { id: x, password: "${NOPE}" }
            jobs:
              - name: a
                concurrent: maybe
                triggers: { pollScm: [1] }
            server:
              executors: 0
            """);

        Assert.Equal(
            [
                new SourceLocation("valet.yaml", 3, "security.users[0].password"),
                new SourceLocation("valet.yaml", 6, "jobs[0].concurrent"),
                new SourceLocation("valet.yaml", 7, "jobs[0].triggers.pollScm"),
                new SourceLocation("valet.yaml", 9, "server.executors"),
            ],
            errors.Select(e => e.At));
    }

    [Fact]
    public void An_unknown_key_is_located_at_the_key()
    {
        var error = Assert.Single(YamlErrors("jobs:\n  - name: a\n\n    colour: red\n"));

        Assert.Equal(new SourceLocation("valet.yaml", 4, "jobs[0].colour"), error.At);
    }

    [Fact]
    public void A_missing_key_is_located_at_the_mapping_that_lacks_it()
    {
        var error = Assert.Single(YamlErrors("jobs:\n  - name: a\n    parameters:\n      - type: string\n        default: x\n"));

        Assert.Equal(new SourceLocation("valet.yaml", 4, "jobs[0].parameters[0]"), error.At);
        Assert.Equal("missing required key 'name'", error.Message);
    }

    [Theory]
    [InlineData("{*a : 1, *a : 2}\n")]
    [InlineData("jobs:\n  - {*x : 1, *y : 2}\nother: &x 1\n")]
    [InlineData("? *a\n? *b\n")]
    public void An_alias_before_its_anchor_is_an_error_not_a_crash(string yaml)
    {
        var document = YamlConfig.Read("valet.yaml", yaml);

        Assert.Null(document.Root);
        Assert.Matches(@"^valet\.yaml:\d+: the alias \*\w comes before its anchor &\w, or there is none$", Assert.Single(document.Errors).ToString());
    }

    // The second: an anchored mapping whose keys are aliases to it, which overflowed YamlDotNet's stack.
    [Theory]
    [InlineData("jobs: &a\n  - *a\n", 2)]
    [InlineData("&a {*a : 1, *a : 2}\n", 1)]
    public void An_alias_that_contains_itself_is_an_error_not_a_hang_or_a_crash(string yaml, int line)
    {
        var document = YamlConfig.Read("valet.yaml", yaml);

        Assert.Null(document.Root);
        Assert.Equal($"valet.yaml:{line}: the alias *a stands inside the value of &a, which cannot contain itself", Assert.Single(document.Errors).ToString());
    }

    [Fact]
    public void Json_errors_carry_the_line_and_the_json_pointer()
    {
        var errors = JsonErrors("""
            {
              "parameters": [
                {"type": "string", "name": "ok"},
                {"type": "number", "name": "n"}
              ],
              "colour": "red"
            }
            """);

        Assert.Equal(
            [
                "config.json:4: /parameters/1/type: unknown parameter type 'number' (string, text, boolean, choice, password)",
                "config.json:6: /colour: unknown key (expected one of name, type, description, disabled, concurrent, quietPeriod, authToken, parameters, scm, triggers, steps, script, scriptPath, permissions)",
            ],
            errors.Select(e => e.ToString()));
        Assert.Equal(new SourceLocation("config.json", 4, "/parameters/1/type"), errors[0].At);
    }

    public static TheoryData<string, string> JsonProblems => new()
    {
        { """{"disabled": "maybe"}""", "config.json:1: /disabled: expected true or false, found 'maybe'" },
        { """{"quietPeriod": 1.5}""", "config.json:1: /quietPeriod: expected a whole number, found '1.5'" },
        { """{"quietPeriod": -1}""", "config.json:1: /quietPeriod: must be at least 0, found -1" },
        { """{"description": {"x": 1}}""", "config.json:1: /description: expected text, found a mapping" },
        { """{"steps": [{"sh": ["a"]}]}""", "config.json:1: /steps/0/sh: expected text, found a list" },
        { """{"type": "pipeline"}""", "config.json:1: a pipeline job needs script, or scm with scriptPath" },
        { """{"scm": {"git": {"url": ""}}}""", "config.json:1: /scm/git/url: must not be empty" },
        { """{"permissions": {"bob": ["Overall/Administer"]}}""", "config.json:1: /permissions/bob/0: 'Overall/Administer' applies to the whole server; item grants take Job permissions" },
        { """{"permissions": {"a/b": ["Job/Read"]}}""", "config.json:1: /permissions/a~1b: 'a/b' is not a user id, 'authenticated' or 'anonymous' (a user id must match [A-Za-z0-9._-]{1,64})" },
        { """{"type": "folder", "steps": []}""", "config.json:1: /steps: unknown key (expected one of name, description, permissions)" },
        { """{"name": "a?b"}""", "config.json:1: /name: 'a?b': a name must not contain '?' (none of ?*/\\%!@#$^&|<>[]:;)" },
        { "[1]", "config.json:1: an item entry must be an object" },
    };

    [Theory]
    [MemberData(nameof(JsonProblems))]
    public void Json_entries_get_the_file_format_checks_located_by_pointer(string json, string expected) =>
        Assert.Equal(expected, Assert.Single(JsonErrors(json)).ToString());

    [Fact]
    public void Json_duplicate_parameter_names_name_the_line_of_the_first()
    {
        var error = Assert.Single(JsonErrors("{\"parameters\": [\n  {\"type\": \"string\", \"name\": \"P\"},\n  {\"type\": \"text\", \"name\": \"P\"}\n]}"));

        Assert.Equal("config.json:3: /parameters/1/name: parameter 'P' is already defined at line 2", error.ToString());
    }

    [Fact]
    public void Json_duplicate_keys_are_errors_at_the_second()
    {
        var document = JsonConfig.Read("config.json", "{\n  \"description\": \"a\",\n  \"description\": \"b\"\n}");

        Assert.Null(document.Root);
        Assert.Equal("config.json:3: /description: duplicate key 'description'", Assert.Single(document.Errors).ToString());
    }

    [Theory]
    [InlineData("{ not json", "config.json:1: ")]
    [InlineData("{\n  \"a\": 1,\n}", "config.json:3: ")]
    [InlineData("{} {}", "config.json:1: ")]
    public void Malformed_json_is_an_error_naming_the_line(string json, string expectedStart)
    {
        var document = JsonConfig.Read("config.json", json);

        Assert.Null(document.Root);
        var error = Assert.Single(document.Errors).ToString();
        Assert.StartsWith(expectedStart, error);
        Assert.DoesNotContain("LineNumber", error);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \n")]
    [InlineData("null")]
    public void An_empty_json_body_holds_nothing(string json)
    {
        var document = JsonConfig.Read("config.json", json);

        Assert.Null(document.Root);
        Assert.Empty(document.Errors);
    }

    [Fact]
    public void A_json_entry_reads_as_the_same_yaml_entry_would()
    {
        var entry = JsonEntry("""
            {"type": "freestyle", "description": "d", "disabled": true, "concurrent": false, "quietPeriod": 3,
             "parameters": [{"type": "boolean", "name": "B", "default": true}, {"type": "choice", "name": "C", "choices": ["x", "y"]}],
             "scm": {"git": {"url": "/srv/repo"}},
             "triggers": {"pollScm": "", "cron": "H 2 * * *"},
             "steps": [{"sh": "echo ${HOME}"}],
             "authToken": "t"}
            """);

        Assert.Equal("team/app", entry.FullName);
        Assert.Equal("t", entry.AuthToken);
        var job = Assert.IsType<FreestyleJob>(entry.Definition);
        Assert.Equal("d", job.Description);
        Assert.True(job.Disabled);
        Assert.Equal(3, job.QuietPeriod);
        Assert.Equal("true", job.Parameters[0].Default);
        Assert.Equal(["x", "y"], job.Parameters[1].Choices);
        Assert.Equal(new GitScm("/srv/repo", "main"), job.Scm);
        Assert.Equal([new PollScmTrigger(""), new CronTrigger("H 2 * * *")], job.Triggers);
        Assert.Equal(["echo ${HOME}"], job.Steps);
    }

    [Fact]
    public void A_json_entry_is_never_substituted()
    {
        var job = JsonEntry("""{"description": "${HOME} and ${1}"}""");

        Assert.Equal("${HOME} and ${1}", job.Definition.Description);
    }

    [Fact]
    public void A_json_folder_entry_is_a_folder()
    {
        var entry = JsonEntry("""{"name": "team", "type": "folder", "description": "Team", "permissions": {"bob": ["Job/Read"]}}""", "team");

        var folder = Assert.IsType<Folder>(entry.Definition);
        Assert.Equal("Team", folder.Description);
        Assert.Equal(["Job/Read"], folder.Permissions["bob"]);
        Assert.Null(entry.AuthToken);
    }

    [Fact]
    public void A_pipeline_entry_keeps_only_pipeline_settings()
    {
        var entry = JsonEntry("""{"type": "pipeline", "scm": {"git": {"url": "u", "branch": "dev"}}}""");

        var pipeline = Assert.IsType<PipelineJob>(entry.Definition);
        Assert.Null(pipeline.Script);
        Assert.Equal("Jenkinsfile", pipeline.ScriptPath);
    }

    [Fact]
    public void An_invalid_cron_spec_is_an_error_naming_the_job_the_field_and_the_spec()
    {
        var errors = YamlErrors("""
            jobs:
              - name: nightly
                triggers:
                  pollScm: "H/5 * * * *"
                  cron: "0 25 * * *"
            """);

        var error = Assert.Single(errors);
        Assert.Equal(new SourceLocation("valet.yaml", 5, "jobs[0].triggers.cron"), error.At);
        Assert.Equal("job 'nightly': triggers.cron: invalid cron spec '0 25 * * *': hour: '25' is out of range 0-23", error.Message);
    }

    [Fact]
    public void An_invalid_poll_spec_in_an_api_entry_is_an_error()
    {
        var error = Assert.Single(JsonErrors("""{"triggers": {"pollScm": "H H H"}}"""));
        Assert.Contains("job 'team/app': triggers.pollScm: invalid cron spec 'H H H': expected 5 fields", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_git_credentials_reference_is_kept_and_written_back()
    {
        var entry = JsonEntry("""{"scm": {"git": {"url": "git@example.com:team/app.git", "branch": "main", "credentials": "deploy-key.prod_1"}}}""");

        var job = Assert.IsType<FreestyleJob>(entry.Definition);
        Assert.Equal(new GitScm("git@example.com:team/app.git", "main", "deploy-key.prod_1"), job.Scm);
        var written = ConfigWriter.Entry(new Item(1, null, "app", "team/app", job, null, 1));
        Assert.Equal("""{"url":"git@example.com:team/app.git","branch":"main","credentials":"deploy-key.prod_1"}""", written["scm"]!["git"]!.ToJsonString());
    }

    [Theory]
    [InlineData("hunter2 with spaces")]
    [InlineData("user:password")]
    [InlineData("")]
    public void A_credentials_value_that_is_not_an_id_is_an_error_saying_it_is_a_reference(string value)
    {
        var error = Assert.Single(JsonErrors("""{"scm": {"git": {"url": "https://example.com/r.git", "credentials": """ + $"\"{value}\"" + "}}}"));
        Assert.Equal($"'{value}' is not a credentials id (1-256 letters, digits, '_', '.' or '-'): it names credentials in a store, it is not a secret", error.Message);
    }
}
