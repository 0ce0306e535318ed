using Valet.Core.Items;

namespace Valet.Core.Configuration;

/// <summary>The file parsed and validated, or every error found; Config is null when there are errors.</summary>
public sealed record ConfigResult(ValetConfig? Config, IReadOnlyList<string> Errors);

/// <summary>
/// Reads the configuration-as-code file (interface.md) and config.json entries: a format adapter, then
/// the one validator. Errors name the file, the line and the key, e.g.
/// <c>valet.yaml:12: jobs[0].parameters[1].type: …</c> or <c>config.json:3: /parameters/1/type: …</c>.
/// </summary>
public static class ConfigFile
{
    /// <summary>Parses and validates; <paramref name="env"/> looks up environment variables (null = unset).</summary>
    public static ConfigResult Parse(string path, string text, Func<string, string?> env)
    {
        var document = YamlConfig.Read(Path.GetFileName(path), text);
        if (document.Errors.Count > 0)
            return Failed(document.Errors);
        var (config, errors) = ConfigValidator.ValidateFile(document.Root, env);
        return config is null ? Failed(errors) : new(config, []);
    }

    /// <summary>
    /// Parses one item entry sent through the API as JSON: a `jobs:` entry, or a `folders:` entry with
    /// `"type": "folder"`. Errors name the line and the key's JSON pointer; nothing is substituted.
    /// </summary>
    /// <param name="fullName">The item's full name, used when the entry names none.</param>
    public static ConfigResult ParseItem(string source, string text, string fullName)
    {
        var document = JsonConfig.Read(source, text);
        if (document.Errors.Count > 0)
            return Failed(document.Errors);
        if (document.Root is null)
            return new(new ValetConfig(), []);
        var (entry, errors) = ConfigValidator.ValidateItem(document.Root, fullName);
        if (entry is null)
            return Failed(errors);
        return new(entry.Definition is Folder ? new ValetConfig { Folders = [entry] } : new ValetConfig { Jobs = [entry] }, []);
    }

    static ConfigResult Failed(IReadOnlyList<ConfigError> errors) => new(null, [.. errors.Select(e => e.ToString())]);
}
