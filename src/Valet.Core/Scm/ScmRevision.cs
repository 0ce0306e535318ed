namespace Valet.Core.Scm;

/// <summary>One commit of a build's change set.</summary>
public sealed record ChangeSetEntry(string CommitId, string Author, string AuthorEmail, long Timestamp, string Message);

/// <summary>What a git build checked out: the revision, and the commits since the previous build's, newest first.</summary>
public sealed record ScmRevision(string Url, string Branch, string Revision, string? PreviousRevision, IReadOnlyList<ChangeSetEntry> ChangeSet);
