using Lumo.Core.Dashboard;
using Lumo.Core.Storage;
using Lumo.Functions.Admin;
using Lumo.Functions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.Operations;

/// <summary>The dashboard of a workspace: integration status, the connected Klaviyo account, and the sync history.</summary>
public static class DashboardEndpoints
{
    public const int HistoryLimit = 100;

    public static RouteGroupBuilder MapDashboardEndpoints(this RouteGroupBuilder manage)
    {
        manage.MapGet("/workspaces/{workspaceId}/dashboard", GetDashboard).WithTags("Dashboard");
        return manage;
    }

    /// <summary>
    /// Status (healthy, needs-reconnect with the refused credentials, sync failing, or not checked yet), the connected
    /// Klaviyo account, and the latest 100 syncs of every kind; <c>?failures=true</c> adds what failed in each.
    /// </summary>
    public static async Task<Results<Ok<WorkspaceDashboard>, ProblemHttpResult>> GetDashboard(string workspaceId, bool? failures, WorkspaceDashboards dashboards,
        FunctionManifest manifest, LumoQueues queues, CancellationToken ct)
    {
        var parkedWork = (await ParkedWork.CountAsync(manifest, queues, ct)).Sum(q => q.Count);
        return await dashboards.GetAsync(workspaceId, parkedWork, failures == true, HistoryLimit, Connections.KlaviyoAppEndpoints.ConnectPagePath(workspaceId), ct) is { } dashboard
            ? TypedResults.Ok(dashboard) : AdminProblems.WorkspaceNotFound(workspaceId);
    }
}
