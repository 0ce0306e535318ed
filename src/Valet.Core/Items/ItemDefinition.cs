namespace Valet.Core.Items;

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

/// <summary>A job's git repository and branch.</summary>
/// <param name="Credentials">
/// The id of credentials in a credentials store (Jenkins' `credentialsId`): a reference, never a secret.
/// Valet has no credentials store yet, so it is kept and shown but not used: git runs with the server
/// user's own credentials (SSH keys, credential helpers), and the console and polling log say so.
/// </param>
public sealed record GitScm(string Url, string Branch, string? Credentials = null);

/// <summary>What an item is configured to be: the config file's entry, without its name and token.</summary>
public abstract record ItemDefinition
{
    public string Description { get; init; } = "";
    /// <summary>Grants added for this item and everything below it: principal → permission names.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Permissions { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
}

public sealed record Folder : ItemDefinition;

/// <summary>What every kind of job has.</summary>
public abstract record JobDefinition : ItemDefinition
{
    public bool Disabled { get; init; }
    public bool Concurrent { get; init; }
    /// <summary>Seconds; null takes the server default.</summary>
    public int? QuietPeriod { get; init; }
    public IReadOnlyList<ParameterDefinition> Parameters { get; init; } = [];
    public IReadOnlyList<TriggerDefinition> Triggers { get; init; } = [];
    public GitScm? Scm { get; init; }
}

public sealed record FreestyleJob : JobDefinition
{
    /// <summary>Shell scripts run in order; each must succeed.</summary>
    public IReadOnlyList<string> Steps { get; init; } = [];
    /// <summary>A builder from config.xml that Valet cannot run (its element name): every build fails before its first step.</summary>
    public string? UnsupportedStep { get; init; }
}

public sealed record PipelineJob : JobDefinition
{
    public string? Script { get; init; }
    /// <summary>Read from the job's scm checkout; set exactly when Script is not.</summary>
    public string? ScriptPath { get; init; }
}

/// <summary>What starts a job's builds by itself.</summary>
public abstract record TriggerDefinition;

/// <summary>Jenkins cron; "" polls only on request.</summary>
public sealed record PollScmTrigger(string Spec) : TriggerDefinition;

/// <summary>Jenkins cron.</summary>
public sealed record CronTrigger(string Spec) : TriggerDefinition;

/// <summary>An item as stored.</summary>
public sealed record Item(long Id, long? ParentId, string Name, string FullName, ItemDefinition Definition, string? ManagedBy, long NextBuildNumber)
{
    public bool IsFolder => Definition is Folder;
    public bool IsJob => Definition is JobDefinition;
    public JobDefinition? Job => Definition as JobDefinition;

    /// <summary>The item's URL path below the root: job/a/job/b/</summary>
    public string UrlPath => string.Concat(ItemName.Segments(FullName).Select(s => "job/" + Uri.EscapeDataString(s) + "/"));
}
