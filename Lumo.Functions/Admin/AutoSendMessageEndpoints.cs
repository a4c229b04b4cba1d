using System.Text.Json.Nodes;
using Lumo.Core.AutoSendMessages;
using Lumo.Core.FlowSends;
using Lumo.Core.ProductCards;
using Lumo.Core.Workspaces;
using Microsoft.AspNetCore.Http.HttpResults;

using Lumo.Core.Tracking;

namespace Lumo.Functions.Admin;

/// <summary>Auto Send Messages: reusable LINE messages, validated against LINE's limits, and "Get JSON" for Flows.</summary>
public static class AutoSendMessageEndpoints
{
    /// <summary>An Auto Send Message; tracking is on unless <c>TrackOpensAndClicks</c> is false, and <c>Utm</c> overrides the default UTM parameters.</summary>
    public sealed record MessageDraft(string? Name, JsonArray? Messages, bool? TrackOpensAndClicks = null, Dictionary<string, string>? Utm = null);
    public sealed record MessageView(string Id, string Name, JsonArray Messages, IReadOnlyList<string> Variables, bool TrackOpensAndClicks,
        IReadOnlyDictionary<string, string> Utm, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
    public sealed record FlowJsonView(string DestinationUrl, string Method, string HeaderName, string Body);
    /// <summary>What to preview with: a Klaviyo event's properties (for a trigger product card) and variable values.</summary>
    public sealed record PreviewDraft(JsonObject? Event, Dictionary<string, string>? Variables);

    public static RouteGroupBuilder MapAutoSendMessageEndpoints(this RouteGroupBuilder manage)
    {
        var messages = manage.MapGroup("/workspaces/{workspaceId}/messages").WithTags("Auto Send Messages");
        messages.MapGet("/", List);
        messages.MapPost("/", Create);
        messages.MapGet("/{messageId}", Get);
        messages.MapPut("/{messageId}", Replace);
        messages.MapDelete("/{messageId}", Delete);
        messages.MapGet("/{messageId}/flow-json", GetFlowJson);
        messages.MapPost("/{messageId}/preview", Preview);
        return manage;
    }

    public static async Task<Ok<List<MessageView>>> List(string workspaceId, AutoSendMessageStore store, CancellationToken ct) =>
        TypedResults.Ok((await store.ListAsync(workspaceId, ct)).Select(View).ToList());

    public static async Task<Results<Ok<MessageView>, ProblemHttpResult>> Get(string workspaceId, string messageId, AutoSendMessageStore store, CancellationToken ct) =>
        await store.GetIfExistsAsync(workspaceId, messageId, ct) is { } message ? TypedResults.Ok(View(message)) : NotFound(messageId);

    public static async Task<Results<Created<MessageView>, ValidationProblem, ProblemHttpResult>> Create(
        string workspaceId, MessageDraft draft, WorkspaceStore workspaces, AutoSendMessageStore store, TimeProvider clock, CancellationToken ct)
    {
        if (await workspaces.GetWorkspaceIfExistsAsync(workspaceId, ct) is null)
            return AdminProblems.WorkspaceNotFound(workspaceId);
        if (Validate(draft) is { Count: > 0 } errors) return TypedResults.ValidationProblem(errors);
        var now = clock.GetUtcNow();
        var message = new AutoSendMessage
        {
            WorkspaceId = workspaceId, Id = Guid.NewGuid().ToString("N")[..16], Name = draft.Name!.Trim(), Messages = draft.Messages!,
            TrackOpensAndClicks = draft.TrackOpensAndClicks ?? true, Utm = draft.Utm ?? [], CreatedAt = now, UpdatedAt = now,
        };
        await store.SaveAsync(message, ct);
        return TypedResults.Created($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/messages/{message.Id}", View(message));
    }

    public static async Task<Results<Ok<MessageView>, ValidationProblem, ProblemHttpResult>> Replace(
        string workspaceId, string messageId, MessageDraft draft, AutoSendMessageStore store, TimeProvider clock, CancellationToken ct)
    {
        if (Validate(draft) is { Count: > 0 } errors) return TypedResults.ValidationProblem(errors);
        if (await store.GetIfExistsAsync(workspaceId, messageId, ct) is not { } existing) return NotFound(messageId);
        var message = existing with
        {
            Name = draft.Name!.Trim(), Messages = draft.Messages!, TrackOpensAndClicks = draft.TrackOpensAndClicks ?? true, Utm = draft.Utm ?? [], UpdatedAt = clock.GetUtcNow(),
        };
        await store.SaveAsync(message, ct);
        return TypedResults.Ok(View(message));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string workspaceId, string messageId, AutoSendMessageStore store, CancellationToken ct) =>
        await store.DeleteAsync(workspaceId, messageId, ct) ? TypedResults.NoContent() : NotFound(messageId);

    /// <summary>
    /// "Get JSON": the exact body to paste into a Klaviyo Flow webhook action for this message and LINE account,
    /// with the recipient merge variable and one Klaviyo merge variable per placeholder. It is valid JSON once
    /// Klaviyo has rendered it, as long as the profile values hold no double quotes; a trigger product card's products
    /// come Base64-encoded (<see cref="TriggerBodies"/>), so they are safe whatever they hold.
    /// </summary>
    public static async Task<Results<Ok<FlowJsonView>, ProblemHttpResult>> GetFlowJson(
        string workspaceId, string messageId, string? account, HttpRequest request, WorkspaceStore workspaces, AutoSendMessageStore store, CancellationToken ct)
    {
        if (await store.GetIfExistsAsync(workspaceId, messageId, ct) is not { } message) return NotFound(messageId);
        var accounts = await workspaces.ListAccountsAsync(workspaceId, ct);
        var chosen = account is null ? accounts.FirstOrDefault() : accounts.FirstOrDefault(a => a.Id == account);
        if (chosen is null)
            return AdminProblems.NotFound("LINE account not found", "Choose a LINE account of this workspace with ?account=<id>.");
        var body = new JsonObject
        {
            ["to"] = $"{{{{ person|lookup:'{chosen.PropertyNames.UserId}' }}}}",
            ["account"] = chosen.Id,
            ["message"] = message.Id,
            ["variables"] = new JsonObject(message.ProfileVariables.Select(v => KeyValuePair.Create(v, (JsonNode?)$"{{{{ person|lookup:'{v}'|default:'' }}}}"))),
            ["idempotencyKey"] = FlowSendRequest.RecommendedIdempotencyKey,
        };
        var template = message.TriggerTemplate;
        if (template is not null) body["trigger"] = TriggerBodies.Placeholder;
        var text = body.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        if (template is not null) text = TriggerBodies.Insert(text, template.Value);
        return TypedResults.Ok(new FlowJsonView($"{request.Scheme}://{request.Host}/api/flow/{workspaceId}/send", "POST", FlowKeys.HeaderName, text));
    }

    /// <summary>The LINE messages a Flow send would push for this event and these variables (no tracking links), with any problems.</summary>
    public static async Task<Results<Ok<MessagePreview>, ProblemHttpResult>> Preview(
        string workspaceId, string messageId, PreviewDraft draft, ProductCardPreview preview, CancellationToken ct) =>
        await preview.PreviewAsync(workspaceId, messageId, draft.Event, draft.Variables, ct) is { } result ? TypedResults.Ok(result) : NotFound(messageId);

    private static Dictionary<string, string[]> Validate(MessageDraft draft)
    {
        var errors = LineMessageRules.Validate(draft.Messages);
        if (string.IsNullOrWhiteSpace(draft.Name) || draft.Name.Length > 100) errors["name"] = ["A name has 1 to 100 characters."];
        if (draft.Utm?.FirstOrDefault(p => !Utm.Names.Contains(p.Key) || string.IsNullOrWhiteSpace(p.Value) || p.Value.Length > 100) is { Key: not null } bad)
            errors["utm"] = [$"'{bad.Key}': UTM overrides are {string.Join(", ", Utm.Names)}, each with 1 to 100 characters."];
        return errors;
    }

    private static MessageView View(AutoSendMessage m) => new(m.Id, m.Name, m.Messages, m.Variables, m.TrackOpensAndClicks, m.Utm, m.CreatedAt, m.UpdatedAt);

    private static ProblemHttpResult NotFound(string messageId) =>
        AdminProblems.NotFound("Auto Send Message not found", $"There is no Auto Send Message '{messageId}'.");
}
