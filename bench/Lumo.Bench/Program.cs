using Lumo.Bench.Scenarios;
using Lumo.Sandbox.Local;

// Benchmarks print figures measured in this run, against floors and ceilings measured (or enforced) in the same run.
// Usage: dotnet run -c Release --project bench/Lumo.Bench -- [--operations N] [--concurrency C]
var operations = ArgValue("--operations", 2000);
var concurrency = ArgValue("--concurrency", 32);

Console.WriteLine($"Lumo bench — {DateTime.UtcNow:u}, {Environment.ProcessorCount} cores, {operations} operations, concurrency {concurrency}");
await using var azurite = await AzuriteProcess.StartAsync();

Console.WriteLine();
Console.WriteLine("Azurite floor (raw storage operations, in-memory Azurite on this machine)");
foreach (var m in await AzuriteFloor.RunAsync(azurite.ConnectionString, operations, concurrency))
    Console.WriteLine("  " + m);

int ArgValue(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
}
