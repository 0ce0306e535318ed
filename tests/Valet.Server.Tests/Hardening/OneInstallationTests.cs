using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Hardening;

/// <summary>
/// interface.md "Several servers, one database": with SQLite one server per home, holding valet.lock;
/// a server whose keys do not match the database's check value refuses to start.
/// </summary>
public sealed partial class OneInstallationTests
{
    static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_second_server_on_the_same_home_exits_non_zero_naming_the_holder_which_keeps_serving()
    {
        await using var first = await ValetProcess.StartAsync();
        var lockFile = Path.Combine(first.Home, "valet.lock");
        await ValetProcess.WaitUntilAsync(() => Task.FromResult(File.ReadAllText(lockFile).Contains(first.BaseAddress.Authority, StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the lock file to record the bound address");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(lockFile));

        await using var second = await ValetProcess.StartAsync(home: first.Home, waitUntilReady: false);
        var exit = await second.WaitForExitAsync(ExitTimeout);

        Assert.NotEqual(0, exit);
        Assert.Contains($"pid {first.Pid} ", second.Output, StringComparison.Ordinal);
        Assert.Contains($"host {Environment.MachineName}", second.Output, StringComparison.Ordinal);
        Assert.Contains(first.BaseAddress.Authority, second.Output, StringComparison.Ordinal);
        Assert.Matches(StartedAt(), second.Output);
        Assert.DoesNotContain("Now listening", second.Output, StringComparison.Ordinal);
        Assert.Contains($"pid: {first.Pid}\n", File.ReadAllText(lockFile), StringComparison.Ordinal);
        using var health = await first.Anonymous().GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Null(first.ExitCode);
    }

    [Fact]
    public async Task After_kill_9_of_the_holder_a_new_server_starts_on_its_home()
    {
        await using var first = await ValetProcess.StartAsync();
        var firstPid = first.Pid;
        await first.KillAsync();

        await using var next = await ValetProcess.StartAsync(home: first.Home);

        using var health = await next.Anonymous().GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var record = File.ReadAllText(Path.Combine(first.Home, "valet.lock"));
        Assert.Contains($"pid: {next.Pid}\n", record, StringComparison.Ordinal);
        Assert.DoesNotContain($"pid: {firstPid}\n", record, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_whose_secrets_were_replaced_by_another_installations_refuses_and_changes_nothing()
    {
        await using var installation = await ValetProcess.StartAsync();
        await installation.StopAsync();
        await using var other = await ValetProcess.StartAsync();
        await other.StopAsync();
        var keyFile = KeyFile(installation.Home);
        var ownKey = File.ReadAllBytes(keyFile);
        var otherKey = File.ReadAllBytes(KeyFile(other.Home));
        var check = CheckValue(installation);
        Assert.Matches("^[0-9a-f]{64}$", check);
        Assert.DoesNotContain(Convert.ToHexStringLower(ownKey), check, StringComparison.Ordinal);
        File.WriteAllBytes(keyFile, otherKey);

        await using var refused = await ValetProcess.StartAsync(home: installation.Home, waitUntilReady: false, database: installation.Database);
        var exit = await refused.WaitForExitAsync(ExitTimeout);

        Assert.NotEqual(0, exit);
        Assert.Contains($"The secrets in {Path.Combine(installation.Home, "secrets")} do not match the database", refused.Output, StringComparison.Ordinal);
        Assert.Contains("servers sharing a database must share the secrets directory", refused.Output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Now listening", refused.Output, StringComparison.Ordinal);
        Assert.Equal(check, CheckValue(installation));
        Assert.Equal(otherKey, File.ReadAllBytes(keyFile));

        // The same home with its own key back starts: the key alone made the difference.
        File.WriteAllBytes(keyFile, ownKey);
        await using var restored = await ValetProcess.StartAsync(home: installation.Home, database: installation.Database);
        using var health = await restored.Anonymous().GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(check, CheckValue(installation));
    }

    [Fact]
    public async Task A_server_with_an_empty_secrets_directory_for_a_database_with_a_check_value_refuses_and_makes_no_key()
    {
        await using var installation = await ValetProcess.StartAsync();
        await installation.StopAsync();
        var check = CheckValue(installation);
        var secrets = Path.Combine(installation.Home, "secrets");
        foreach (var file in Directory.GetFiles(secrets))
            File.Delete(file);

        await using var refused = await ValetProcess.StartAsync(home: installation.Home, waitUntilReady: false, database: installation.Database);
        var exit = await refused.WaitForExitAsync(ExitTimeout);

        Assert.NotEqual(0, exit);
        Assert.Contains($"The secrets in {secrets} do not match the database", refused.Output, StringComparison.Ordinal);
        Assert.Contains("servers sharing a database must share the secrets directory", refused.Output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Now listening", refused.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(secrets));
        Assert.Equal(check, CheckValue(installation));
    }

    static string KeyFile(string home) => Path.Combine(home, "secrets", "installation.key");

    static string CheckValue(ValetProcess valet)
    {
        const string Sql = "SELECT value FROM installation WHERE name = 'check'";
        if (valet.Database is { } database)
            return (string)database.Scalar(Sql)!;
        var home = valet.Home;
        using var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(home, "valet.db"), Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = Sql;
        return (string)cmd.ExecuteScalar()!;
    }

    [GeneratedRegex(@"started \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")]
    private static partial Regex StartedAt();
}
