using System.CommandLine;
using System.Data.Common;
using Valet.Core;
using Valet.Core.Storage;

namespace Valet.Server.Hosting;

/// <summary>
/// `valet move-to-postgres --to URL [--home DIR] [--secrets DIR]`: copies the SQLite store of a home into
/// an empty PostgreSQL database (<see cref="MoveToPostgres"/>), holding the home so no server writes meanwhile.
/// </summary>
public static class MoveToPostgresCommand
{
    public const string Verb = "move-to-postgres";

    public static Task<int> RunAsync(string[] args)
    {
        var to = new Option<string>("--to") { Description = "the empty PostgreSQL database: postgresql://user:password@host:port/dbname", Required = true };
        var home = new Option<string?>("--home") { Description = "the home whose SQLite store moves (default: VALET_HOME, else ~/.valet)" };
        var secrets = new Option<string?>("--secrets") { Description = "the secrets directory the servers will use (default: VALET_SECRETS, else the home's secrets/)" };
        var verb = new Command(Verb, "Copy this installation's SQLite store into an empty PostgreSQL database") { to, home, secrets };
        verb.SetAction((parsed, ct) =>
        {
            // The same defaults and VALET_* variables as `serve`.
            var settings = ValetSettings.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["home"] = parsed.GetValue(home),
                ["secrets"] = parsed.GetValue(secrets),
            }).Build());
            return MoveAsync(new ValetHome(settings.Home, settings.Secrets), parsed.GetValue(to)!, ct);
        });
        var root = new RootCommand("Valet") { verb };
        return root.Parse(args).InvokeAsync();
    }

    static async Task<int> MoveAsync(ValetHome home, string url, CancellationToken ct)
    {
        if (!File.Exists(home.DatabaseFile))
        {
            Console.Error.WriteLine($"Valet did not move anything: there is no SQLite store at {home.DatabaseFile}.");
            return 1;
        }
        // The move reads a store no server may change under it, and no server may start on the home meanwhile.
        using var homeLock = HomeLock.TryAcquire(home, "(moving to PostgreSQL)", TimeProvider.System, out var holder);
        if (homeLock is null)
        {
            Console.Error.WriteLine($"Valet did not move anything: a server holds the home {home.Root}: {holder}.");
            Console.Error.WriteLine("Stop that server first; the move copies a store no server is writing.");
            return 1;
        }
        using var loggers = LoggerFactory.Create(b => b
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
            .SetMinimumLevel(LogLevel.Warning));
        MoveToPostgres.Outcome outcome;
        try
        {
            outcome = await MoveToPostgres.RunAsync(home, url, loggers, ct);
        }
        catch (Exception e) when (e is DbException or IOException or FormatException)
        {
            Console.Error.WriteLine($"Valet did not move anything: {e.Message}");
            return 1;
        }
        if (outcome.Refusal is { } refusal)
        {
            Console.Error.WriteLine(refusal);
            return 1;
        }
        Console.Out.WriteLine($"Moved the SQLite store of {home.Root} to PostgreSQL:");
        foreach (var line in MoveToPostgres.Summary(outcome, home))
            Console.Out.WriteLine(line);
        Console.Out.WriteLine($"Start the servers with --database and the secrets in {home.Secrets} (--secrets); {home.DatabaseFile} is left as it was.");
        return 0;
    }
}
