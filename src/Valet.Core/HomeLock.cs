using System.Globalization;
using System.Text;

namespace Valet.Core;

/// <summary>
/// One server per home: a lock on <c>$VALET_HOME/valet.lock</c>, held for the life of the process, whose
/// file records the holder's pid, host, URLs and start time for the server that finds it taken.
/// </summary>
public sealed class HomeLock : IDisposable
{
    readonly FileStream file;
    readonly DateTimeOffset started;

    HomeLock(FileStream file, string path, DateTimeOffset started)
    {
        this.file = file;
        Path = path;
        this.started = started;
    }

    public string Path { get; }

    /// <summary>The lock, or null and what the holder recorded about itself.</summary>
    public static HomeLock? TryAcquire(ValetHome home, string urls, TimeProvider time, out string holder)
    {
        Directory.CreateDirectory(home.Root);
        var path = System.IO.Path.Combine(home.Root, "valet.lock");
        // A record lock (fcntl) rather than FileShare.None: .NET would flock a FileShare.None file
        // exclusively, and then the server that finds it taken could not read who holds it. The kernel
        // drops the lock with the process, also after kill -9, so a stale file never blocks a start.
        var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        try
        {
            file.Lock(0, 1);
        }
        catch (IOException)
        {
            holder = ReadRecord(file);
            file.Dispose();
            return null;
        }
        // A file left by an older version may have been made under a looser umask.
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var homeLock = new HomeLock(file, path, time.GetUtcNow());
        homeLock.Record(urls);
        holder = "";
        return homeLock;
    }

    /// <summary>Rewrites the record, e.g. with the addresses actually bound once the server listens.</summary>
    public void Record(string urls)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"pid: {Environment.ProcessId}\nhost: {Environment.MachineName}\nurls: {urls}\nstarted: {started.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}\n");
        var bytes = Encoding.UTF8.GetBytes(text);
        file.SetLength(0);
        file.Position = 0;
        file.Write(bytes);
        file.Flush(flushToDisk: true);
    }

    static string ReadRecord(FileStream file)
    {
        file.Position = 0;
        using var reader = new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in reader.ReadToEnd().Split('\n'))
        {
            if (line.Split(':', 2) is [var name, var value])
                fields[name.Trim()] = value.Trim();
        }
        string Field(string name) => fields.GetValueOrDefault(name) ?? "(not recorded yet)";
        return $"pid {Field("pid")} on host {Field("host")}, URLs {Field("urls")}, started {Field("started")}";
    }

    public void Dispose() => file.Dispose();
}
