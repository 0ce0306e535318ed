using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Scm;

namespace Valet.Server.RemoteApi;

/// <summary>Valet's objects as Jenkins exports them: `_class` values and fields of remote-api.md §2.</summary>
public sealed class ApiModels(TimeProvider time)
{
    const int Always = 999;

    public static string JobClass(Item item) => item switch
    {
        { IsFolder: true } => "com.cloudbees.hudson.plugins.folder.Folder",
        { Definition: PipelineJob } => "org.jenkinsci.plugins.workflow.job.WorkflowJob",
        _ => "hudson.model.FreeStyleProject",
    };

    static string BuildClass(Item job) => job.Definition is PipelineJob ? "org.jenkinsci.plugins.workflow.job.WorkflowRun" : "hudson.model.FreeStyleBuild";

    public static string Color(Item job, Build? lastCompleted, bool building) => Color(job, lastCompleted?.Result, building);

    public static string Color(Item job, string? lastResult, bool building)
    {
        if (job.Job!.Disabled)
            return "disabled";
        var color = lastResult switch
        {
            BuildResult.Success => "blue",
            BuildResult.Unstable => "yellow",
            BuildResult.Failure => "red",
            BuildResult.Aborted => "aborted",
            _ => "notbuilt",
        };
        return building ? color + "_anime" : color;
    }

    /// <summary>An item as listed in `jobs`: name, url, and color for jobs.</summary>
    public ApiObject ItemRef(Item item, string baseUrl, string? color)
    {
        var o = new ApiObject(JobClass(item)).Add("name", item.Name, Always).Add("url", baseUrl + item.UrlPath, Always);
        if (color is not null)
            o.Add("color", color, 2);
        return o;
    }

    public ApiObject Root(string? rootUrl, string baseUrl, IEnumerable<ApiObject> jobs, int executors)
    {
        var view = new ApiObject("hudson.model.AllView").Add("name", "all", 2).Add("url", baseUrl, 2);
        return new ApiObject("hudson.model.Hudson")
            .Add("description", null)
            .Add("jobs", jobs.ToList())
            .Add("numExecutors", executors)
            .Add("primaryView", view)
            .Add("quietingDown", false)
            .Add("url", rootUrl)
            .Add("useCrumbs", true)
            .Add("useSecurity", true)
            .Add("views", new List<object?> { view });
    }

    public ApiObject AllView(string baseUrl, IEnumerable<ApiObject> jobs) =>
        new ApiObject("hudson.model.AllView").Add("name", "all", 2).Add("url", baseUrl, 2).Add("jobs", jobs.ToList());

    ApiObject Identity(ApiObject o, Item item, string baseUrl) => o
        .Add("description", item.Definition.Description)
        .Add("displayName", item.Name)
        .Add("displayNameOrNull", null)
        .Add("fullDisplayName", string.Join(" » ", ItemName.Segments(item.FullName)))
        .Add("fullName", item.FullName)
        .Add("name", item.Name, Always)
        .Add("url", baseUrl + item.UrlPath, Always);

    public ApiObject Folder(Item folder, string baseUrl, IEnumerable<ApiObject> jobs)
    {
        var view = new ApiObject("hudson.model.AllView").Add("name", "all", 2).Add("url", baseUrl + folder.UrlPath, 2);
        return Identity(new ApiObject(JobClass(folder)), folder, baseUrl)
            .Add("healthReport", new List<object?>())
            .Add("jobs", jobs.ToList())
            .Add("primaryView", view)
            .Add("views", new List<object?> { view });
    }

    public sealed record JobState(IReadOnlyList<Build> Builds, QueueItem? FirstQueued, long? RunningNumber);

    public ApiObject Job(Item job, string baseUrl, JobState state)
    {
        var builds = state.Builds;
        var completed = builds.Where(b => !b.Building).ToList();
        ApiObject? Ref(Build? b) => b is null ? null : BuildSummary(job, b, baseUrl);
        var o = Identity(new ApiObject(JobClass(job)), job, baseUrl);
        var definitions = job.Job!.Parameters.Count == 0 ? null : ParameterDefinitions(job);
        var actions = new List<object?>();
        if (definitions is not null)
            actions.Add(ParameterDefinitions(job));
        o.Add("actions", actions)
            .Add("buildable", !job.Job!.Disabled)
            .Add("builds", builds.Take(100).Select(b => (object?)BuildSummary(job, b, baseUrl)).ToList())
            .Add("allBuilds", builds.Select(b => (object?)BuildSummary(job, b, baseUrl)).ToList(), ApiObject.TreeOnly)
            .Add("color", Color(job, completed.FirstOrDefault(), builds.Any(b => b.Building)), 2)
            .Add("firstBuild", Ref(builds.LastOrDefault()))
            .Add("healthReport", new List<object?>())
            .Add("inQueue", state.FirstQueued is not null)
            .Add("keepDependencies", false)
            .Add("lastBuild", Ref(builds.FirstOrDefault()))
            .Add("lastCompletedBuild", Ref(completed.FirstOrDefault()))
            .Add("lastFailedBuild", Ref(completed.FirstOrDefault(b => b.Result == BuildResult.Failure)))
            .Add("lastStableBuild", Ref(completed.FirstOrDefault(b => b.Result == BuildResult.Success)))
            .Add("lastSuccessfulBuild", Ref(completed.FirstOrDefault(b => b.Result is BuildResult.Success or BuildResult.Unstable)))
            .Add("lastUnstableBuild", Ref(completed.FirstOrDefault(b => b.Result == BuildResult.Unstable)))
            .Add("lastUnsuccessfulBuild", Ref(completed.FirstOrDefault(b => b.Result != BuildResult.Success)))
            .Add("nextBuildNumber", job.NextBuildNumber)
            .Add("property", definitions is null ? new List<object?>() : new List<object?> { ParameterDefinitions(job, withValueName: true) }, inline: true)
            .Add("queueItem", state.FirstQueued is null ? null : QueueItem(state.FirstQueued, job, baseUrl, state.RunningNumber, withActions: false))
            .Add("concurrentBuild", job.Job!.Concurrent)
            .Add("disabled", job.Job!.Disabled);
        if (job.Definition is FreestyleJob)
            o.Add("scm", new ApiObject(job.Job!.Scm is null ? "hudson.scm.NullSCM" : "hudson.plugins.git.GitSCM"));
        return o;
    }

    static ApiObject ParameterDefinitions(Item job, bool withValueName = false) =>
        new ApiObject("hudson.model.ParametersDefinitionProperty").Add("parameterDefinitions",
            job.Job!.Parameters.Select(p => (object?)Definition(p, withValueName)).ToList(), 2);

    static ApiObject Definition(ParameterDefinition p, bool withValueName)
    {
        var type = p.Type + "ParameterDefinition";
        var value = new ApiObject("hudson.model." + (p.Type == ParameterType.Choice ? "String" : p.Type.ToString()) + "ParameterValue");
        if (withValueName)
            value.Add("name", p.Name, 3);
        if (p.Type != ParameterType.Password)
            value.Add("value", p.Type == ParameterType.Boolean ? p.DefaultValue == "true" : p.DefaultValue, 4);
        var o = new ApiObject("hudson.model." + type).Add("defaultParameterValue", value, 3).Add("description", p.Description, 3).Add("name", p.Name, 3).Add("type", type, 3);
        if (p.Type == ParameterType.Choice)
            o.Add("choices", p.Choices.Cast<object?>().ToList(), 3);
        return o;
    }

    public ApiObject BuildRef(Item job, Build build, string baseUrl) =>
        new ApiObject(BuildClass(job)).Add("number", build.Number, 2).Add("url", BuildUrl(job, build, baseUrl), 2);

    // A job's builds one level deeper (depth=1, or named in tree=) show how each went, as clients
    // listing results read them, without the cost of every build's full object.
    static ApiObject BuildSummary(Item job, Build build, string baseUrl) =>
        new ApiObject(BuildClass(job))
            .Add("building", build.Building)
            .Add("duration", build.Duration)
            .Add("number", build.Number, 2)
            .Add("result", build.Result)
            .Add("timestamp", build.StartedAt)
            .Add("url", BuildUrl(job, build, baseUrl), 2);

    static string BuildUrl(Item job, Build build, string baseUrl) => $"{baseUrl}{job.UrlPath}{build.Number}/";

    static ApiObject CauseObject(Cause c)
    {
        var o = new ApiObject(c.Kind switch
        {
            CauseKind.Remote => "hudson.model.Cause$RemoteCause",
            CauseKind.User => "hudson.model.Cause$UserIdCause",
            CauseKind.Scm => "hudson.triggers.SCMTrigger$SCMTriggerCause",
            _ => "hudson.triggers.TimerTrigger$TimerTriggerCause",
        }).Add("shortDescription", c.ShortDescription, 3);
        switch (c.Kind)
        {
            case CauseKind.Remote:
                o.Add("addr", c.Addr, 3).Add("note", c.Note, 3);
                break;
            case CauseKind.User:
                o.Add("userId", c.UserId, 3).Add("userName", c.UserName, 3);
                break;
        }
        return o;
    }

    /// <summary>Each occurrence up to 100 per distinct cause; past that the last carries the count.</summary>
    static List<object?> Causes(IReadOnlyList<Cause> causes)
    {
        var list = new List<object?>();
        foreach (var c in causes)
        {
            var shown = Math.Min(c.Count, 100);
            for (var i = 0; i < shown; i++)
                list.Add(i == shown - 1 && c.Count > 100 ? CauseObject(c).Add("count", c.Count, 3) : CauseObject(c));
        }
        return list;
    }

    static List<object?> Actions(IReadOnlyList<ParameterValue>? values, IReadOnlyList<Cause> causes)
    {
        var actions = new List<object?>();
        if (values is { Count: > 0 })
        {
            actions.Add(new ApiObject("hudson.model.ParametersAction").Add("parameters", values.Select(v =>
            {
                var o = new ApiObject("hudson.model." + (v.Type == ParameterType.Choice ? "String" : v.Type.ToString()) + "ParameterValue").Add("name", v.Name, 3);
                if (!v.IsSecret)
                    o.Add("value", v.Type == ParameterType.Boolean ? v.Value == "true" : v.Value, 4);
                return (object?)o;
            }).ToList(), 2));
        }
        actions.Add(new ApiObject("hudson.model.CauseAction").Add("causes", Causes(causes), 2));
        return actions;
    }

    public ApiObject Build(Item job, Build build, string baseUrl, long? estimatedDuration, ScmRevision? scm = null)
    {
        var actions = Actions(build.Parameters, build.Causes);
        if (scm is not null)
            actions.Add(GitBuildData(scm));
        var o = new ApiObject(BuildClass(job))
            .Add("actions", actions)
            .Add("artifacts", new List<object?>())
            .Add("building", build.Building)
            .Add("description", null)
            .Add("displayName", $"#{build.Number}")
            .Add("duration", build.Duration)
            .Add("estimatedDuration", estimatedDuration ?? -1)
            .Add("executor", build.Building ? new ApiObject("hudson.model.Executor") : null)
            .Add("fullDisplayName", $"{string.Join(" » ", ItemName.Segments(job.FullName))} #{build.Number}")
            .Add("id", build.Number.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Add("inProgress", build.Building)
            .Add("keepLog", false)
            .Add("number", build.Number, 2)
            .Add("queueId", build.QueueId)
            .Add("result", build.Result)
            .Add("timestamp", build.StartedAt)
            .Add("url", BuildUrl(job, build, baseUrl), 2)
            .Add("builtOn", "")
            .Add("culprits", new List<object?>());
        if (job.Definition is PipelineJob)
            o.Add("changeSets", scm is null ? new List<object?>() : [GitChangeSets(scm)]);
        else if (scm is null)
            o.Add("changeSet", new ApiObject("hudson.scm.EmptyChangeLogSet").Add("items", new List<object?>(), 2).Add("kind", null, 2));
        else
            o.Add("changeSet", GitChangeSets(scm)).Add("changeSets", new List<object?> { GitChangeSets(scm) });
        return o;
    }

    /// <summary>The git plugin's record of what a build checked out.</summary>
    static ApiObject GitBuildData(ScmRevision scm)
    {
        var branch = new ApiObject("hudson.plugins.git.Branch").Add("SHA1", scm.Revision, 3).Add("name", "origin/" + scm.Branch, 3);
        return new ApiObject("hudson.plugins.git.util.BuildData")
            .Add("lastBuiltRevision", new ApiObject("hudson.plugins.git.Revision").Add("SHA1", scm.Revision, 3).Add("branch", new List<object?> { branch }, 3), 2)
            .Add("remoteUrls", new List<object?> { GitUrl.Masked(scm.Url) }, 2)
            .Add("scmName", "", 2);
    }

    /// <summary>The commits since the previous build, newest first, as the git plugin's change set.</summary>
    static ApiObject GitChangeSets(ScmRevision scm) =>
        new ApiObject("hudson.plugins.git.GitChangeSetList")
            .Add("items", scm.ChangeSet.Select(c => (object?)new ApiObject("hudson.plugins.git.GitChangeSet")
                .Add("affectedPaths", new List<object?>(), 3)
                .Add("commitId", c.CommitId, 3)
                .Add("timestamp", c.Timestamp, 3)
                .Add("author", new ApiObject("hudson.model.User").Add("fullName", c.Author, 4), 3)
                .Add("authorEmail", c.AuthorEmail, 3)
                .Add("comment", c.Message + "\n", 3)
                .Add("id", c.CommitId, 3)
                .Add("msg", GitCheckout.FirstLine(c.Message), 3)).ToList(), 2)
            .Add("kind", "git", 2);

    public ApiObject QueueItem(QueueItem item, Item job, string baseUrl, long? runningNumber, bool withActions = true, Build? build = null)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var status = QueueStatus.Of(item, job, runningNumber, now);
        var cls = status.Stage switch
        {
            QueueStage.Waiting => "hudson.model.Queue$WaitingItem",
            QueueStage.Blocked => "hudson.model.Queue$BlockedItem",
            QueueStage.Buildable => "hudson.model.Queue$BuildableItem",
            _ => "hudson.model.Queue$LeftItem",
        };
        var o = new ApiObject(cls);
        if (withActions)
            o.Add("actions", Actions(item.Parameters, item.Causes));
        o.Add("blocked", status.Stage == QueueStage.Blocked, Always)
            .Add("buildable", status.Stage == QueueStage.Buildable, Always)
            .Add("id", item.Id, Always)
            .Add("inQueueSince", item.InQueueSince, Always)
            .Add("params", string.Concat((item.Parameters ?? []).Select(v => $"\n{v.Name}={(v.IsSecret ? "****" : v.Value)}")), Always)
            .Add("stuck", status.Stage == QueueStage.Buildable && now - item.DueAt > TimeSpan.FromHours(24).TotalMilliseconds, Always)
            .Add("task", ItemRef(job, baseUrl, Color(job, lastResult: null, building: false)), Always)
            .Add("url", $"queue/item/{item.Id}/", Always)
            .Add("why", status.Why, Always);
        // Valet's own field, so only where causes were dropped (limits.md §1): Jenkins' items keep their shape.
        if (item.DroppedCauses > 0)
            o.Add("droppedCauses", item.DroppedCauses, Always);
        switch (status.Stage)
        {
            case QueueStage.Waiting:
                o.Add("timestamp", item.DueAt, Always);
                break;
            case QueueStage.Blocked or QueueStage.Buildable:
                o.Add("buildableStartMilliseconds", item.DueAt, Always);
                if (status.Stage == QueueStage.Buildable)
                    o.Add("pending", false, Always);
                break;
            default:
                o.Add("cancelled", status.Stage == QueueStage.Cancelled, Always)
                    .Add("executable", build is null ? null : BuildRef(job, build, baseUrl), Always);
                break;
        }
        return o;
    }
}
