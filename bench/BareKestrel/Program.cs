// The yardstick for bench/run: the same host and server as Valet, with nothing behind one route.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapGet("/", () => Results.Text("ok\n"));
app.Run();
