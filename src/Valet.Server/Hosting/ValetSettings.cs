using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;

namespace Valet.Server.Hosting;

/// <summary>`--home`, `--urls`, `--config` and their VALET_* variables, mapped once.</summary>
public sealed record ValetSettings(string Home, string Urls, string? ConfigFile, bool ConfigFileExplicit)
{
    /// <summary>--database: a postgresql:// URL, or null for SQLite in the home.</summary>
    public string? Database { get; init; }

    /// <summary>--secrets: the installation keys' directory, or null for the home's secrets/.</summary>
    public string? Secrets { get; init; }

    public static ValetSettings From(IConfiguration config)
    {
        var home = config["home"] ?? Environment.GetEnvironmentVariable("VALET_HOME")
            ?? Path.Combine(Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".valet");
        var urls = config["urls"] ?? Environment.GetEnvironmentVariable("VALET_URLS") ?? "http://localhost:8080";
        var explicitConfig = config["config"] ?? Environment.GetEnvironmentVariable("VALET_CONFIG");
        var defaultConfig = Path.Combine(home, "valet.yaml");
        var database = config["database"] ?? Environment.GetEnvironmentVariable("VALET_DATABASE");
        var secrets = config["secrets"] ?? Environment.GetEnvironmentVariable("VALET_SECRETS");
        return new ValetSettings(Path.GetFullPath(home), urls, explicitConfig ?? (File.Exists(defaultConfig) ? defaultConfig : null), explicitConfig is not null)
        {
            Database = string.IsNullOrEmpty(database) ? null : database,
            Secrets = string.IsNullOrEmpty(secrets) ? null : Path.GetFullPath(secrets),
        };
    }

    /// <summary>
    /// limits.md §6: of the environment, only VALET_* (read by <see cref="From"/>) and the standard
    /// <c>Logging__…</c> variables count. The framework also reads every variable unprefixed and with
    /// ASPNETCORE_, so HOME, URLS, CONFIG, Kestrel__… would otherwise steer the server.
    /// </summary>
    public static void KeepOnlyValetSources(ConfigurationManager configuration)
    {
        IConfigurationBuilder builder = configuration;
        foreach (var source in builder.Sources.OfType<EnvironmentVariablesConfigurationSource>().Where(s => !string.Equals(s.Prefix, "DOTNET_", StringComparison.Ordinal)).ToList())
            builder.Sources.Remove(source);
        var logging = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            if (e.Key is string name && name.StartsWith("Logging__", StringComparison.OrdinalIgnoreCase))
                logging[name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)] = e.Value as string;
        }
        // Ahead of the command line, as the environment was, so an argument still wins.
        var commandLine = builder.Sources.ToList().FindIndex(s => s is Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationSource);
        var memory = new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = logging };
        if (commandLine >= 0)
            builder.Sources.Insert(commandLine, memory);
        else
            builder.Sources.Add(memory);
    }
}
