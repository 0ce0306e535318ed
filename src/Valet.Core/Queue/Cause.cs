namespace Valet.Core.Queue;

/// <summary>How a cause list is stored: <see cref="Dropped"/> is never a cause, only the count of distinct causes not kept.</summary>
public enum CauseKind { Remote, User, Scm, Timer, Dropped }

/// <summary>Why an item was queued. Equal causes are stored once with a count.</summary>
public sealed record Cause(CauseKind Kind, string? Addr = null, string? Note = null, string? UserId = null, string? UserName = null, int Count = 1)
{
    /// <summary>Distinct causes kept on one item (limits.md §1); each further distinct cause is only counted.</summary>
    public const int MaxDistinct = 100;

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

    /// <summary>
    /// Adds <paramref name="added"/> to a stored cause list, counting it on an equal one. A new distinct
    /// cause past <see cref="MaxDistinct"/> is only counted (a repeat of a dropped cause counts again:
    /// it was not kept to compare with), in one <see cref="CauseKind.Dropped"/> entry
    /// at the end of the list, so an item's causes stay bounded however many callers fold into it and
    /// the count travels in the same column on every store.
    /// </summary>
    public static void Add(List<Cause> causes, Cause added)
    {
        // Merging another stored list brings its count of dropped causes along.
        if (added.Kind == CauseKind.Dropped)
        {
            AddDropped(causes, added.Count);
            return;
        }
        var i = causes.FindIndex(c => c.Kind != CauseKind.Dropped && c.SameAs(added));
        if (i >= 0)
        {
            causes[i] = causes[i] with { Count = causes[i].Count + added.Count };
            return;
        }
        var dropped = causes.FindIndex(c => c.Kind == CauseKind.Dropped);
        if ((dropped < 0 ? causes.Count : causes.Count - 1) < MaxDistinct)
            causes.Insert(dropped < 0 ? causes.Count : dropped, added);
        else
            AddDropped(causes, added.Count);
    }

    static void AddDropped(List<Cause> causes, int count)
    {
        var dropped = causes.FindIndex(c => c.Kind == CauseKind.Dropped);
        if (dropped < 0)
            causes.Add(new Cause(CauseKind.Dropped, Count: count));
        else
            causes[dropped] = causes[dropped] with { Count = causes[dropped].Count + count };
    }

    /// <summary>A stored cause list as the causes kept and the number of distinct causes dropped.</summary>
    public static (IReadOnlyList<Cause> Kept, int Dropped) Split(List<Cause> stored)
    {
        var dropped = stored.FindIndex(c => c.Kind == CauseKind.Dropped);
        if (dropped < 0)
            return (stored, 0);
        var count = stored[dropped].Count;
        stored.RemoveAt(dropped);
        return (stored, count);
    }
}
