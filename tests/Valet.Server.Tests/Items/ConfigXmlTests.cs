using System.Net;
using System.Text;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Items;

/// <summary>Job management through config.xml (remote-api.md §7, RA-54…60).</summary>
public sealed class ConfigXmlTests
{
    const string Config = """
        server:
          quietPeriod: 60
        """;

    const string Job = """
        <?xml version='1.1' encoding='UTF-8'?>
        <project>
          <actions/>
          <description>from xml</description>
          <keepDependencies>false</keepDependencies>
          <properties>
            <hudson.model.ParametersDefinitionProperty>
              <parameterDefinitions>
                <hudson.model.StringParameterDefinition>
                  <name>P</name>
                  <description>a value</description>
                  <defaultValue>d</defaultValue>
                  <trim>false</trim>
                </hudson.model.StringParameterDefinition>
              </parameterDefinitions>
            </hudson.model.ParametersDefinitionProperty>
          </properties>
          <scm class="hudson.scm.NullSCM"/>
          <authToken>clear-job-token-4k2</authToken>
          <builders>
            <hudson.tasks.Shell>
              <command>echo from-xml</command>
              <configuredLocalRules/>
            </hudson.tasks.Shell>
          </builders>
          <publishers>
            <hudson.tasks.Mailer plugin="mailer@472"><recipients>ops@example.com</recipients></hudson.tasks.Mailer>
          </publishers>
        </project>
        """;

    static StringContent Xml(string text) => new(text, Encoding.UTF8, "text/xml");

    static async Task<HttpResponseMessage> CreateAsync(ValetProcess valet, string name, string xml, string prefix = "") =>
        await valet.Admin().PostAsync($"{prefix}createItem?name={name}", Xml(xml));

    static async Task<string> ConfigAsync(ValetProcess valet, string job)
    {
        using var response = await valet.Admin().GetAsync($"job/{job}/config.xml");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/xml", response.Content.Headers.ContentType!.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    static async Task<HttpStatusCode> TriggerAsync(ValetProcess valet, string job, string token)
    {
        using var response = await valet.Admin().PostAsync($"job/{job}/buildWithParameters?token={token}&P=x", null);
        return response.StatusCode;
    }

    [Fact]
    public async Task A_version_1_1_config_xml_creates_the_job_and_reads_back_with_the_token_only_as_its_digest()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var created = await CreateAsync(valet, "x", Job);
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);

        var xml = await ConfigAsync(valet, "x");
        Assert.Contains("<name>P</name>", xml);
        Assert.Contains("<command>echo from-xml</command>", xml);
        Assert.Matches("<authToken>\\{valet-hmac\\}[0-9a-f]{64}</authToken>", xml);
        Assert.DoesNotContain("clear-job-token-4k2", xml);
        var job = await valet.GetJsonAsync("job/x/api/json");
        Assert.Equal("hudson.model.FreeStyleProject", job["_class"]!.GetValue<string>());
        Assert.Equal("from xml", job["description"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Created, await TriggerAsync(valet, "x", "clear-job-token-4k2"));
        foreach (var file in Directory.EnumerateFiles(valet.Home, "*", SearchOption.AllDirectories))
            Assert.DoesNotContain("clear-job-token-4k2", await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task Posting_config_xml_back_changes_nothing_byte_for_byte_and_the_token_still_works()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        (await CreateAsync(valet, "x", Job)).Dispose();
        var first = await ConfigAsync(valet, "x");
        using var posted = await valet.Admin().PostAsync("job/x/config.xml", Xml(first));
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal(first, await ConfigAsync(valet, "x"));
        Assert.Equal(HttpStatusCode.Created, await TriggerAsync(valet, "x", "clear-job-token-4k2"));
    }

    [Fact]
    public async Task Unknown_elements_are_kept_in_place_and_named_in_warnings()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var created = await CreateAsync(valet, "x", Job);
        var warnings = created.Headers.GetValues("X-Valet-Warning").ToList();
        Assert.Contains("/project/publishers kept, not used", warnings);
        Assert.Contains("/project/builders/hudson.tasks.Shell/configuredLocalRules kept, not used", warnings);
        Assert.DoesNotContain(warnings, w => w.Contains("keepDependencies", StringComparison.Ordinal));
        var xml = await ConfigAsync(valet, "x");
        Assert.Contains("<recipients>ops@example.com</recipients>", xml);
        Assert.True(xml.IndexOf("<builders>", StringComparison.Ordinal) < xml.IndexOf("<publishers>", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_new_auth_token_replaces_the_old_one()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        (await CreateAsync(valet, "x", Job)).Dispose();
        using var posted = await valet.Admin().PostAsync("job/x/config.xml", Xml(Job.Replace("clear-job-token-4k2", "new", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, await TriggerAsync(valet, "x", "clear-job-token-4k2"));
        Assert.Equal(HttpStatusCode.Created, await TriggerAsync(valet, "x", "new"));
    }

    [Theory]
    [InlineData("<project><description>", "bad-config")]
    [InlineData("<?xml version=\"1.0\"?><!DOCTYPE project [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><project><description>&e;</description></project>", "DTD")]
    [InlineData("<hudson.matrix.MatrixProject/>", "unknown item class")]
    [InlineData("<flow-definition/>", "pipeline issue")]
    [InlineData("<project><triggers><hudson.triggers.TimerTrigger><spec>not cron</spec></hudson.triggers.TimerTrigger></triggers></project>", "/project/triggers/hudson.triggers.TimerTrigger/spec")]
    public async Task Bad_config_xml_answers_400_naming_the_problem_and_creates_nothing(string xml, string named)
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var response = await CreateAsync(valet, "bad", xml);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(named, await response.Content.ReadAsStringAsync());
        using var job = await valet.Admin().GetAsync("job/bad/api/json");
        Assert.Equal(HttpStatusCode.NotFound, job.StatusCode);
    }

    [Fact]
    public async Task A_taken_name_or_a_bad_post_leaves_the_existing_job_untouched()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        (await CreateAsync(valet, "x", Job)).Dispose();
        var before = await ConfigAsync(valet, "x");
        using var taken = await CreateAsync(valet, "X", Job.Replace("from xml", "other", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, taken.StatusCode);
        using var bad = await valet.Admin().PostAsync("job/x/config.xml", Xml("<project><description>"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var folder = await valet.Admin().PostAsync("job/x/config.xml", Xml("<com.cloudbees.hudson.plugins.folder.Folder/>"));
        Assert.Equal(HttpStatusCode.BadRequest, folder.StatusCode);
        Assert.Equal(before, await ConfigAsync(valet, "x"));
    }

    [Fact]
    public async Task A_body_over_1_MiB_answers_413()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var response = await CreateAsync(valet, "big", "<project><description>" + new string('a', 2 * 1024 * 1024) + "</description></project>");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var job = await valet.Admin().GetAsync("job/big/api/json");
        Assert.Equal(HttpStatusCode.NotFound, job.StatusCode);
    }

    [Fact]
    public async Task A_folder_holds_jobs_created_inside_it_and_a_copy_keeps_config_and_token()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        (await CreateAsync(valet, "dir", "<com.cloudbees.hudson.plugins.folder.Folder><description>d</description></com.cloudbees.hudson.plugins.folder.Folder>")).Dispose();
        using var inner = await CreateAsync(valet, "x", Job, "job/dir/");
        Assert.Equal(HttpStatusCode.OK, inner.StatusCode);
        Assert.Equal("com.cloudbees.hudson.plugins.folder.Folder", (await valet.GetJsonAsync("job/dir/api/json"))["_class"]!.GetValue<string>());

        using var copy = await valet.Admin().PostAsync("job/dir/createItem?name=y&mode=copy&from=x", null);
        Assert.Equal(HttpStatusCode.Found, copy.StatusCode);
        Assert.Equal(valet.BaseAddress + "job/dir/job/y/", copy.Headers.Location!.ToString());
        Assert.Equal(await ConfigAsync(valet, "dir/job/x"), await ConfigAsync(valet, "dir/job/y"));
        Assert.Equal(HttpStatusCode.Created, await TriggerAsync(valet, "dir/job/y", "clear-job-token-4k2"));

        using var missing = await valet.Admin().PostAsync("createItem?name=z&mode=copy&from=nothing", null);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        using var noParent = await CreateAsync(valet, "x", Job, "job/nowhere/");
        Assert.Equal(HttpStatusCode.NotFound, noParent.StatusCode);
    }

    [Fact]
    public async Task Disable_enable_description_and_doDelete_answer_as_jenkins_does()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        (await CreateAsync(valet, "x", Job)).Dispose();
        Assert.Equal(HttpStatusCode.Created, await TriggerAsync(valet, "x", "clear-job-token-4k2"));
        var admin = valet.Admin();

        using (var disabled = await admin.PostAsync("job/x/disable", null))
        {
            Assert.Equal(HttpStatusCode.Found, disabled.StatusCode);
            Assert.Equal(valet.BaseAddress + "job/x/", disabled.Headers.Location!.ToString());
        }
        var job = await valet.GetJsonAsync("job/x/api/json");
        Assert.Equal("disabled", job["color"]!.GetValue<string>());
        Assert.False(job["inQueue"]!.GetValue<bool>());
        using (var enabled = await admin.PostAsync("job/x/enable", null))
            Assert.Equal(HttpStatusCode.Found, enabled.StatusCode);
        Assert.True((await valet.GetJsonAsync("job/x/api/json"))["buildable"]!.GetValue<bool>());

        using (var described = await admin.PostAsync("job/x/description", new FormUrlEncodedContent([new("description", "new words")])))
            Assert.Equal(HttpStatusCode.NoContent, described.StatusCode);
        Assert.Equal("new words", await admin.GetStringAsync("job/x/description"));

        using (var deleted = await admin.PostAsync("job/x/doDelete", null))
        {
            Assert.Equal(HttpStatusCode.Found, deleted.StatusCode);
            Assert.Equal(valet.BaseAddress.ToString(), deleted.Headers.Location!.ToString());
        }
        using var gone = await admin.GetAsync("job/x/api/json");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Without_create_permission_createItem_is_refused_and_nothing_is_made()
    {
        await using var valet = await ValetProcess.StartAsync("""
            security:
              users:
                - { id: reader, password: reader-pw-2 }
              permissions:
                reader: [Overall/Read, Job/Read]
            """);
        var reader = valet.Client("reader", "reader-pw-2", crumbs: true);
        using var response = await reader.PostAsync("createItem?name=x", Xml(Job));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("hudson.model.Item.Create", response.Headers.GetValues("X-Required-Permission").Single());
        using var job = await reader.GetAsync("job/x/api/json");
        Assert.Equal(HttpStatusCode.NotFound, job.StatusCode);
    }

    [Fact]
    public async Task An_unknown_builder_fails_each_build_before_its_first_step_and_is_kept()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        const string xml = """
            <project>
              <quietPeriod>0</quietPeriod>
              <authToken>ant-token-8v</authToken>
              <builders>
                <hudson.tasks.Shell><command>echo step-ran</command></hudson.tasks.Shell>
                <hudson.tasks.Ant plugin="ant@1.0"><targets>all</targets></hudson.tasks.Ant>
              </builders>
            </project>
            """;
        using var created = await CreateAsync(valet, "ant", xml);
        Assert.Contains("/project/builders/hudson.tasks.Ant kept, not used", created.Headers.GetValues("X-Valet-Warning"));
        using (var trigger = await valet.Admin().PostAsync("job/ant/build?token=ant-token-8v", null))
            Assert.Equal(HttpStatusCode.Created, trigger.StatusCode);
        await ValetProcess.WaitUntilAsync(async () =>
        {
            using var build = await valet.Admin().GetAsync("job/ant/1/api/json");
            return build.IsSuccessStatusCode && !(await valet.GetJsonAsync("job/ant/1/api/json"))["building"]!.GetValue<bool>();
        }, TimeSpan.FromSeconds(60), "the build to finish");
        Assert.Equal("FAILURE", (await valet.GetJsonAsync("job/ant/1/api/json"))["result"]!.GetValue<string>());
        var console = await valet.Admin().GetStringAsync("job/ant/1/consoleText");
        Assert.Contains("hudson.tasks.Ant", console);
        Assert.DoesNotContain("step-ran", console);
        Assert.Contains("<targets>all</targets>", await ConfigAsync(valet, "ant"));
    }
}
