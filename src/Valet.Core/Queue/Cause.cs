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

    public bool SameAs(Cause other) =>
        Kind == other.Kind && Addr == other.Addr && Note == other.Note && UserId == other.UserId && UserName == other.UserName;

    /// <summary>Adds <paramref name="added"/> to a cause list, counting it on an equal one.</summary>
    public static void Add(List<Cause> causes, Cause added)
    {
        var i = causes.FindIndex(c => c.SameAs(added));
        if (i < 0)
            causes.Add(added);
        else
            causes[i] = causes[i] with { Count = causes[i].Count + added.Count };
    }
}
