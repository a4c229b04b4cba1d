using Lumo.Core.Storage;
using Microsoft.Extensions.Options;

namespace Lumo.Functions.Hosting.Standalone;

/// <summary>
/// Stands in for the Functions host where none runs: reads the same function.json files, fires the timers and
/// drains the queues, delivering the host's envelopes to the same <c>/{FunctionName}</c> endpoints. Registered only
/// in standalone mode, and it refuses to start if a host is present, since every instance would fire every timer.
/// </summary>
internal sealed class StandaloneTriggerRunner(
    FunctionManifest manifest, HostingMode mode, LumoQueues queues, TriggerDelivery delivery, IConfiguration configuration,
    TimeProvider clock, IHostApplicationLifetime lifetime, ILoggerFactory loggers) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var logger = loggers.CreateLogger<StandaloneTriggerRunner>();
        if (mode.IsUnderFunctionsHost)
        {
            logger.LogError("The standalone trigger runner must not run under the Functions host; it stays off");
            return;
        }
        if (!configuration.GetValue("Lumo:Standalone:RunTriggers", true))
        {
            logger.LogInformation("Standalone trigger runner is switched off (Lumo:Standalone:RunTriggers=false)");
            return;
        }
        // Deliveries go to our own HTTP endpoints, which exist only once the server has started.
        if (!await WaitForStartAsync(stoppingToken)) return;

        // Another host.json can be named for a local experiment (or a test that wants fast retries).
        var settings = HostJsonSettings.Read(configuration["Lumo:Standalone:HostJsonPath"] ?? Path.Combine(AppContext.BaseDirectory, "host.json"));
        var runs = new List<Task>();
        foreach (var function in manifest.Functions)
        {
            var functionLogger = loggers.CreateLogger("Lumo.Standalone." + function.Name);
            // The Functions host's own switch (https://learn.microsoft.com/azure/azure-functions/disable-function):
            // AzureWebJobs.<name>.Disabled, or AzureWebJobs__<name>__Disabled where a name cannot hold dots.
            if (configuration.GetValue($"AzureWebJobs.{function.Name}.Disabled", false) || configuration.GetValue($"AzureWebJobs:{function.Name}:Disabled", false))
            {
                functionLogger.LogInformation("Function {FunctionName} is disabled by configuration; its trigger is not run", function.Name);
                continue;
            }
            if (function.IsQueue)
                runs.Add(new QueueTriggerPump(function, queues, delivery, settings, clock, functionLogger).RunAsync(stoppingToken));
            else if (function.IsTimer)
                runs.Add(new TimerTriggerSchedule(function, configuration, delivery, clock, functionLogger).RunAsync(stoppingToken));
        }
        logger.LogWarning("Standalone mode: no Functions host present, this process runs {Count} timer and queue triggers itself", runs.Count);
        await Task.WhenAll(runs);
    }

    private async Task<bool> WaitForStartAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStopping = stoppingToken.Register(() => started.TrySetCanceled());
        try { await started.Task; return true; }
        catch (TaskCanceledException) { return false; }
    }
}

internal static class StandaloneServiceCollectionExtensions
{
    public static IServiceCollection AddStandaloneTriggerRunner(this IServiceCollection services)
    {
        services.AddOptions<TriggerDeliveryOptions>();
        services.AddSingleton<TriggerDelivery>();
        services.AddHostedService<StandaloneTriggerRunner>();
        return services;
    }
}
