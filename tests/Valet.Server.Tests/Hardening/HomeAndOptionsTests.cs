using System.Diagnostics;
using System.Text;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Hardening;

/// <summary>limits.md §4 and §6: owner-only files whatever the umask; options only from Valet's own names.</summary>
public sealed class HomeAndOptionsTests
{
    [Fact]
    public async Task With_HOME_alone_under_umask_022_the_home_is_dot_valet_owner_only_and_generic_variables_change_nothing()
    {
        var user = Path.Combine(Path.GetTempPath(), "valet-user-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(user);
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["-c", "umask 022; exec dotnet \"$0\" serve --urls http://127.0.0.1:0", ValetProcess.ServerDll()])
            psi.ArgumentList.Add(a);
        foreach (var name in (string[])["VALET_HOME", "VALET_CONFIG", "VALET_URLS"])
            psi.Environment.Remove(name);
        psi.Environment["HOME"] = user;
        psi.Environment["VALET_ADMIN_PASSWORD"] = "pw-for-home-test";
        psi.Environment["URLS"] = "http://127.0.0.1:1";
        psi.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:1";
        psi.Environment["CONFIG"] = "/nonexistent/valet.yaml";
        psi.Environment["Kestrel__Endpoints__Extra__Url"] = "http://127.0.0.1:1";
        var output = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            string Output() { lock (output) return output.ToString(); }
            await ValetProcess.WaitUntilAsync(() => Task.FromResult(Output().Contains("Now listening on:", StringComparison.Ordinal) || process.HasExited),
                TimeSpan.FromSeconds(60), "the server to listen");
            Assert.False(process.HasExited, Output());
            Assert.DoesNotContain("127.0.0.1:1/", Output());
            Assert.DoesNotContain("127.0.0.1:1\n", Output());
            var home = Path.Combine(user, ".valet");
            await ValetProcess.WaitUntilAsync(() => Task.FromResult(File.Exists(Path.Combine(home, "valet.db"))), TimeSpan.FromSeconds(30), "the database");
            Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(user), p => p.EndsWith("valet.db", StringComparison.Ordinal));
            foreach (var path in Directory.EnumerateFileSystemEntries(home, "*", SearchOption.AllDirectories).Append(home))
            {
                var mode = File.GetUnixFileMode(path);
                var groupOrOther = mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                    | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
                Assert.True(groupOrOther == 0, $"{path} is {mode}");
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(user, recursive: true);
        }
    }
}
