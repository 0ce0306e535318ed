namespace Valet.Core.Items;

public enum ItemKind { Folder, Freestyle, Pipeline }

public enum ParameterType { String, Text, Boolean, Choice, Password }

public sealed record ParameterDefinition
{
    public required ParameterType Type { get; init; }
    public required string Name { get; init; }
    /// <summary>The default as text; for booleans "true" or "false"; for choices null means the first choice.</summary>
    public string? Default { get; init; }
    public string Description { get; init; } = "";
    public bool Trim { get; init; }
    public IReadOnlyList<string> Choices { get; init; } = [];

    /// <summary>The value a build gets when the request does not name this parameter.</summary>
    public string DefaultValue => Type switch
    {
        ParameterType.Boolean => Default is { } d && bool.TryParse(d, out var b) && b ? "true" : "false",
        ParameterType.Choice => Default ?? Choices.FirstOrDefault() ?? "",
        _ => Trim ? (Default ?? "").Trim() : Default ?? "",
    };
}

public sealed record GitScm(string Url, string Branch);

/// <summary>What an item is configured to be: the config file's entry, without its name.</summary>
public sealed record ItemConfig
{
    public ItemKind Kind { get; init; } = ItemKind.Freestyle;
    public string Description { get; init; } = "";
    public bool Disabled { get; init; }
    public bool Concurrent { get; init; }
    /// <summary>Seconds; null takes the server default.</summary>
    public int? QuietPeriod { get; init; }
    public IReadOnlyList<ParameterDefinition> Parameters { get; init; } = [];
    public GitScm? Scm { get; init; }
    /// <summary>Jenkins cron; "" means polling only on request; null means no Poll-SCM trigger.</summary>
    public string? PollScm { get; init; }
    public string? Cron { get; init; }
    public IReadOnlyList<string> Steps { get; init; } = [];
    public string? Script { get; init; }
    public string? ScriptPath { get; init; }
    /// <summary>Grants added for this item and everything below it: principal → permission names.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Permissions { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    public bool IsJob => Kind != ItemKind.Folder;
}

/// <summary>An item as stored.</summary>
public sealed record Item(long Id, long? ParentId, string Name, string FullName, ItemConfig Config, string? ManagedBy, long NextBuildNumber)
{
    public ItemKind Kind => Config.Kind;
    public bool IsJob => Config.IsJob;
    public bool IsFolder => Kind == ItemKind.Folder;

    /// <summary>The item's URL path below the root: job/a/job/b/</summary>
    public string UrlPath => string.Concat(ItemName.Segments(FullName).Select(s => "job/" + Uri.EscapeDataString(s) + "/"));
}
