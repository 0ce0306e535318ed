using Microsoft.AspNetCore.Hosting.Server.Features;
using Valet.Core;
using Valet.Core.Configuration;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Scm;
using Valet.Core.Security;
using Valet.Core.Storage;
using Valet.Core.Triggers;
using Valet.Server.Execution;
using Valet.Server.Items;
using Valet.Server.Queue;
using Valet.Server.Scm;
using Valet.Server.RemoteApi;
using Valet.Server.Security;
using Valet.Server.Triggers;

namespace Valet.Server.Hosting;

public static class ValetServices
{
    public static void AddValet(this WebApplicationBuilder builder, ValetSettings settings, ValetConfig config)
    {
        var home = new ValetHome(settings.Home, settings.Secrets);
        Directory.CreateDirectory(home.Root);
        FileModes.RestrictDirectory(home.Root);
        builder.WebHost.UseUrls(settings.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = BodyLimitMiddleware.DrainLimit);
        builder.Host.ConfigureHostOptions(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        builder.AddValetLogging(home.Logs);

        var s = builder.Services;
        s.AddSingleton(home);
        s.AddSingleton(settings);
        s.AddSingleton(config);
        s.AddSingleton(config.Server);
        s.AddSingleton(config.Security);
        s.AddSingleton(TimeProvider.System);
        s.AddSingleton(sp => Database.Create(settings.Database, home.DatabaseFile, sp.GetRequiredService<ILoggerFactory>()));
        s.AddSingleton<InstallationSecrets>();
        s.AddSingleton<ItemStore>();
        s.AddSingleton<JobTokens>();
        s.AddSingleton<UserStore>();
        s.AddValetSecurity();
        s.AddSingleton<ConfigApplier>();
        s.AddSingleton<BuildQueue>();
        s.AddSingleton<BuildStore>();
        s.AddSingleton<ConsoleLogs>();
        s.AddSingleton<ProcessGroups>();
        s.AddSingleton<ProcessRunner>();
        s.AddSingleton<IStepRunner, ShellStepRunner>();
        s.AddSingleton(new Authorizer(config.Security));
        s.Configure<ExecutorOptions>(o =>
        {
            o.Count = config.Server.Executors ?? Environment.ProcessorCount;
            o.RootUrl = config.Server.RootUrl ?? settings.Urls.Split(';')[0].TrimEnd('/') + "/";
            o.Environment = config.Server.Environment;
        });
        s.AddSingleton(ServerNode.ForThisProcess(settings.Urls));
        s.AddSingleton<ServerNodes>();
        s.AddSingleton<BuildDispatcher>();
        s.AddSingleton<ServerHeartbeat>();
        // First, so it stops last: the causes of trailing folds are written after the executors stop.
        s.AddHostedService(sp => sp.GetRequiredService<BuildQueue>());
        // Before the dispatcher: what a crash or a dead server left is ended before anything is claimed.
        s.AddHostedService(sp => sp.GetRequiredService<ServerHeartbeat>());
        s.AddHostedService(sp => sp.GetRequiredService<BuildDispatcher>());
        s.AddSingleton<ItemAccess>();
        s.AddSingleton<ClientAddress>();
        s.AddSingleton<BuildRequests>();
        s.AddSingleton(config.Security.TriggerGuard);
        s.AddSingleton<TriggerGuard>();
        s.AddSingleton<IdempotencyKeys>();
        s.AddSingleton<TokenTrigger>();
        s.AddSingleton<TriggerAudit>();
        s.AddHostedService(sp => sp.GetRequiredService<TriggerAudit>());
        s.AddSingleton<ApiModels>();
        s.AddSingleton<GitClient>();
        s.AddSingleton<ScmStore>();
        s.AddSingleton<GitCheckout>();
        s.AddSingleton<PollRequests>();
        s.AddSingleton<PollingLog>();
        s.AddSingleton<ScmPoller>();
        s.AddHostedService(sp => sp.GetRequiredService<ScmPoller>());
        s.AddSingleton<CronScheduler>();
        s.AddHostedService(sp => sp.GetRequiredService<CronScheduler>());
        s.AddSingleton<ItemXml>();
    }

    public static void UseValet(this WebApplication app)
    {
        // The path of server.rootUrl is the base path: stripped from requests, kept in written URLs.
        if (app.Services.GetRequiredService<ValetConfig>().Server.RootUrl is { } rootUrl && new Uri(rootUrl).AbsolutePath.TrimEnd('/') is { Length: > 0 } basePath)
            app.UsePathBase(basePath);
        app.UseMiddleware<JenkinsHeadersMiddleware>();
        app.UseMiddleware<RequestLogMiddleware>();
        app.UseMiddleware<ErrorBoundaryMiddleware>();
        app.UseMiddleware<BodyLimitMiddleware>();
        app.UseMiddleware<AuthenticationMiddleware>();
        app.UseMiddleware<ItemPathsMiddleware>();
        app.UseRouting();
        app.Use(ItemPathsMiddleware.RestoreAsync);
        app.UseMiddleware<CrumbMiddleware>();
        app.UseMiddleware<OverallReadMiddleware>();
        app.UseMiddleware<ItemAccessMiddleware>();

        app.MapGet("/healthz", (Database db) => db.Failure is null
            ? Results.Text("ok\n")
            : Results.Text("store-failed: Valet cannot store anything now\n", statusCode: 503)).AllowAnonymous();
        app.MapRoot();
        app.MapItems();
        app.MapBuilds();
        app.MapCoreTriggers();
        app.MapJobTokens();
        app.MapQueue();
        app.MapSecurity();
        app.MapBuildByToken();
        app.MapAudit();
        app.MapScm();
        app.MapConfigXml();

        // BUILD_URL needs the real address when the server was asked for port 0.
        var executorOptions = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ExecutorOptions>>().Value;
        var server = app.Services.GetRequiredService<ValetConfig>().Server;
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            if (server.RootUrl is null && app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() is { } address)
                executorOptions.RootUrl = address.TrimEnd('/') + "/";
        });
    }
}
