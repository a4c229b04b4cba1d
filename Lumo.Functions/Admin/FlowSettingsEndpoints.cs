using System.Text.Json.Nodes;
using Lumo.Core.FlowSends;
using Lumo.Core.Secrets;
using Lumo.Core.Workspaces;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.Admin;

/// <summary>
/// Flow Message Settings (what a merchant copies into a Klaviyo Flow webhook action), Reissue Authentication Key,
/// and the send log.
/// </summary>
public static class FlowSettingsEndpoints
{
    public sealed record FlowSettingsView(string DestinationUrl, string Method, string HeaderName, string HeaderValue,
        DateTimeOffset KeyIssuedAt, string KeyIssuedBy, JsonObject ExampleBody);

    /// <summary>A send as the send log shows it, with its tracked links and images and when an open and clicks were recorded.</summary>
    public sealed record SendView(string SendId, string AccountId, string Recipient, string? ProfileId, string Source, string? MessageRef,
        SendStatus Status, string? Reason, string? LineRequestId, string? KeySource, Guid RetryKey, int TrackedLinks, int TrackedImages, DateTimeOffset? OpenedAt,
        List<int> ClickedLinks, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    public static RouteGroupBuilder MapFlowSettingsEndpoints(this RouteGroupBuilder manage)
    {
        var workspace = manage.MapGroup("/workspaces/{workspaceId}").WithTags("Klaviyo Flow");
        workspace.MapGet("/flow-settings", GetSettings);
        workspace.MapPost("/flow-settings/reissue-key", ReissueKey);
        workspace.MapGet("/sends", ListSends);
        return manage;
    }

    public static async Task<Results<Ok<FlowSettingsView>, ProblemHttpResult>> GetSettings(string workspaceId, HttpRequest request, WorkspaceStore workspaces, FlowKeys keys, CancellationToken ct)
    {
        if (await workspaces.GetWorkspaceIfExistsAsync(workspaceId, ct) is null) return AdminProblems.WorkspaceNotFound(workspaceId);
        try
        {
            return TypedResults.Ok(View(request, workspaceId, await keys.GetAsync(workspaceId, AdminIdentity.Of(request), ct), await workspaces.ListAccountsAsync(workspaceId, ct)));
        }
        catch (SecretUnavailableException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Flow key unavailable", detail: e.Message);
        }
    }

    /// <summary>Issues a new key. The old one is refused from the very next request, on every instance.</summary>
    public static async Task<Results<Ok<FlowSettingsView>, ProblemHttpResult>> ReissueKey(string workspaceId, HttpRequest request, WorkspaceStore workspaces, FlowKeys keys,
        ILoggerFactory loggers, CancellationToken ct)
    {
        if (await workspaces.GetWorkspaceIfExistsAsync(workspaceId, ct) is null) return AdminProblems.WorkspaceNotFound(workspaceId);
        var key = await keys.ReissueAsync(workspaceId, AdminIdentity.Of(request), ct);
        loggers.CreateLogger("Lumo.Admin").LogInformation("Flow key of workspace {WorkspaceId} reissued by {IssuedBy}", workspaceId, key.IssuedBy);
        return TypedResults.Ok(View(request, workspaceId, key, await workspaces.ListAccountsAsync(workspaceId, ct)));
    }

    /// <summary>The send log (at most 500), filtered by recipient (LINE user ID) and/or status.</summary>
    public static async Task<Ok<List<SendView>>> ListSends(string workspaceId, string? recipient, SendStatus? status, LineSendStore sends, CancellationToken ct) =>
        TypedResults.Ok((await sends.ListAsync(workspaceId, recipient, status, 500, ct)).Select(s => new SendView(s.Id, s.AccountId, s.Recipient, s.ProfileId,
            s.Source, s.MessageRef, s.Status, s.Reason, s.LineRequestId, s.KeySource, s.RetryKey, s.Links.Count, s.Images.Count, s.OpenedAt,
            s.ClickWindows.Keys.Order().ToList(), s.CreatedAt, s.UpdatedAt)).ToList());

    private static FlowSettingsView View(HttpRequest request, string workspaceId, FlowKey key, IReadOnlyList<LineAccount> accounts) => new(
        $"{request.Scheme}://{request.Host}/api/flow/{workspaceId}/send", "POST", FlowKeys.HeaderName, key.Value, key.IssuedAt, key.IssuedBy,
        new JsonObject
        {
            ["to"] = "{{ person|lookup:'LINE User ID' }}",
            ["account"] = accounts.FirstOrDefault()?.Id ?? "<LINE account id>",
            ["text"] = "Hello {{ person.first_name|default:'there' }}, your cart is waiting for you.",
            ["idempotencyKey"] = FlowSendRequest.RecommendedIdempotencyKey,
        });
}
