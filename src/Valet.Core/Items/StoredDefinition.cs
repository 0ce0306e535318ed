using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Valet.Core.Storage;

namespace Valet.Core.Items;

/// <summary>
/// An item definition as the `item.config` column holds it: <c>{"version":2,"kind":"freestyle",…}</c>.
/// Rows without a version were written before item kinds had their own records (one flat object for
/// every kind); they are upgraded when read, so no migration has to rewrite them.
/// </summary>
public static class StoredDefinition
{
    public const int Version = 2;

    static readonly JsonSerializerOptions Options = new(Json.Options)
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { Kinds } },
        AllowOutOfOrderMetadataProperties = true,
    };

    // The kind names live here rather than in attributes on the records: they are the stored form's, not the model's.
    static void Kinds(JsonTypeInfo info)
    {
        if (info.Type == typeof(ItemDefinition))
        {
            info.PolymorphismOptions = new()
            {
                TypeDiscriminatorPropertyName = "kind",
                DerivedTypes = { new(typeof(Folder), "folder"), new(typeof(FreestyleJob), "freestyle"), new(typeof(PipelineJob), "pipeline") },
            };
        }
        else if (info.Type == typeof(TriggerDefinition))
        {
            info.PolymorphismOptions = new()
            {
                TypeDiscriminatorPropertyName = "type",
                DerivedTypes = { new(typeof(PollScmTrigger), "pollScm"), new(typeof(CronTrigger), "cron") },
            };
        }
    }

    /// <summary>The value of the `item.kind` column.</summary>
    public static string Kind(ItemDefinition definition) => definition switch
    {
        Folder => "Folder",
        PipelineJob => "Pipeline",
        _ => "Freestyle",
    };

    public static string Write(ItemDefinition definition)
    {
        var body = JsonSerializer.SerializeToNode(definition, Options)!.AsObject();
        var stored = new JsonObject { ["version"] = Version };
        foreach (var (key, value) in body.ToList())
        {
            body.Remove(key);
            stored[key] = value;
        }
        return stored.ToJsonString(Options);
    }

    public static ItemDefinition Read(string json)
    {
        var stored = JsonNode.Parse(json)!.AsObject();
        if (!stored.Remove("version", out var version))
            return Json.Read<Unversioned>(json).Upgrade();
        if (version!.GetValue<int>() != Version)
            throw new InvalidDataException($"item definition version {version} is newer than this server's ({Version})");
        return stored.Deserialize<ItemDefinition>(Options)!;
    }

    enum UnversionedKind { Folder, Freestyle, Pipeline }

    /// <summary>The flat form of every kind that servers wrote before the version number.</summary>
    sealed record Unversioned
    {
        public UnversionedKind Kind { get; init; } = UnversionedKind.Freestyle;
        public string Description { get; init; } = "";
        public bool Disabled { get; init; }
        public bool Concurrent { get; init; }
        public int? QuietPeriod { get; init; }
        public IReadOnlyList<ParameterDefinition> Parameters { get; init; } = [];
        public GitScm? Scm { get; init; }
        public string? PollScm { get; init; }
        public string? Cron { get; init; }
        public IReadOnlyList<string> Steps { get; init; } = [];
        public string? Script { get; init; }
        public string? ScriptPath { get; init; }
        public IReadOnlyDictionary<string, IReadOnlyList<string>> Permissions { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

        public ItemDefinition Upgrade()
        {
            if (Kind == UnversionedKind.Folder)
                return new Folder { Description = Description, Permissions = Permissions };
            List<TriggerDefinition> triggers = [];
            if (PollScm is not null)
                triggers.Add(new PollScmTrigger(PollScm));
            if (Cron is not null)
                triggers.Add(new CronTrigger(Cron));
            JobDefinition job = Kind == UnversionedKind.Pipeline
                ? new PipelineJob { Script = Script, ScriptPath = ScriptPath }
                : new FreestyleJob { Steps = Steps };
            return job with
            {
                Description = Description,
                Permissions = Permissions,
                Disabled = Disabled,
                Concurrent = Concurrent,
                QuietPeriod = QuietPeriod,
                Parameters = Parameters,
                Triggers = triggers,
                Scm = Scm,
            };
        }
    }
}
