using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;

using Valet.Core.Tests;

namespace Valet.Server.Tests.Support;

/// <summary>
/// The real server as a child process on a random port with its own temporary home: started, stopped
/// gracefully, killed with SIGKILL, started again on the same home. Its store is SQLite in the home,
/// or, with VALET_TEST_SERVER_STORE=postgres (`./test` runs this project a second time so), a new
/// database of its own on the test cluster; <see cref="Database"/> lets several servers share one.
/// </summary>
public sealed partial class ValetProcess : IAsyncDisposable
{
    public const string AdminPassword = "admin-secret-pw";

    readonly StringBuilder output = new();
    readonly Dictionary<string, string> environment;
    readonly bool ownsDatabase;
    Process? process;

    ValetProcess(string home, string? config, Dictionary<string, string> environment, TestPostgres.Database? database, bool ownsDatabase)
    {
        Home = home;
        ConfigPath = config;
        this.environment = environment;
        Database = database;
        this.ownsDatabase = ownsDatabase;
    }

    /// <summary>Whether servers started by tests run on PostgreSQL.</summary>
    public static bool OnPostgres => Environment.GetEnvironmentVariable("VALET_TEST_SERVER_STORE") == "postgres";

    /// <summary>The PostgreSQL database the server runs on, or null for SQLite in its home.</summary>
    public TestPostgres.Database? Database { get; }

    public string Home { get; }
    public string? ConfigPath { get; }
    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");
    public string Output { get { lock (output) return output.ToString(); } }
    public int? ExitCode => process is { HasExited: true } p ? p.ExitCode : null;
    public int Pid => process!.Id;

    /// <summary>User and system CPU the server process has used so far.</summary>
    public TimeSpan CpuTime()
    {
        process!.Refresh();
        return process.TotalProcessorTime;
    }

    /// <summary>
    /// Starts a server; <paramref name="config"/> is YAML written to a file beside the home. Without
    /// <paramref name="home"/> the server gets a fresh one.
    /// </summary>
    /// <param name="database">A PostgreSQL database shared with other servers (the caller drops it); by default the store described above.</param>
    public static async Task<ValetProcess> StartAsync(string? config = null, Dictionary<string, string>? env = null, bool waitUntilReady = true,
        string? home = null, TestPostgres.Database? database = null)
    {
        home ??= Path.Combine(Path.GetTempPath(), "valet-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(home);
        string? configPath = null;
        if (config is not null)
        {
            configPath = Path.Combine(home + "-config.yaml");
            await File.WriteAllTextAsync(configPath, config);
        }
        var environment = new Dictionary<string, string> { ["VALET_ADMIN_PASSWORD"] = AdminPassword };
        foreach (var (k, v) in env ?? [])
            environment[k] = v;
        var owns = database is null && OnPostgres;
        if (owns)
            database = await TestPostgres.CreateDatabaseAsync();
        var valet = new ValetProcess(home, configPath, environment, database, owns);
        await valet.LaunchAsync(waitUntilReady);
        return valet;
    }

    internal static string ServerDll()
    {
        // Tests run from artifacts/bin/Valet.Server.Tests/<config>/; the server is built beside them.
        var dir = AppContext.BaseDirectory.TrimEnd('/');
        var config = Path.GetFileName(dir);
        var bin = Path.GetDirectoryName(Path.GetDirectoryName(dir))!;
        return Path.Combine(bin, "Valet.Server", config, "Valet.Server.dll");
    }

    async Task LaunchAsync(bool waitUntilReady)
    {
        lock (output) output.Clear();
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])[ServerDll(), "serve", "--urls", "http://127.0.0.1:0", "--home", Home])
            psi.ArgumentList.Add(a);
        if (ConfigPath is not null)
        {
            psi.ArgumentList.Add("--config");
            psi.ArgumentList.Add(ConfigPath);
        }
        if (Database is not null)
        {
            psi.ArgumentList.Add("--database");
            psi.ArgumentList.Add(Database.Url);
        }
        psi.Environment.Remove("VALET_HOME");
        psi.Environment.Remove("VALET_DATABASE");
        psi.Environment.Remove("VALET_SECRETS");
        psi.Environment.Remove("VALET_CONFIG");
        psi.Environment.Remove("VALET_URLS");
        foreach (var (k, v) in environment)
            psi.Environment[k] = v;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => OnLine(e.Data, listening);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, listening);
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("Valet exited: " + Output));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!waitUntilReady)
            return;
        BaseAddress = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await WaitUntilAsync(async () =>
        {
            try { return (await Anonymous().GetAsync("healthz")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, TimeSpan.FromSeconds(30), "healthz");
    }

    void OnLine(string? line, TaskCompletionSource<Uri> listening)
    {
        if (line is null)
            return;
        lock (output) output.AppendLine(line);
        var marker = "Now listening on: ";
        var at = line.IndexOf(marker, StringComparison.Ordinal);
        if (at >= 0)
            listening.TrySetResult(new Uri(line[(at + marker.Length)..].Trim().TrimEnd('/') + "/"));
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await process!.WaitForExitAsync().WaitAsync(timeout);
        return process.ExitCode;
    }

    /// <summary>Ctrl-C's graceful path: SIGTERM, then wait for the process to end.</summary>
    public async Task StopAsync()
    {
        if (process is null || process.HasExited)
            return;
        _ = kill(process.Id, 15);
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(40));
    }

    /// <summary>A crash: SIGKILL, nothing gets to clean up.</summary>
    public async Task KillAsync()
    {
        if (process is null || process.HasExited)
            return;
        process.Kill();
        await process.WaitForExitAsync();
    }

    public Task RestartAsync() => LaunchAsync(waitUntilReady: true);

    public HttpClient Anonymous() => Client(null, null);

    /// <summary>The admin by password, sending a crumb (and its session cookie) with every unsafe request.</summary>
    public HttpClient Admin() => Client("admin", AdminPassword, crumbs: true);

    /// <summary>
    /// A client with HTTP Basic when <paramref name="user"/> is given. With <paramref name="crumbs"/> it
    /// keeps cookies and fetches a crumb before its first unsafe request, as python-jenkins does.
    /// </summary>
    public HttpClient Client(string? user, string? secret, bool followRedirects = false, bool crumbs = false)
    {
        HttpMessageHandler handler = new HttpClientHandler { AllowAutoRedirect = followRedirects, UseCookies = crumbs };
        if (crumbs)
            handler = new CrumbHandler(BaseAddress) { InnerHandler = handler };
        var client = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (user is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{secret}")));
        return client;
    }

    /// <summary>A browser-like client: a cookie jar, no credentials until it signs in through the form.</summary>
    public HttpClient Browser(CookieContainer? cookies = null) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = cookies ?? new CookieContainer() })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };

    /// <summary>Adds `Jenkins-Crumb` to unsafe requests that lack one, fetching it once with the request's own credentials.</summary>
    sealed class CrumbHandler(Uri baseAddress) : DelegatingHandler
    {
        string? crumb;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            if (request.Method != HttpMethod.Get && request.Method != HttpMethod.Head && !request.Headers.Contains("Jenkins-Crumb"))
            {
                if (crumb is null)
                {
                    using var ask = new HttpRequestMessage(HttpMethod.Get, new Uri(baseAddress, "crumbIssuer/api/json"));
                    ask.Headers.Authorization = request.Headers.Authorization;
                    using var answer = await base.SendAsync(ask, ct);
                    if (answer.IsSuccessStatusCode)
                        crumb = JsonNode.Parse(await answer.Content.ReadAsStringAsync(ct))!["crumb"]!.GetValue<string>();
                }
                if (crumb is not null)
                    request.Headers.Add("Jenkins-Crumb", crumb);
            }
            return await base.SendAsync(request, ct);
        }
    }

    public async Task<JsonNode> GetJsonAsync(string path, HttpClient? client = null)
    {
        using var response = await (client ?? Admin()).GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>Waits until a build has finished and returns its JSON.</summary>
    public async Task<JsonNode> WaitForBuildAsync(string jobPath, int number, TimeSpan? timeout = null)
    {
        JsonNode? build = null;
        await WaitUntilAsync(async () =>
        {
            using var response = await Admin().GetAsync($"{jobPath}{number}/api/json");
            if (!response.IsSuccessStatusCode)
                return false;
            build = JsonNode.Parse(await response.Content.ReadAsStringAsync());
            return build!["building"]!.GetValue<bool>() == false;
        }, timeout ?? TimeSpan.FromSeconds(60), $"build {jobPath}{number} to finish");
        return build!;
    }

    /// <summary>The build's console; empty while the build does not exist yet (its item is still queued).</summary>
    public async Task<string> ConsoleAsync(string jobPath, int number)
    {
        using var response = await Admin().GetAsync($"{jobPath}{number}/consoleText");
        if (response.StatusCode == HttpStatusCode.NotFound)
            return "";
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; a failed HTTP call counts as "not yet".</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await Holds())
        {
            if (deadline.Elapsed > timeout)
                throw new TimeoutException($"Timed out waiting for {what}");
            await Task.Delay(100);
        }

        async Task<bool> Holds()
        {
            try { return await condition(); }
            catch (HttpRequestException) { return false; }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        KillRecordedGroups();
        process?.Dispose();
        try { Directory.Delete(Home, recursive: true); }
        catch (IOException) { }
        if (ConfigPath is not null)
            File.Delete(ConfigPath);
        if (ownsDatabase)
            await Database!.DisposeAsync();
    }

    /// <summary>
    /// The steps a killed server left running (the groups it recorded in its home, whose leader still has
    /// the recorded start time), so that no `sleep 300` outlives a test that ends with a kill.
    /// </summary>
    void KillRecordedGroups()
    {
        var records = Path.Combine(Home, "run", "groups");
        if (!Directory.Exists(records))
            return;
        foreach (var file in Directory.GetFiles(records))
        {
            var recorded = File.ReadAllText(file).Split(' ');
            if (recorded.Length == 3 && int.TryParse(recorded[0], out var group) && group > 1
                && Valet.Core.Execution.ProcessGroups.StartTime(group)?.ToString(System.Globalization.CultureInfo.InvariantCulture) == recorded[1])
                _ = kill(-group, 9);
        }
    }

    [LibraryImport("libc")]
    private static partial int kill(int pid, int sig);
}
