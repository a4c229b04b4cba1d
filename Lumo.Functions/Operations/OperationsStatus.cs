using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Functions.Operations;

/// <summary>GET /api/health (function Health, anonymous): storage reachable, and when timers last ran.</summary>
public static class OperationsStatus
{
    internal const string Partition = "status";
    internal const string HeartbeatRow = "heartbeat";

    public sealed record HealthView(string Status, string Mode, DateTimeOffset? LastHeartbeatAt, int? ParkedCount, int? KlaviyoConnectionsNeedingReconnect);

    public static IEndpointRouteBuilder MapHealthEndpoint(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/health", GetHealth).WithTags("Operations");
        return routes;
    }

    public static async Task<IResult> GetHealth(LumoTables tables, Hosting.HostingMode mode, CancellationToken ct)
    {
        try
        {
            var status = await tables.GetAsync(TableNames.OperationsStatus, ct);
            var heartbeat = await status.GetEntityIfExistsAsync<TableEntity>(Partition, HeartbeatRow, cancellationToken: ct);
            return TypedResults.Ok(new HealthView("healthy", mode.IsStandalone ? "standalone" : "functions-host",
                heartbeat.HasValue ? heartbeat.Value!.GetDateTimeOffset("LastRunAt") : null,
                heartbeat.HasValue ? heartbeat.Value!.GetInt32("ParkedCount") : null,
                heartbeat.HasValue ? heartbeat.Value!.GetInt32("KlaviyoNeedsReconnect") : null));
        }
        catch (Azure.RequestFailedException)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Storage unreachable");
        }
    }
}
