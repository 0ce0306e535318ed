using Valet.Core.Items;

namespace Valet.Core.Configuration;

/// <summary>The configuration-as-code file, parsed and validated (interface.md).</summary>
public sealed record ValetConfig
{
    public ServerSettings Server { get; init; } = new();
    public SecuritySettings Security { get; init; } = new();
    public IReadOnlyList<ItemEntry> Folders { get; init; } = [];
    public IReadOnlyList<ItemEntry> Jobs { get; init; } = [];
}

public sealed record ServerSettings
{
    /// <summary>Null: the number of CPU cores.</summary>
    public int? Executors { get; init; }
    public int QuietPeriod { get; init; } = 5;
    /// <summary>Always ends with '/' when set.</summary>
    public string? RootUrl { get; init; }
    /// <summary>Addresses or CIDR ranges, as written.</summary>
    public IReadOnlyList<string> TrustedProxies { get; init; } = [];

    public const int DefaultMaxQueuedPerJob = 10_000;

    /// <summary>Items of one job that may wait in the queue at once (limits.md §1).</summary>
    public int MaxQueuedPerJob { get; init; } = DefaultMaxQueuedPerJob;

    /// <summary><c>server.environment</c>: variables every build gets, after the server's allow-list (limits.md §3).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}

public sealed record SecuritySettings
{
    public IReadOnlyList<UserEntry> Users { get; init; } = [];
    /// <summary>Null when the section is absent (the default matrix applies).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Permissions { get; init; }
    public TriggerGuardSettings TriggerGuard { get; init; } = new();
}

public sealed record UserEntry(string Id, string Password, string? FullName);

public sealed record TriggerGuardSettings
{
    public bool Enabled { get; init; } = true;
    public int MaxFailures { get; init; } = 10;
    public int WindowSeconds { get; init; } = 60;
}

/// <summary>A folder or job entry: its full name, definition, and for jobs the `authToken` value.</summary>
public sealed record ItemEntry(string FullName, ItemDefinition Definition, string? AuthToken);
