using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Hardening;

/// <summary>limits.md §3: a build's environment is the allow-list, server.environment, parameters, then Valet's own.</summary>
public sealed class BuildEnvironmentTests
{
    const string Config = """
        server:
          quietPeriod: 0
          environment:
            FROM_CONFIG: config-value
            BUILD_TOOL_TOKEN: ${DEPLOY_KEY}
        jobs:
          - name: e
            description: uses ${DB_PASSWORD}
            parameters:
              - { type: string, name: BUILD_NUMBER, default: "999" }
              - { type: string, name: FROM_CONFIG, default: param-value }
            steps:
              - sh: env | sort
        """;

    [Fact]
    public async Task A_build_sees_the_allow_list_and_its_config_but_no_interpolated_secret_or_unrelated_server_variable()
    {
        var env = new Dictionary<string, string>
        {
            ["DB_PASSWORD"] = "db-secret-3141",
            ["DEPLOY_KEY"] = "deploy-key-2718",
            ["UNRELATED_SERVER_VAR"] = "unrelated-1618",
            ["LC_TIME"] = "C",
        };
        await using var valet = await ValetProcess.StartAsync(Config, env);
        using (await valet.Admin().PostAsync("job/e/buildWithParameters", null)) { }
        await valet.WaitForBuildAsync("job/e/", 1);
        var console = await valet.ConsoleAsync("job/e/", 1);
        Assert.Contains("\nPATH=", console);
        Assert.Contains("\nLC_TIME=C\n", console);
        Assert.Contains("\nBUILD_TOOL_TOKEN=deploy-key-2718\n", console);
        // A parameter wins over server.environment; Valet's own variables win over a parameter.
        Assert.Contains("\nFROM_CONFIG=param-value\n", console);
        Assert.Contains("\nBUILD_NUMBER=1\n", console);
        Assert.DoesNotContain("BUILD_NUMBER=999", console);
        Assert.DoesNotContain("db-secret-3141", console);
        Assert.DoesNotContain("unrelated-1618", console);
        Assert.DoesNotContain("VALET_ADMIN_PASSWORD", console);
        Assert.DoesNotContain(ValetProcess.AdminPassword, console);
    }
}
