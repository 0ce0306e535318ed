using System.Security.Cryptography;
using Valet.Core;
using Valet.Core.Configuration;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Security;
using Valet.Core.Storage;
using Valet.Core.Triggers;

namespace Valet.Server.Hosting;

/// <summary>What happens before the server listens: config checked, store opened, config applied, first-start setup.</summary>
public static class Bootstrap
{
    /// <summary>Reads and checks the config file; the errors name file, line and key.</summary>
    public static ConfigResult ReadConfig(ValetSettings settings)
    {
        if (settings.ConfigFile is null)
            return new ConfigResult(new ValetConfig(), []);
        if (!File.Exists(settings.ConfigFile))
            return new ConfigResult(null, [$"{settings.ConfigFile}: the configuration file does not exist"]);
        return ConfigFile.Parse(settings.ConfigFile, File.ReadAllText(settings.ConfigFile), Environment.GetEnvironmentVariable);
    }

    /// <summary>Empty when the server may listen; otherwise the lines that say why not.</summary>
    public static async Task<IReadOnlyList<string>> PrepareAsync(IServiceProvider services, ValetSettings settings, ValetConfig config, CancellationToken ct)
    {
        // First of all, under the home's lock: steps a crashed server left running stop before anything
        // else runs, in their workspaces or elsewhere (limits.md §3).
        services.GetRequiredService<ProcessGroups>().KillLeftovers();
        var db = services.GetRequiredService<Database>();
        await db.OpenAsync(ct);
        // Before anything asks for the keys: they are made only for a database that has no check value yet.
        if (await InstallationCheck.VerifyAsync(db, services.GetRequiredService<ValetHome>(), ct) is { } mismatch)
            return [mismatch, "Valet did not start: nothing was changed."];
        // The guards count the failures other servers announce from now on, not from their first use.
        services.GetRequiredService<TriggerGuard>();
        services.GetRequiredService<SignInGuard>();
        if (settings.ConfigFile is not null)
        {
            var problems = await services.GetRequiredService<ConfigApplier>().ApplyAsync(config, settings.ConfigFile, ct);
            if (problems.Count > 0)
                return [.. problems, "Valet did not start: fix the configuration file and start again."];
        }
        var firstStart = new List<string>();
        // First start is the database's, not the home's: of servers starting together on one new
        // database, the one whose insert creates the admin user also creates the example.
        if (await CreateAdminAsync(services, firstStart, ct) && settings.ConfigFile is null)
            await CreateExampleAsync(services, settings, firstStart, ct);
        // Written straight to standard output, never through the logger, so it never reaches a log file.
        foreach (var line in firstStart)
            Console.Out.WriteLine(line);
        Console.Out.Flush();
        return [];
    }

    /// <summary>Creates the user admin unless it exists; true when this call created it.</summary>
    static async Task<bool> CreateAdminAsync(IServiceProvider services, List<string> output, CancellationToken ct)
    {
        var users = services.GetRequiredService<UserStore>();
        if (await users.FindAsync(UserStore.AdminId, ct) is not null)
            return false;
        var password = Environment.GetEnvironmentVariable("VALET_ADMIN_PASSWORD");
        if (string.IsNullOrEmpty(password))
        {
            password = RandomNumberGenerator.GetString("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", 24);
            var home = services.GetRequiredService<ValetHome>();
            Directory.CreateDirectory(home.Secrets);
            var file = Path.Combine(home.Secrets, "initialAdminPassword");
            await File.WriteAllTextAsync(file, password + "\n", ct);
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            output.Add($"Valet created the user 'admin' with the password: {password}");
            output.Add($"(also in {file})");
        }
        return await users.CreateIfMissingAsync(UserStore.AdminId, "Administrator", password, ct);
    }

    static async Task CreateExampleAsync(IServiceProvider services, ValetSettings settings, List<string> output, CancellationToken ct)
    {
        var db = services.GetRequiredService<Database>();
        var items = services.GetRequiredService<ItemStore>();
        var tokens = services.GetRequiredService<JobTokens>();
        var config = new FreestyleJob
        {
            Description = "An example job: trigger it with its token and read its console.",
            QuietPeriod = 0,
            Parameters = [new ParameterDefinition { Type = ParameterType.String, Name = "name", Default = "world", Description = "Who to greet" }],
            Steps = ["echo \"Hello, $name!\""],
        };
        var job = await db.WriteAsync(async s => (await items.SaveAsync(s, "examples/hello", config, null, createParents: true)).Item!, ct);
        var (_, token, _) = await tokens.CreateAsync(job.Id, JobTokens.DefaultName, null, ct);
        var baseUrl = settings.Urls.Split(';')[0].TrimEnd('/');
        output.Add("Valet created the example job 'examples/hello'. Trigger it with:");
        output.Add($"  curl -X POST '{baseUrl}/buildByToken/buildWithParameters?job=examples/hello&name=Valet' -H 'X-Build-Token: {token}'");
    }
}
