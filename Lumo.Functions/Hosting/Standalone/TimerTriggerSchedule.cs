using System.Text.Json.Nodes;
using NCrontab;

namespace Lumo.Functions.Hosting.Standalone;

/// <summary>
/// Fires one timer function on its NCRONTAB schedule (six fields with seconds, or five; UTC), with the host's
/// timer payload. Like the host, a failed run is logged and not repeated: the next occurrence is the retry.
/// </summary>
internal sealed class TimerTriggerSchedule(FunctionDefinition function, IConfiguration configuration, TriggerDelivery delivery, TimeProvider clock, ILogger logger)
{
    public static CrontabSchedule Parse(string expression) =>
        CrontabSchedule.Parse(expression, new CrontabSchedule.ParseOptions
        {
            IncludingSeconds = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6,
        });

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var expression = ResolveSetting(function.Schedule!);
        var schedule = Parse(expression);
        DateTime? last = null;
        logger.LogInformation("Standalone runner fires timer {FunctionName} on {Schedule}", function.Name, expression);

        if (function.RunOnStartup)
            last = await FireAsync(schedule, last, isPastDue: false, stoppingToken);

        while (!stoppingToken.IsCancellationRequested)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var next = schedule.GetNextOccurrence(now);
            try
            {
                await Task.Delay(next - now, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var lateBy = clock.GetUtcNow().UtcDateTime - next;
            last = await FireAsync(schedule, last, isPastDue: lateBy > TimeSpan.FromSeconds(30), stoppingToken);
        }
    }

    private async Task<DateTime> FireAsync(CrontabSchedule schedule, DateTime? last, bool isPastDue, CancellationToken stoppingToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var envelope = new JsonObject
        {
            ["Data"] = new JsonObject
            {
                [function.BindingName] = new JsonObject
                {
                    ["Schedule"] = new JsonObject { ["AdjustForDST"] = true },
                    ["ScheduleStatus"] = new JsonObject
                    {
                        ["Last"] = (last ?? DateTime.MinValue).ToString("O"),
                        ["Next"] = schedule.GetNextOccurrence(now).ToString("O"),
                        ["LastUpdated"] = now.ToString("O"),
                    },
                    ["IsPastDue"] = isPastDue,
                },
            },
            ["Metadata"] = new JsonObject
            {
                ["sys"] = new JsonObject { ["MethodName"] = function.Name, ["UtcNow"] = now.ToString("O"), ["RandGuid"] = Guid.NewGuid().ToString() },
            },
        };
        try
        {
            if (!await delivery.InvokeAsync(function.Name, envelope, stoppingToken))
                logger.LogError("Timer function {FunctionName} failed; it runs again at its next occurrence", function.Name);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogError(e, "Timer function {FunctionName} could not be invoked", function.Name);
        }
        return now;
    }

    // function.json may name an app setting instead of a literal (%Setting%), as the host allows.
    private string ResolveSetting(string value) =>
        value.StartsWith('%') && value.EndsWith('%')
            ? configuration[value.Trim('%').Replace("__", ":")] ?? throw new InvalidOperationException($"Setting {value} used by {function.Name} is not set.")
            : value;
}
