using Valet.Core.Configuration;
using Valet.Core.Items;
using Xunit;

namespace Valet.Core.Tests.Configuration;

public sealed class XmlConfigTests
{
    static string? NoSecrets(string sealedText) => null;

    static ItemDefinition Definition(string xml)
    {
        var (item, errors) = XmlConfig.Read("config.xml", xml, NoSecrets);
        Assert.Empty(errors);
        var (entry, invalid) = ConfigValidator.ValidateItem(item!.Root, "x");
        Assert.Empty(invalid);
        return entry!.Definition;
    }

    static string Error(string xml)
    {
        var (item, errors) = XmlConfig.Read("config.xml", xml, NoSecrets);
        if (item is not null)
            errors = ConfigValidator.ValidateItem(item.Root, "x").Errors;
        return Assert.Single(errors).ToString();
    }

    [Fact]
    public void Jenkins_version_1_1_declaration_reads_as_1_0()
    {
        var job = Assert.IsType<FreestyleJob>(Definition("<?xml version='1.1' encoding='UTF-8'?>\n<project><description>d</description></project>"));
        Assert.Equal("d", job.Description);
    }

    [Fact]
    public void The_freestyle_subset_maps_to_a_job_definition()
    {
        var job = Assert.IsType<FreestyleJob>(Definition("""
            <project>
              <disabled>true</disabled><concurrentBuild>true</concurrentBuild><quietPeriod>3</quietPeriod>
              <properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions>
                <hudson.model.BooleanParameterDefinition><name>B</name><defaultValue>true</defaultValue></hudson.model.BooleanParameterDefinition>
                <hudson.model.ChoiceParameterDefinition><name>C</name><choices class="java.util.Arrays$ArrayList"><a class="string-array"><string>one</string><string>two</string></a></choices></hudson.model.ChoiceParameterDefinition>
              </parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties>
              <scm class="hudson.plugins.git.GitSCM"><userRemoteConfigs><hudson.plugins.git.UserRemoteConfig><url>https://example.com/r.git</url></hudson.plugins.git.UserRemoteConfig></userRemoteConfigs>
                <branches><hudson.plugins.git.BranchSpec><name>*/main</name></hudson.plugins.git.BranchSpec></branches></scm>
              <triggers><hudson.triggers.SCMTrigger><spec>H/5 * * * *</spec></hudson.triggers.SCMTrigger></triggers>
              <builders><hudson.tasks.Shell><command>make</command></hudson.tasks.Shell><hudson.tasks.Shell><command>make test</command></hudson.tasks.Shell></builders>
            </project>
            """));
        Assert.True(job.Disabled);
        Assert.True(job.Concurrent);
        Assert.Equal(3, job.QuietPeriod);
        Assert.Equal(["B", "C"], job.Parameters.Select(p => p.Name));
        Assert.Equal("true", job.Parameters[0].DefaultValue);
        Assert.Equal(["one", "two"], job.Parameters[1].Choices);
        Assert.Equal(new GitScm("https://example.com/r.git", "main"), job.Scm);
        Assert.Equal(new PollScmTrigger("H/5 * * * *"), Assert.Single(job.Triggers));
        Assert.Equal(["make", "make test"], job.Steps);
    }

    [Fact]
    public void A_git_credentials_id_is_read_and_written_back()
    {
        var job = Assert.IsType<FreestyleJob>(Definition("""
            <project>
              <scm class="hudson.plugins.git.GitSCM"><configVersion>2</configVersion><userRemoteConfigs><hudson.plugins.git.UserRemoteConfig>
                <url>git@example.com:team/app.git</url><credentialsId>0f7c-deploy-key</credentialsId>
              </hudson.plugins.git.UserRemoteConfig></userRemoteConfigs>
              <branches><hudson.plugins.git.BranchSpec><name>*/main</name></hudson.plugins.git.BranchSpec></branches></scm>
            </project>
            """));
        Assert.Equal(new GitScm("git@example.com:team/app.git", "main", "0f7c-deploy-key"), job.Scm);

        var xml = XmlConfig.Write(job, null, null, s => s, NoSecrets);
        Assert.Contains("<credentialsId>0f7c-deploy-key</credentialsId>", xml);
        Assert.Equal(job.Scm, Assert.IsType<FreestyleJob>(Definition(xml)).Scm);
    }

    [Fact]
    public void A_dtd_is_refused_without_reading_any_entity()
    {
        var error = Error("<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><project><description>&e;</description></project>");
        Assert.Contains("DTD", error);
        Assert.DoesNotContain("root:", error);
    }

    [Theory]
    [InlineData("<project><description>", "column")]
    [InlineData("<flow-definition/>", "pipeline issue")]
    [InlineData("<hudson.matrix.MatrixProject/>", "unknown item class")]
    [InlineData("<project><disabled>maybe</disabled></project>", "config.xml:1: /project/disabled: expected true or false")]
    public void Bad_documents_name_the_problem_and_where(string xml, string named) => Assert.Contains(named, Error(xml));

    [Fact]
    public void Unknown_elements_are_listed_and_boilerplate_at_its_default_is_not()
    {
        var (item, _) = XmlConfig.Read("config.xml", "<project><keepDependencies>false</keepDependencies><canRoam>true</canRoam><logRotator><daysToKeep>3</daysToKeep></logRotator><publishers/></project>", NoSecrets);
        Assert.Equal(["/project/logRotator"], item!.Kept);
    }

    [Fact]
    public void A_fresh_document_reads_back_as_the_same_definition()
    {
        var job = new FreestyleJob
        {
            Description = "d",
            QuietPeriod = 2,
            Parameters = [new ParameterDefinition { Type = ParameterType.String, Name = "P", Default = "v", Trim = true }],
            Scm = new GitScm("https://example.com/r.git", "dev"),
            Triggers = [new CronTrigger("H 2 * * *")],
            Steps = ["echo one", "echo two"],
        };
        var xml = XmlConfig.Write(job, null, null, s => s, NoSecrets);
        var back = Assert.IsType<FreestyleJob>(Definition(xml));
        Assert.Equal(job.Steps, back.Steps);
        Assert.Equal(job.Parameters, back.Parameters);
        Assert.Equal(job.Scm, back.Scm);
        Assert.Equal(job.Triggers, back.Triggers);
        Assert.Equal(job.QuietPeriod, back.QuietPeriod);
        Assert.Equal(xml, XmlConfig.Write(back, xml, null, s => s, NoSecrets));
    }

    [Fact]
    public void A_changed_section_is_rewritten_and_the_others_stay_as_stored()
    {
        const string stored = "<project><description>old</description><builders><hudson.tasks.Shell><command>make</command><configuredLocalRules/></hudson.tasks.Shell></builders><x-unknown>keep</x-unknown></project>";
        var xml = XmlConfig.Write(new FreestyleJob { Description = "new", Steps = ["make"] }, stored, "ab", s => s, NoSecrets);
        Assert.Contains("<description>new</description>", xml);
        Assert.Contains("<configuredLocalRules />", xml);
        Assert.Contains("<x-unknown>keep</x-unknown>", xml);
        Assert.Contains("<authToken>{valet-hmac}ab</authToken>", xml);
    }

    [Fact]
    public void Elements_nested_deeper_than_64_are_refused_and_64_deep_is_read()
    {
        static string Nested(int depth) => "<project><description>d</description>" + string.Concat(Enumerable.Repeat("<a>", depth - 1)) + string.Concat(Enumerable.Repeat("</a>", depth - 1)) + "</project>";
        var (item, errors) = XmlConfig.Read("config.xml", Nested(XmlConfig.MaxNesting), NoSecrets);
        Assert.Empty(errors);
        Assert.NotNull(item);
        (item, errors) = XmlConfig.Read("config.xml", Nested(10_000), NoSecrets);
        Assert.Null(item);
        Assert.Contains("deeper than 64", Assert.Single(errors).Message);
    }
}
