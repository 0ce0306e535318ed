using Valet.Server.Hosting;

Valet.Core.FileModes.RestrictUmask();
if (args is [MoveToPostgresCommand.Verb, ..])
    return await MoveToPostgresCommand.RunAsync(args);
// `valet serve` passes its verb along.
var serverArgs = args.SkipWhile(a => a == "serve").ToArray();
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = serverArgs, ContentRootPath = AppContext.BaseDirectory });
ValetSettings.KeepOnlyValetSources(builder.Configuration);
var settings = ValetSettings.From(builder.Configuration);
// Before the database is opened: with SQLite, two servers on one home would both claim its queue.
using var homeLock = Valet.Core.HomeLock.TryAcquire(new Valet.Core.ValetHome(settings.Home), settings.Urls, TimeProvider.System, out var holder);
if (homeLock is null)
{
    Console.Error.WriteLine($"Valet did not start: another server holds the home {settings.Home}: {holder}.");
    Console.Error.WriteLine("One server per home: stop that server, or start this one with another --home.");
    return 1;
}

var configRead = Bootstrap.ReadConfig(settings);
if (configRead.Config is null)
{
    foreach (var error in configRead.Errors)
        Console.Error.WriteLine(error);
    Console.Error.WriteLine("Valet did not start: fix the configuration file and start again.");
    return 2;
}

builder.AddValet(settings, configRead.Config);
var app = builder.Build();
app.UseValet();
app.Lifetime.ApplicationStarted.Register(() => homeLock.Record(string.Join(';', app.Urls)));

var problems = await Bootstrap.PrepareAsync(app.Services, settings, configRead.Config, CancellationToken.None);
if (problems.Count > 0)
{
    foreach (var problem in problems)
        Console.Error.WriteLine(problem);
    return 2;
}

await app.RunAsync();
return 0;

public partial class Program;
