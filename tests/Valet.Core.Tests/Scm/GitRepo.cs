using System.Diagnostics;

namespace Valet.Core.Tests.Scm;

/// <summary>A real git repository in a temp directory, reached by builds through its file:// URL.</summary>
public sealed class GitRepo : IDisposable
{
    GitRepo(string dir) => Dir = dir;

    public string Dir { get; }
    public string Url => new Uri(Dir).AbsoluteUri;

    public static GitRepo Create()
    {
        var repo = new GitRepo(Path.Combine(Path.GetTempPath(), "valet-git-" + Guid.NewGuid().ToString("N")));
        Directory.CreateDirectory(repo.Dir);
        repo.Git("init", "-q", "-b", "main");
        return repo;
    }

    /// <summary>Writes the file and commits it; returns the new commit.</summary>
    public string Commit(string file, string content, string message)
    {
        File.WriteAllText(Path.Combine(Dir, file), content);
        Git("add", file);
        Git("-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com", "commit", "-q", "-m", message);
        return Git("rev-parse", "HEAD").Trim();
    }

    public string Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = Dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? output : throw new InvalidOperationException($"git {string.Join(' ', args)}: {error}");
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
