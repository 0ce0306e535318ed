namespace Valet.Core.Queue;

public enum CauseKind { Remote, User, Scm, Timer }

/// <summary>Why an item was queued. Equal causes are stored once with a count.</summary>
public sealed record Cause(CauseKind Kind, string? Addr = null, string? Note = null, string? UserId = null, string? UserName = null, int Count = 1)
{
    public static Cause Remote(string addr, string? note) => new(CauseKind.Remote, Addr: addr, Note: string.IsNullOrEmpty(note) ? null : note);
    public static Cause User(string? userId, string userName) => new(CauseKind.User, UserId: userId, UserName: userName);
    public static readonly Cause Scm = new(CauseKind.Scm);
    public static readonly Cause Timer = new(CauseKind.Timer);

    public string ShortDescription => Kind switch
    {
        CauseKind.Remote when Note is not null => $"Started by remote host {Addr} with note: {Note}",
        CauseKind.Remote => $"Started by remote host {Addr}",
        CauseKind.User => $"Started by user {UserName}",
        CauseKind.Scm => "Started by an SCM change",
        _ => "Started by timer",
    };

    public bool SameAs(Cause other) => this with { Count = 1 } == other with { Count = 1 };

    /// <summary>Adds <paramref name="added"/> to a cause list, counting it on an equal one.</summary>
    public static IReadOnlyList<Cause> Merge(IReadOnlyList<Cause> causes, Cause added)
    {
        var list = causes.ToList();
        var i = list.FindIndex(c => c.SameAs(added));
        if (i < 0)
            list.Add(added);
        else
            list[i] = list[i] with { Count = list[i].Count + added.Count };
        return list;
    }
}
