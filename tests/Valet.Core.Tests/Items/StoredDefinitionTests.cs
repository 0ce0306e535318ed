using System.Text.Json.Nodes;
using Valet.Core.Items;
using Xunit;

namespace Valet.Core.Tests.Items;

public class StoredDefinitionTests
{
    protected virtual StoreEngine Engine => StoreEngine.Sqlite;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly ParameterDefinition[] Parameters =
    [
        new() { Type = ParameterType.String, Name = "S", Default = " x ", Trim = true, Description = "d" },
        new() { Type = ParameterType.Choice, Name = "C", Choices = ["a", "b"] },
        new() { Type = ParameterType.Password, Name = "P", Default = "hunter2" },
    ];

    public static TheoryData<ItemDefinition> Definitions => new()
    {
        new Folder { Description = "team", Permissions = new Dictionary<string, IReadOnlyList<string>> { ["bob"] = ["Job/Read"] } },
        new FreestyleJob
        {
            Description = "d",
            Disabled = true,
            Concurrent = true,
            QuietPeriod = 0,
            Parameters = Parameters,
            Triggers = [new PollScmTrigger(""), new CronTrigger("H 2 * * *")],
            Scm = new GitScm("/srv/repo", "main"),
            Steps = ["make", "make test"],
        },
        new PipelineJob { Script = "pipeline {}" },
        new PipelineJob { ScriptPath = "Jenkinsfile", Scm = new GitScm("u", "dev") },
    };

    [Theory]
    [MemberData(nameof(Definitions))]
    public void Every_kind_round_trips_through_the_stored_form_with_its_version(ItemDefinition definition)
    {
        var json = StoredDefinition.Write(definition);

        Assert.StartsWith("""{"version":2,"kind":""", json);
        Assert.Equal(Describe(definition), Describe(StoredDefinition.Read(json)));
    }

    [Fact]
    public void A_newer_version_is_refused_rather_than_misread() =>
        Assert.Throws<InvalidDataException>(() => StoredDefinition.Read("""{"version":3,"kind":"folder"}"""));

    public static TheoryData<string, string> Unversioned => new()
    {
        { """{"kind":"folder","description":"f","disabled":false,"concurrent":false,"parameters":[],"steps":[],"permissions":{"bob":["Job/Read"]}}""", "Folder f bob=Job/Read" },
        {
            """{"kind":"freestyle","description":"d","disabled":true,"concurrent":true,"quietPeriod":4,"parameters":[{"type":"string","name":"S","default":"x","description":"","trim":false,"choices":[],"defaultValue":"x"}],"scm":{"url":"u","branch":"main"},"pollScm":"","cron":"H * * * *","steps":["make"],"permissions":{}}""",
            "FreestyleJob d disabled concurrent quiet=4 S:String=x git=u@main poll= cron=H * * * * steps=make"
        },
        { """{"kind":"pipeline","description":"","disabled":false,"concurrent":false,"parameters":[],"steps":[],"script":"pipeline {}","permissions":{}}""", "PipelineJob  script=pipeline {}" },
        { """{"kind":"pipeline","description":"","disabled":false,"concurrent":false,"parameters":[],"scm":{"url":"u","branch":"b"},"steps":[],"scriptPath":"Jenkinsfile","permissions":{}}""", "PipelineJob  git=u@b scriptPath=Jenkinsfile" },
        { """{"description":"no kind"}""", "FreestyleJob no kind" },
    };

    [Theory]
    [MemberData(nameof(Unversioned))]
    public void Rows_written_before_the_version_read_as_their_kind(string json, string expected) =>
        Assert.Equal(expected, Describe(StoredDefinition.Read(json)));

    [Fact]
    public async Task An_old_row_still_reads_through_the_store_and_is_rewritten_in_the_new_form_when_saved()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var secret = store.Secrets.Encrypt("hunter2");
        var old = $$$"""{"kind":"freestyle","description":"old","disabled":false,"concurrent":false,"parameters":[{"type":"password","name":"P","default":"{{{secret}}}","description":"","trim":false,"choices":[]}],"pollScm":"H * * * *","steps":["echo old"],"permissions":{}}""";
        await store.Db.WriteAsync(s => s.ExecuteAsync(
            "INSERT INTO item (parent_id, name, full_name, full_key, kind, config, managed_by, created_at) VALUES (NULL, 'old', 'old', 'OLD', 'Freestyle', @old, NULL, 0)",
            new { old }), Ct);

        var item = await store.Items.FindAsync("old", Ct);

        var job = Assert.IsType<FreestyleJob>(item!.Definition);
        Assert.Equal("old", job.Description);
        Assert.Equal("hunter2", job.Parameters[0].Default);
        Assert.Equal([new PollScmTrigger("H * * * *")], job.Triggers);
        Assert.Equal(["echo old"], job.Steps);

        await store.Db.WriteAsync(s => store.Items.SaveAsync(s, "old", job with { Description = "saved" }, null, createParents: false), Ct);
        var stored = JsonNode.Parse(await StoredJsonAsync(store, "OLD"))!;
        Assert.Equal(2, stored["version"]!.GetValue<int>());
        Assert.Equal("saved", (await store.Items.FindAsync("old", Ct))!.Definition.Description);
    }

    [Fact]
    public async Task Password_defaults_are_encrypted_at_rest_and_clear_when_read()
    {
        await using var store = await TempStore.OpenAsync(Engine);

        await store.CreateAsync("p", new FreestyleJob { Parameters = Parameters });

        var stored = await StoredJsonAsync(store, "P");
        Assert.DoesNotContain("hunter2", stored);
        Assert.Contains("\" x \"", stored);
        var read = (await store.Items.FindAsync("p", Ct))!.Job!;
        Assert.Equal("hunter2", read.Parameters[2].Default);
        Assert.Equal(" x ", read.Parameters[0].Default);
    }

    static Task<string> StoredJsonAsync(TempStore store, string key) =>
        store.Db.ReadAsync(s => s.QuerySingleAsync<string>("SELECT config FROM item WHERE full_key = @key", new { key }), Ct);

    // Records compare lists by reference: a text form compares definitions by value.
    static string Describe(ItemDefinition d)
    {
        var parts = new List<string> { d.GetType().Name, d.Description };
        parts.AddRange(d.Permissions.Select(p => $"{p.Key}={string.Join(",", p.Value)}"));
        if (d is JobDefinition job)
        {
            if (job.Disabled)
                parts.Add("disabled");
            if (job.Concurrent)
                parts.Add("concurrent");
            if (job.QuietPeriod is { } q)
                parts.Add($"quiet={q}");
            parts.AddRange(job.Parameters.Select(p => $"{p.Name}:{p.Type}={p.Default}{(p.Trim ? " trim" : "")}{(p.Choices.Count > 0 ? " [" + string.Join(",", p.Choices) + "]" : "")}{(p.Description.Length > 0 ? " " + p.Description : "")}"));
            if (job.Scm is { } scm)
                parts.Add($"git={scm.Url}@{scm.Branch}");
            parts.AddRange(job.Triggers.Select(t => t switch
            {
                PollScmTrigger p => $"poll={p.Spec}",
                CronTrigger c => $"cron={c.Spec}",
                _ => "?",
            }));
        }
        if (d is FreestyleJob { Steps.Count: > 0 } f)
            parts.Add("steps=" + string.Join(";", f.Steps));
        if (d is PipelineJob { Script: { } script })
            parts.Add("script=" + script);
        if (d is PipelineJob { ScriptPath: { } path })
            parts.Add("scriptPath=" + path);
        return string.Join(" ", parts);
    }
}

public sealed class StoredDefinitionOnPostgresTests : StoredDefinitionTests
{
    protected override StoreEngine Engine => StoreEngine.Postgres;
}
