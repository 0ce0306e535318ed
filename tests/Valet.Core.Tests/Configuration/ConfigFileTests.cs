using Valet.Core.Configuration;
using Valet.Core.Items;
using Xunit;

namespace Valet.Core.Tests.Configuration;

public sealed class ConfigFileTests
{
    // The example from interface.md, word for word.
    const string Example = """
        server:
          executors: 2                   # default: number of CPU cores
          quietPeriod: 5                 # seconds; server-wide default for jobs
          rootUrl: https://ci.example.com/   # optional public URL used in absolute links
          trustedProxies: [10.0.0.5, 192.168.0.0/24]  # peers whose X-Forwarded-* headers are believed; default none

        security:
          users:
            - id: alice
              password: ${ALICE_PASSWORD}
              fullName: Alice Example
          # Authorization matrix. Keys: a user id, `authenticated` (every signed-in
          # user) or `anonymous`. Values: permission names as in the remote API spec.
          # Default when the section is absent: admin -> Overall/Administer;
          # authenticated -> Overall/Read, Job/Read, Job/Build, Job/Cancel;
          # anonymous -> nothing.
          permissions:
            admin: [Overall/Administer]
            authenticated: [Overall/Read, Job/Read, Job/Build, Job/Cancel]
            anonymous: []
          # Brute-force guard for the /buildByToken endpoints (see spec/build-token-root.md).
          triggerGuard: { enabled: true, maxFailures: 10, windowSeconds: 60 }

        folders:
          - name: team                   # full name; parents are created as needed
            description: Team A
            permissions:                 # optional, on folders and jobs: grants added to the
              bob: [Job/Read, Job/Build] # global ones for this item and everything below it

        jobs:
          - name: team/app/deploy        # full name: folders joined with '/'
            type: freestyle              # freestyle (default) | pipeline
            description: Deploys the app
            disabled: false
            concurrent: false            # allow builds of this job to run at once
            quietPeriod: 0               # seconds; overrides the server default
            authToken: ${DEPLOY_TOKEN}   # "Trigger builds remotely" token
            parameters:
              - { type: string,   name: Type,  default: Mexican, trim: true, description: Food }
              - { type: choice,   name: Size,  choices: [S, M, L] }
              - { type: boolean,  name: Spicy, default: false }
              - { type: text,     name: Notes }
              - { type: password, name: Secret }
            scm:
              git: { url: https://example.com/repo.git, branch: main }
            triggers:
              pollScm: "H/5 * * * *"     # Jenkins cron syntax; "" = polling only on request
              cron: "H 2 * * 1-5"
            steps:                       # freestyle only: run in order, each must succeed
              - sh: |
                  echo "Building $Type #${BUILD_NUMBER}"
            # pipeline only, one of:
            # script: |
            #   pipeline { agent any; stages { stage('Build') { steps { sh 'make' } } } }
            # scriptPath: Jenkinsfile    # read from the job's scm checkout
        """;

    static readonly Dictionary<string, string> Env = new()
    {
        ["ALICE_PASSWORD"] = "s3cret",
        ["DEPLOY_TOKEN"] = "tok-123",
        ["N"] = "4",
        ["EMPTY"] = "",
        ["YES"] = "TRUE",
    };

    static ConfigResult Parse(string yaml, string path = "/etc/valet/valet.yaml") =>
        ConfigFile.Parse(path, yaml, name => Env.GetValueOrDefault(name));

    static ValetConfig Valid(string yaml)
    {
        var result = Parse(yaml);
        Assert.Empty(result.Errors);
        return Assert.IsType<ValetConfig>(result.Config);
    }

    static string Error(string yaml)
    {
        var result = Parse(yaml);
        Assert.Null(result.Config);
        return Assert.Single(result.Errors);
    }

    [Fact]
    public void The_interface_example_parses_to_the_values_it_shows()
    {
        var config = Valid(Example);

        Assert.Equal(2, config.Server.Executors);
        Assert.Equal(5, config.Server.QuietPeriod);
        Assert.Equal("https://ci.example.com/", config.Server.RootUrl);
        Assert.Equal(["10.0.0.5", "192.168.0.0/24"], config.Server.TrustedProxies);

        Assert.Equal([new UserEntry("alice", "s3cret", "Alice Example")], config.Security.Users);
        var matrix = Assert.IsAssignableFrom<IReadOnlyDictionary<string, IReadOnlyList<string>>>(config.Security.Permissions);
        Assert.Equal(["admin", "authenticated", "anonymous"], matrix.Keys);
        Assert.Equal(["Overall/Administer"], matrix["admin"]);
        Assert.Equal(["Overall/Read", "Job/Read", "Job/Build", "Job/Cancel"], matrix["authenticated"]);
        Assert.Empty(matrix["anonymous"]);
        Assert.Equal(new TriggerGuardSettings { Enabled = true, MaxFailures = 10, WindowSeconds = 60 }, config.Security.TriggerGuard);

        var folder = Assert.Single(config.Folders);
        Assert.Equal("team", folder.FullName);
        Assert.Null(folder.AuthToken);
        var f = Assert.IsType<Folder>(folder.Definition);
        Assert.Equal("Team A", f.Description);
        Assert.Equal(["Job/Read", "Job/Build"], f.Permissions["bob"]);

        var job = Assert.Single(config.Jobs);
        Assert.Equal("team/app/deploy", job.FullName);
        Assert.Equal("tok-123", job.AuthToken);
        var c = Assert.IsType<FreestyleJob>(job.Definition);
        Assert.Equal("Deploys the app", c.Description);
        Assert.False(c.Disabled);
        Assert.False(c.Concurrent);
        Assert.Equal(0, c.QuietPeriod);
        Assert.Equal(new GitScm("https://example.com/repo.git", "main"), c.Scm);
        Assert.Equal([new PollScmTrigger("H/5 * * * *"), new CronTrigger("H 2 * * 1-5")], c.Triggers);
        Assert.Equal(["echo \"Building $Type #${BUILD_NUMBER}\"\n"], c.Steps);
        Assert.Empty(c.Permissions);

        Assert.Equal(5, c.Parameters.Count);
        Assert.Equal(new ParameterDefinition { Type = ParameterType.String, Name = "Type", Default = "Mexican", Trim = true, Description = "Food" }, c.Parameters[0]);
        Assert.Equal(ParameterType.Choice, c.Parameters[1].Type);
        Assert.Equal("Size", c.Parameters[1].Name);
        Assert.Equal(["S", "M", "L"], c.Parameters[1].Choices);
        Assert.Null(c.Parameters[1].Default);
        Assert.Equal("S", c.Parameters[1].DefaultValue);
        Assert.Equal(new ParameterDefinition { Type = ParameterType.Boolean, Name = "Spicy", Default = "false" }, c.Parameters[2]);
        Assert.Equal(new ParameterDefinition { Type = ParameterType.Text, Name = "Notes" }, c.Parameters[3]);
        Assert.Equal(new ParameterDefinition { Type = ParameterType.Password, Name = "Secret" }, c.Parameters[4]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    [InlineData("# only a comment\n  # and another\n")]
    [InlineData("---\n")]
    [InlineData("~\n")]
    public void Empty_file_or_only_comments_is_a_valid_empty_config(string yaml)
    {
        var config = Valid(yaml);

        Assert.Equal(new ServerSettings().QuietPeriod, config.Server.QuietPeriod);
        Assert.Null(config.Server.Executors);
        Assert.Null(config.Security.Permissions);
        Assert.Empty(config.Folders);
        Assert.Empty(config.Jobs);
    }

    [Fact]
    public void Absent_sections_and_null_values_take_the_defaults()
    {
        var config = Valid("""
            server:
              executors: ~
              quietPeriod:
              rootUrl: null
            security:
              permissions:
            jobs:
              - name: plain
                description: ~
                authToken:
            """);

        Assert.Null(config.Server.Executors);
        Assert.Equal(5, config.Server.QuietPeriod);
        Assert.Null(config.Server.RootUrl);
        Assert.Null(config.Security.Permissions);
        Assert.Equal(new TriggerGuardSettings(), config.Security.TriggerGuard);
        var job = Assert.Single(config.Jobs);
        Assert.Null(job.AuthToken);
        var definition = Assert.IsType<FreestyleJob>(job.Definition);
        Assert.Equal("", definition.Description);
        Assert.Null(definition.QuietPeriod);
        Assert.Empty(definition.Triggers);
        Assert.Empty(definition.Steps);
    }

    [Fact]
    public void Unknown_key_is_an_error_naming_file_line_and_key()
    {
        var error = Error("""
            server:
              executors: 2
              colour: blue
            """);

        Assert.StartsWith("valet.yaml:3: server.colour: unknown key (expected one of executors, quietPeriod, rootUrl, trustedProxies, maxQueuedPerJob, environment)", error);
    }

    [Fact]
    public void Errors_name_the_file_without_its_directory()
    {
        var result = ConfigFile.Parse("/home/ci/conf/my-valet.yml", "nope: 1\n", _ => null);

        Assert.Equal(["my-valet.yml:1: nope: unknown key (expected one of server, security, folders, jobs)"], result.Errors);
    }

    [Fact]
    public void Unset_environment_variable_is_an_error_naming_it_and_its_key()
    {
        var error = Error("""
            security:
              users:
                - id: bob
                  password: ${BOB_PASSWORD}
            """);

        Assert.Equal("valet.yaml:4: security.users[0].password: environment variable BOB_PASSWORD is not set", error);
    }

    [Theory]
    [InlineData("${DEPLOY_TOKEN}", "tok-123")]
    [InlineData("a-${DEPLOY_TOKEN}-${N}", "a-tok-123-4")]
    [InlineData("$${DEPLOY_TOKEN}", "${DEPLOY_TOKEN}")]
    [InlineData("$${UNSET_ONE}", "${UNSET_ONE}")]
    [InlineData("'$$${N}'", "$${N}")]
    [InlineData("cost $5 and $$ and $N", "cost $5 and $$ and $N")]
    [InlineData("${EMPTY}", "")]
    [InlineData("'${N}'", "4")]
    public void Environment_references_are_replaced_and_double_dollar_writes_a_literal(string written, string expected)
    {
        var config = Valid($"jobs:\n  - name: j\n    authToken: {written}\n");

        Assert.Equal(expected, Assert.Single(config.Jobs).AuthToken);
    }

    [Fact]
    public void Sh_steps_and_pipeline_scripts_are_never_substituted()
    {
        var config = Valid("""
            jobs:
              - name: free
                steps:
                  - sh: echo ${UNSET_ONE} ${x:-y} $${N}
                  - sh: |
                      echo ${#x} ${BUILD_NUMBER}
              - name: pipe
                type: pipeline
                script: |
                  pipeline { agent any; stages { stage('B') { steps { sh 'echo ${UNSET_ONE}' } } } }
            """);

        Assert.Equal(["echo ${UNSET_ONE} ${x:-y} $${N}", "echo ${#x} ${BUILD_NUMBER}\n"], Assert.IsType<FreestyleJob>(config.Jobs[0].Definition).Steps);
        Assert.Equal("pipeline { agent any; stages { stage('B') { steps { sh 'echo ${UNSET_ONE}' } } } }", Assert.IsType<PipelineJob>(config.Jobs[1].Definition).Script);
    }

    [Fact]
    public void Substitution_happens_before_type_conversion()
    {
        var config = Valid("""
            server:
              executors: ${N}
            jobs:
              - name: j
                concurrent: "${YES}"
            """);

        Assert.Equal(4, config.Server.Executors);
        Assert.True(Assert.IsAssignableFrom<JobDefinition>(config.Jobs[0].Definition).Concurrent);
    }

    [Fact]
    public void Empty_auth_token_is_kept_so_applying_removes_the_token()
    {
        var config = Valid("jobs:\n  - name: a\n    authToken: \"\"\n  - name: b\n");

        Assert.Equal("", config.Jobs[0].AuthToken);
        Assert.Null(config.Jobs[1].AuthToken);
    }

    [Theory]
    [InlineData("https://ci.example.com", "https://ci.example.com/")]
    [InlineData("http://ci.example.com:8080/valet", "http://ci.example.com:8080/valet/")]
    [InlineData("https://ci.example.com/valet/", "https://ci.example.com/valet/")]
    public void Root_url_gets_a_trailing_slash(string written, string expected) =>
        Assert.Equal(expected, Valid($"server:\n  rootUrl: {written}\n").Server.RootUrl);

    [Fact]
    public void Trusted_proxies_take_addresses_and_ranges_of_both_families()
    {
        var config = Valid("server:\n  trustedProxies: [127.0.0.1, ::1, 10.0.0.0/8, 'fd00::/8']\n");

        Assert.Equal(["127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"], config.Server.TrustedProxies);
    }

    [Fact]
    public void Pipeline_with_scm_and_no_script_reads_the_jenkinsfile()
    {
        var config = Valid("""
            jobs:
              - name: p
                type: pipeline
                scm: { git: { url: /srv/repo } }
            """);

        var job = Assert.IsType<PipelineJob>(config.Jobs[0].Definition);
        Assert.Equal("Jenkinsfile", job.ScriptPath);
        Assert.Equal(new GitScm("/srv/repo", "main"), job.Scm);
    }

    [Fact]
    public void Booleans_accept_true_and_false_in_any_case()
    {
        var config = Valid("""
            jobs:
              - name: j
                disabled: TRUE
                concurrent: False
                parameters:
                  - { type: boolean, name: B, default: True }
                  - { type: boolean, name: C }
            """);

        var job = Assert.IsAssignableFrom<JobDefinition>(config.Jobs[0].Definition);
        Assert.True(job.Disabled);
        Assert.False(job.Concurrent);
        Assert.Equal("true", job.Parameters[0].Default);
        Assert.Equal("false", job.Parameters[1].Default);
    }

    [Fact]
    public void Nested_folders_and_jobs_with_distinct_names_are_accepted()
    {
        var config = Valid("""
            folders:
              - name: team
              - name: team/app
            jobs:
              - name: team/app/build
              - name: team/app/deploy
              - name: Team Two/job (1)
            """);

        Assert.Equal(["team", "team/app"], config.Folders.Select(f => f.FullName));
        Assert.Equal(["team/app/build", "team/app/deploy", "Team Two/job (1)"], config.Jobs.Select(j => j.FullName));
    }

    public static TheoryData<string, string> WrongTypes => new()
    {
        { "server:\n  executors: abc\n", "valet.yaml:2: server.executors: expected a whole number, found 'abc'" },
        { "server:\n  executors: [1, 2]\n", "valet.yaml:2: server.executors: expected a whole number, found a list" },
        { "server:\n  executors: 0\n", "valet.yaml:2: server.executors: must be at least 1, found 0" },
        { "server:\n  quietPeriod: -1\n", "valet.yaml:2: server.quietPeriod: must be at least 0, found -1" },
        { "server:\n  quietPeriod: 1.5\n", "valet.yaml:2: server.quietPeriod: expected a whole number, found '1.5'" },
        { "server: [1]\n", "valet.yaml:1: server: expected a mapping, found a list" },
        { "- a\n- b\n", "valet.yaml:1: expected a mapping, found a list" },
        { "jobs: {name: a}\n", "valet.yaml:1: jobs: expected a list, found a mapping" },
        { "jobs:\n  - just-a-name\n", "valet.yaml:2: jobs[0]: expected a mapping, found 'just-a-name'" },
        { "jobs:\n  - name: a\n    disabled: yes\n", "valet.yaml:3: jobs[0].disabled: expected true or false, found 'yes'" },
        { "jobs:\n  - name: a\n    description: {x: 1}\n", "valet.yaml:3: jobs[0].description: expected text, found a mapping" },
        { "jobs:\n  - name: a\n    steps:\n      - echo hi\n", "valet.yaml:4: jobs[0].steps[0]: expected a mapping, found 'echo hi'" },
        { "jobs:\n  - name: a\n    steps:\n      - sh: [a]\n", "valet.yaml:4: jobs[0].steps[0].sh: expected text, found a list" },
        { "server:\n  trustedProxies: 10.0.0.1\n", "valet.yaml:2: server.trustedProxies: expected a list, found '10.0.0.1'" },
        { "security:\n  triggerGuard: { maxFailures: 0 }\n", "valet.yaml:2: security.triggerGuard.maxFailures: must be at least 1, found 0" },
        { "security:\n  triggerGuard: { enabled: on }\n", "valet.yaml:2: security.triggerGuard.enabled: expected true or false, found 'on'" },
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public void Wrong_types_are_errors_naming_line_and_key(string yaml, string expected) =>
        Assert.Equal(expected, Error(yaml));

    public static TheoryData<string, string> BadValues => new()
    {
        { "server:\n  rootUrl: ci.example.com\n", "valet.yaml:2: server.rootUrl: 'ci.example.com' is not an absolute http or https URL without query or fragment" },
        { "server:\n  rootUrl: ftp://ci.example.com/\n", "valet.yaml:2: server.rootUrl: 'ftp://ci.example.com/' is not an absolute http or https URL without query or fragment" },
        { "server:\n  trustedProxies: [10.0.0.1, proxy.local]\n", "valet.yaml:2: server.trustedProxies[1]: 'proxy.local' is not an IP address or CIDR range (10.0.0.5, 192.168.0.0/24)" },
        { "server:\n  trustedProxies: ['10']\n", "valet.yaml:2: server.trustedProxies[0]: '10' is not an IP address or CIDR range (10.0.0.5, 192.168.0.0/24)" },
        { "server:\n  trustedProxies: [10.0.0.0/33]\n", "valet.yaml:2: server.trustedProxies[0]: '10.0.0.0/33' is not an IP address or CIDR range (10.0.0.5, 192.168.0.0/24)" },
        { "security:\n  users:\n    - { id: 'bad id', password: x }\n", "valet.yaml:3: security.users[0].id: 'bad id': a user id must match [A-Za-z0-9._-]{1,64}" },
        { "security:\n  users:\n    - { id: anonymous, password: x }\n", "valet.yaml:3: security.users[0].id: 'anonymous': 'anonymous' is reserved for the authorization matrix" },
        { "security:\n  users:\n    - { id: bob, password: '' }\n", "valet.yaml:3: security.users[0].password: must not be empty" },
        { "security:\n  users:\n    - { id: bob }\n", "valet.yaml:3: security.users[0]: missing required key 'password'" },
        { "security:\n  users:\n    - { id: bob, password: a }\n    - { id: Bob, password: b }\n", "valet.yaml:4: security.users[1]: user 'Bob' is already defined at line 3 (security.users[0])" },
        { "jobs:\n  - type: freestyle\n", "valet.yaml:2: jobs[0]: missing required key 'name'" },
        { "jobs:\n  - name: a\n    type: matrix\n", "valet.yaml:3: jobs[0].type: unknown job type 'matrix' (freestyle, pipeline)" },
        { "jobs:\n  - name: a\n    script: echo\n", "valet.yaml:3: jobs[0].script: script is for pipeline jobs; a freestyle job runs steps" },
        { "jobs:\n  - name: a\n    type: pipeline\n    script: x\n    steps:\n      - sh: make\n", "valet.yaml:6: jobs[0].steps: steps are for freestyle jobs; a pipeline job runs its script" },
        { "jobs:\n  - name: a\n    type: pipeline\n    script: x\n    scriptPath: Jenkinsfile\n    scm: { git: { url: u } }\n", "valet.yaml:5: jobs[0].scriptPath: a pipeline job takes script or scriptPath, not both" },
        { "jobs:\n  - name: a\n    type: pipeline\n    scriptPath: Jenkinsfile\n", "valet.yaml:2: jobs[0]: scriptPath is read from the job's scm checkout, so the job needs scm" },
        { "jobs:\n  - name: a\n    type: pipeline\n", "valet.yaml:2: jobs[0]: a pipeline job needs script, or scm with scriptPath" },
        { "jobs:\n  - name: a\n    scm: {}\n", "valet.yaml:3: jobs[0].scm: scm needs git: { url, branch }" },
        { "jobs:\n  - name: a\n    scm: { git: { url: '' } }\n", "valet.yaml:3: jobs[0].scm.git.url: must not be empty" },
        { "jobs:\n  - name: a\n    scm: { git: { url: u, branch: '' } }\n", "valet.yaml:3: jobs[0].scm.git.branch: must not be empty" },
        { "jobs:\n  - name: a\n    scm: { svn: { url: u } }\n", "valet.yaml:3: jobs[0].scm.svn: unknown key (expected one of git)" },
        { "jobs:\n  - name: a\n    description: 'costs ${1}'\n", "valet.yaml:3: jobs[0].description: '${' must start a reference ${NAME} with NAME matching [A-Za-z_][A-Za-z0-9_]* (write $${ for a literal ${)" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void Bad_values_are_errors_naming_line_and_key(string yaml, string expected) =>
        Assert.Equal(expected, Error(yaml));

    [Theory]
    [InlineData("a/b?", "'a/b?': segment 'b?': a name must not contain '?'")]
    [InlineData("team//app", "'team//app': segment '': a name must not be empty")]
    [InlineData("/app", "'/app': segment '': a name must not be empty")]
    [InlineData("app/", "'app/': segment '': a name must not be empty")]
    [InlineData("team/..", "'team/..': segment '..': a name must not be '.' or '..'")]
    [InlineData("' app'", "' app': a name must not start or end with a space")]
    [InlineData("a:b", "'a:b': a name must not contain ':'")]
    [InlineData("\"tab\\there\"", "'tab\there': a name must not contain control characters")]
    public void Bad_item_names_are_errors_naming_the_segment_and_the_rule(string written, string expected)
    {
        var error = Error($"jobs:\n  - name: {written}\n");

        Assert.StartsWith($"valet.yaml:2: jobs[0].name: {expected}", error);
    }

    [Fact]
    public void Item_name_longer_than_two_hundred_characters_is_an_error()
    {
        var name = new string('x', 201);

        Assert.Equal($"valet.yaml:2: folders[0].name: '{name}': a name must be at most 200 characters", Error($"folders:\n  - name: {name}\n"));
    }

    public static TheoryData<string, string> DuplicateNames => new()
    {
        { "jobs:\n  - name: team/app\n  - name: TEAM/App\n", "valet.yaml:3: jobs[1].name: 'TEAM/App' is already defined at line 2 (jobs[0])" },
        { "folders:\n  - name: team\n  - name: Team\n", "valet.yaml:3: folders[1].name: 'Team' is already defined at line 2 (folders[0])" },
        { "folders:\n  - name: team/app\njobs:\n  - name: team/APP\n", "valet.yaml:4: jobs[0].name: 'team/APP' is both a folder and a job (line 2, folders[0])" },
        { "jobs:\n  - name: a\n  - name: a/b\n", "valet.yaml:3: jobs[1].name: 'a' is a job, not a folder (line 2, jobs[0])" },
        { "folders:\n  - name: x/a/b\njobs:\n  - name: X/A\n", "valet.yaml:2: folders[0].name: 'X/A' is a job, not a folder (line 4, jobs[0])" },
    };

    [Theory]
    [MemberData(nameof(DuplicateNames))]
    public void Duplicate_names_and_jobs_used_as_folders_are_errors(string yaml, string expected) =>
        Assert.Equal(expected, Error(yaml));

    public static TheoryData<string, string> BadPermissions => new()
    {
        { "security:\n  permissions:\n    alice: [Job/Read, Job/Fly]\n", "valet.yaml:3: security.permissions.alice[1]: unknown permission 'Job/Fly' (Overall/Administer, Overall/Read, Job/Discover, Job/Read, Job/Build, Job/Cancel, Job/Configure, Job/Create, Job/Delete, Job/Workspace)" },
        { "security:\n  permissions:\n    alice: [job/read]\n", "valet.yaml:3: security.permissions.alice[0]: unknown permission 'job/read' (Overall/Administer, Overall/Read, Job/Discover, Job/Read, Job/Build, Job/Cancel, Job/Configure, Job/Create, Job/Delete, Job/Workspace)" },
        { "security:\n  permissions:\n    'a b': [Job/Read]\n", "valet.yaml:3: security.permissions.a b: 'a b' is not a user id, 'authenticated' or 'anonymous' (a user id must match [A-Za-z0-9._-]{1,64})" },
        { "security:\n  permissions:\n    alice: Job/Read\n", "valet.yaml:3: security.permissions.alice: expected a list, found 'Job/Read'" },
        { "security:\n  permissions: [alice]\n", "valet.yaml:2: security.permissions: expected a mapping of user id to permission names, found a list" },
        { "folders:\n  - name: f\n    permissions:\n      bob: [Overall/Administer]\n", "valet.yaml:4: folders[0].permissions.bob[0]: 'Overall/Administer' applies to the whole server; item grants take Job permissions" },
        { "jobs:\n  - name: j\n    permissions:\n      bob: [Job/Bild]\n", "valet.yaml:4: jobs[0].permissions.bob[0]: unknown permission 'Job/Bild' (Overall/Administer, Overall/Read, Job/Discover, Job/Read, Job/Build, Job/Cancel, Job/Configure, Job/Create, Job/Delete, Job/Workspace)" },
    };

    [Theory]
    [MemberData(nameof(BadPermissions))]
    public void Bad_permissions_and_principals_are_errors(string yaml, string expected) =>
        Assert.Equal(expected, Error(yaml));

    public static TheoryData<string, string> BadParameters => new()
    {
        { "{ type: foo, name: A }", "valet.yaml:4: jobs[0].parameters[0].type: unknown parameter type 'foo' (string, text, boolean, choice, password)" },
        { "{ name: A }", "valet.yaml:4: jobs[0].parameters[0]: missing required key 'type'" },
        { "{ type: string }", "valet.yaml:4: jobs[0].parameters[0]: missing required key 'name'" },
        { "{ type: string, name: token }", "valet.yaml:4: jobs[0].parameters[0].name: 'token': 'token' is reserved (job, token, delay, cause, id and json are trigger inputs)" },
        { "{ type: string, name: delay }", "valet.yaml:4: jobs[0].parameters[0].name: 'delay': 'delay' is reserved (job, token, delay, cause, id and json are trigger inputs)" },
        { "{ type: string, name: 1st }", "valet.yaml:4: jobs[0].parameters[0].name: '1st': a parameter name must match [A-Za-z_][A-Za-z0-9_]*" },
        { "{ type: string, name: my-param }", "valet.yaml:4: jobs[0].parameters[0].name: 'my-param': a parameter name must match [A-Za-z_][A-Za-z0-9_]*" },
        { "{ type: choice, name: Size, choices: [S, M], default: XL }", "valet.yaml:4: jobs[0].parameters[0].default: 'XL' is not one of the choices (S, M)" },
        { "{ type: choice, name: Size }", "valet.yaml:4: jobs[0].parameters[0]: a choice parameter needs a non-empty choices list" },
        { "{ type: choice, name: Size, choices: [] }", "valet.yaml:4: jobs[0].parameters[0].choices: a choice parameter needs a non-empty choices list" },
        { "{ type: choice, name: Size, choices: [S, M, S] }", "valet.yaml:4: jobs[0].parameters[0].choices[2]: 'S' is listed twice" },
        { "{ type: choice, name: Size, choices: S }", "valet.yaml:4: jobs[0].parameters[0].choices: expected a list, found 'S'" },
        { "{ type: text, name: T, trim: true }", "valet.yaml:4: jobs[0].parameters[0].trim: trim applies only to string parameters" },
        { "{ type: string, name: T, choices: [a] }", "valet.yaml:4: jobs[0].parameters[0].choices: choices apply only to choice parameters" },
        { "{ type: boolean, name: B, default: maybe }", "valet.yaml:4: jobs[0].parameters[0].default: expected true or false, found 'maybe'" },
        { "{ type: string, name: S, trim: 1 }", "valet.yaml:4: jobs[0].parameters[0].trim: expected true or false, found '1'" },
        { "{ type: string, name: S, default: [a] }", "valet.yaml:4: jobs[0].parameters[0].default: expected text, found a list" },
        { "{ type: string, name: S, secret: true }", "valet.yaml:4: jobs[0].parameters[0].secret: unknown key (expected one of type, name, default, description, trim, choices)" },
    };

    [Theory]
    [MemberData(nameof(BadParameters))]
    public void Bad_parameters_are_errors_naming_line_and_key(string parameter, string expected) =>
        Assert.Equal(expected, Error($"jobs:\n  - name: j\n    parameters:\n      - {parameter}\n"));

    [Fact]
    public void Parameter_names_are_unique_per_job()
    {
        var yaml = """
            jobs:
              - name: a
                parameters:
                  - { type: string, name: P }
                  - type: text
                    name: P
              - name: b
                parameters:
                  - { type: string, name: P }
            """;

        Assert.Equal("valet.yaml:6: jobs[0].parameters[1].name: parameter 'P' is already defined at line 4", Error(yaml));
    }

    [Fact]
    public void Every_error_in_the_file_is_reported_in_line_order()
    {
        var result = Parse("""
            server:
              executors: abc
              quietPeriod: -2
            jobs:
              - name: a?b
                parameters:
                  - { type: string, name: job }
              - name: ok
                color: red
            folders:
              - name: f
                permissions: { bob: [Job/Nope] }
            security:
              users:
                - { id: x, password: "${NOPE}" }
            """);

        Assert.Null(result.Config);
        Assert.Equal(
            [
                "valet.yaml:2: server.executors: expected a whole number, found 'abc'",
                "valet.yaml:3: server.quietPeriod: must be at least 0, found -2",
                "valet.yaml:5: jobs[0].name: 'a?b': a name must not contain '?' (none of ?*/\\%!@#$^&|<>[]:;)",
                "valet.yaml:7: jobs[0].parameters[0].name: 'job': 'job' is reserved (job, token, delay, cause, id and json are trigger inputs)",
                "valet.yaml:9: jobs[1].color: unknown key (expected one of name, type, description, disabled, concurrent, quietPeriod, authToken, parameters, scm, triggers, steps, script, scriptPath, permissions)",
                "valet.yaml:12: folders[0].permissions.bob[0]: unknown permission 'Job/Nope' (Overall/Administer, Overall/Read, Job/Discover, Job/Read, Job/Build, Job/Cancel, Job/Configure, Job/Create, Job/Delete, Job/Workspace)",
                "valet.yaml:15: security.users[0].password: environment variable NOPE is not set",
            ],
            result.Errors);
    }

    [Theory]
    [InlineData("server:\n  executors: 2\n   quietPeriod: 3\n", "valet.yaml:3: ")]
    [InlineData("jobs:\n  - name: a\n  - name: b\njobs: []\n", "valet.yaml:4: Duplicate key")]
    [InlineData("server: { executors: 2\n", "valet.yaml:")]
    [InlineData("jobs: [1, 2\nserver: {}\n", "valet.yaml:")]
    [InlineData("jobs: *missing\n", "valet.yaml:")]
    [InlineData("server: {}\n---\njobs: []\n", "valet.yaml:3: the file must hold one YAML document")]
    [InlineData("!tag xX: \n  : ", "valet.yaml:")]
    public void Yaml_syntax_errors_name_the_file_and_line(string yaml, string expectedStart) =>
        Assert.StartsWith(expectedStart, Error(yaml));

    [Theory]
    [InlineData("{\"description\": \"\\ud800\"}")]
    [InlineData("{\"description\": \"a\\udc00b\"}")]
    [InlineData("{\n  \"\\ud83d\": 1}")]
    public void A_json_entry_with_an_unpaired_surrogate_escape_is_an_error_not_an_exception(string json)
    {
        var result = ConfigFile.ParseItem("config.json", json, "p");
        Assert.Null(result.Config);
        Assert.StartsWith("config.json:", Assert.Single(result.Errors));
    }
}
