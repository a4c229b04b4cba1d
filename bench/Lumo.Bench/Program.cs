using Lumo.Bench;
using Lumo.Bench.Scenarios;
using Lumo.Core.KlaviyoEvents;
using Lumo.Sandbox;
using Lumo.Sandbox.Local;

// Benchmarks print figures measured in this run, against floors and ceilings measured (or enforced) in the same run.
// Usage: dotnet run -c Release --project bench/Lumo.Bench -- [--operations N] [--concurrency C] [--webhooks N] [--backlog N]
var operations = ArgValue("--operations", 2000);
var concurrency = ArgValue("--concurrency", 32);
var webhooks = ArgValue("--webhooks", 400);
var backlog = ArgValue("--backlog", 100_000);

Console.WriteLine($"Lumo bench — {DateTime.UtcNow:u}, {Environment.ProcessorCount} cores");
await using var azurite = await AzuriteProcess.StartAsync();
await using var sandbox = await SandboxHost.StartAsync();

Console.WriteLine();
Console.WriteLine($"1. Azurite floor (raw storage operations, in-memory Azurite; {operations} ops, concurrency {concurrency})");
var floor = await AzuriteFloor.RunAsync(azurite.ConnectionString, operations, concurrency);
foreach (var m in floor) Console.WriteLine("   " + m);
var enqueueFloor = floor.Single(m => m.Name == "queue enqueue").PerSecond;
var deleteFloor = floor.Single(m => m.Name.StartsWith("table delete", StringComparison.Ordinal)).PerSecond;

Console.WriteLine();
Console.WriteLine($"2. LINE webhook intake ({webhooks} signed bodies of {WebhookIntake.EventsPerBody} events, concurrency 16)");
var app = await FunctionApp.StartAsync(azurite.ConnectionString, sandbox.BaseUrl, runTriggers: false);
var intake = await WebhookIntake.RunAsync(app, sandbox, webhooks, 16);
Console.WriteLine("   " + intake);
var eventsPerSecond = intake.PerSecond * WebhookIntake.EventsPerBody;
Console.WriteLine($"   = {eventsPerSecond:N0} events/s; {intake.PerSecond / enqueueFloor:P0} of the Azurite enqueue floor in requests/s " +
                  $"(each body is one signature check and one queue message)");

Console.WriteLine();
Console.WriteLine($"3. Klaviyo event export: {backlog:N0}-event backlog, sandbox injecting 2.5% 429 + 2.5% 500");
var export = await EventExport.RunAsync(azurite.ConnectionString, sandbox, backlog);
var achieved = export.Recorded / export.Elapsed.TotalSeconds;
var steadyCeiling = KlaviyoRateLimits.BulkEventsPerMinute / 60.0 * KlaviyoEventExporter.MaxEventsPerRequest;
Console.WriteLine($"   {export.Recorded:N0} recorded in {export.Elapsed.TotalSeconds:N1} s = {achieved:N0} events/s over {export.Requests} bulk requests ({export.Throttled} throttled by the sandbox)");
Console.WriteLine($"   = {achieved / steadyCeiling:P0} of the steady ceiling ({steadyCeiling:N0} events/s = 150 requests/min × 1,000)");
Console.WriteLine($"   = {achieved / deleteFloor:P0} of the Azurite floor for removing exported rows ({deleteFloor:N0} rows/s): each event is one row read, sent, then deleted");
Console.WriteLine($"   lost: {export.Backlog - export.Distinct}, duplicated: {export.Recorded - export.Distinct}, parked: {export.Parked}, re-sends Klaviyo de-duplicated: {export.DuplicatesIgnored}");
Environment.Exit(0); // the function app runs on a background thread until the process ends

int ArgValue(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
}
