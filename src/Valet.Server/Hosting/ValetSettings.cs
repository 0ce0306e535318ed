using Microsoft.Extensions.Configuration;

namespace Valet.Server.Hosting;

/// <summary>`--home`, `--urls`, `--config` and their VALET_* variables, mapped once.</summary>
public sealed record ValetSettings(string Home, string Urls, string? ConfigFile, bool ConfigFileExplicit)
{
    public static ValetSettings From(IConfiguration config)
    {
        var home = config["home"] ?? Environment.GetEnvironmentVariable("VALET_HOME")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".valet");
        var urls = config["urls"] ?? Environment.GetEnvironmentVariable("VALET_URLS") ?? "http://localhost:8080";
        var explicitConfig = config["config"] ?? Environment.GetEnvironmentVariable("VALET_CONFIG");
        var defaultConfig = Path.Combine(home, "valet.yaml");
        return new ValetSettings(Path.GetFullPath(home), urls, explicitConfig ?? (File.Exists(defaultConfig) ? defaultConfig : null), explicitConfig is not null);
    }
}
