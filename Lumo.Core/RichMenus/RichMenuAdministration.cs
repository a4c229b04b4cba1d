using Lumo.Core.Line;
using Lumo.Core.Segments;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;

namespace Lumo.Core.RichMenus;

/// <summary>Queue message: sync one account's rich menu links with its segments.</summary>
public sealed record RichMenuSyncRequest(string WorkspaceId, string AccountId);

/// <summary>The admin's use cases for rich menus: create (validated first, then created on LINE with its image), assign to a segment, make default, delete.</summary>
public sealed class RichMenuAdministration(RichMenuStore menus, SegmentStore segments, WorkspaceStore workspaces, LineMessagingClient line, LumoQueues queues,
    TimeProvider clock)
{
    /// <summary>The menu, or the problems by field (nothing created on LINE or stored); both null when the account does not exist.</summary>
    public async Task<(RichMenu? Menu, Dictionary<string, string[]>? Errors)> CreateAsync(string workspaceId, string accountId, RichMenuDraft draft,
        CancellationToken cancellationToken)
    {
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, cancellationToken) is null) return (null, null);
        var errors = new Dictionary<string, string[]>();
        var (image, contentType) = RichMenuRules.Validate(draft, errors);
        await CheckSegmentAsync(workspaceId, accountId, draft.SegmentId, errors, cancellationToken);
        if (errors.Count > 0) return (null, errors);

        var account = new LineAccountRef(workspaceId, accountId);
        var definition = new System.Text.Json.Nodes.JsonObject
        {
            ["size"] = new System.Text.Json.Nodes.JsonObject { ["width"] = draft.Width, ["height"] = draft.Height },
            ["selected"] = false, ["name"] = draft.Name!.Trim(), ["chatBarText"] = draft.ChatBarText!.Trim(), ["areas"] = draft.Areas!.DeepClone(),
        };
        var lineId = await line.CreateRichMenuAsync(account, definition, cancellationToken);
        try
        {
            await line.UploadRichMenuImageAsync(account, lineId, image!, contentType!, cancellationToken);
        }
        catch
        {
            // A menu without its image cannot be shown: do not leave it on LINE.
            await line.DeleteRichMenuIfExistsAsync(account, lineId, CancellationToken.None);
            throw;
        }
        var now = clock.GetUtcNow();
        var menu = await menus.SaveAsync(new RichMenu
        {
            WorkspaceId = workspaceId, AccountId = accountId, Id = Ids.NewLumoId(), Name = draft.Name!.Trim(), ChatBarText = draft.ChatBarText!.Trim(),
            Width = draft.Width!.Value, Height = draft.Height!.Value, Areas = draft.Areas!, LineRichMenuId = lineId, SegmentId = draft.SegmentId,
            Priority = draft.Priority ?? 100, CreatedAt = now, UpdatedAt = now,
        }, cancellationToken);
        if (draft.SegmentId is not null) await RequestSyncAsync(workspaceId, accountId, cancellationToken);
        return (menu, null);
    }

    /// <summary>Assigns the menu to a segment (null: to none) with a priority; the next sync links and unlinks accordingly (one is queued now).</summary>
    public async Task<(RichMenu? Menu, Dictionary<string, string[]>? Errors)> AssignAsync(RichMenu menu, string? segmentId, int? priority, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        RichMenuRules.CheckPriority(priority, errors);
        await CheckSegmentAsync(menu.WorkspaceId, menu.AccountId, segmentId, errors, cancellationToken);
        if (errors.Count > 0) return (null, errors);
        var saved = await menus.SaveAsync(menu with { SegmentId = segmentId, Priority = priority ?? menu.Priority, UpdatedAt = clock.GetUtcNow() }, cancellationToken);
        if (saved is null) return (null, new() { ["menu"] = ["The rich menu changed meanwhile; read it again."] });
        await RequestSyncAsync(menu.WorkspaceId, menu.AccountId, cancellationToken);
        return (saved, null);
    }

    /// <summary>Makes the menu the account's default on LINE (the one users without a menu of their own see).</summary>
    public async Task<RichMenu> MakeDefaultAsync(RichMenu menu, CancellationToken cancellationToken)
    {
        await line.SetDefaultRichMenuAsync(new LineAccountRef(menu.WorkspaceId, menu.AccountId), menu.LineRichMenuId, cancellationToken);
        var result = menu with { IsDefault = true };
        foreach (var other in await menus.ListAsync(menu.WorkspaceId, menu.AccountId, cancellationToken))
        {
            if (other.IsDefault == (other.Id == menu.Id)) continue;
            // A concurrent edit wins: the flag is only a label.
            var saved = await menus.SaveAsync(other with { IsDefault = other.Id == menu.Id }, cancellationToken);
            if (other.Id == menu.Id && saved is not null) result = saved;
        }
        return result;
    }

    /// <summary>Deletes the menu on LINE (which unlinks it from its users) and in Lumo; the next sync drops its links.</summary>
    public async Task DeleteAsync(RichMenu menu, CancellationToken cancellationToken)
    {
        await line.DeleteRichMenuIfExistsAsync(new LineAccountRef(menu.WorkspaceId, menu.AccountId), menu.LineRichMenuId, cancellationToken);
        await menus.DeleteAsync(menu, cancellationToken);
        await RequestSyncAsync(menu.WorkspaceId, menu.AccountId, cancellationToken);
    }

    public Task RequestSyncAsync(string workspaceId, string accountId, CancellationToken cancellationToken) =>
        queues.EnqueueAsync(QueueNames.RichMenuSyncs, new RichMenuSyncRequest(workspaceId, accountId), cancellationToken);

    private async Task CheckSegmentAsync(string workspaceId, string accountId, string? segmentId, Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        if (segmentId is not null && (!Ids.IsLumoId(segmentId) || await segments.GetIfExistsAsync(workspaceId, accountId, segmentId, cancellationToken) is null))
            errors["segmentId"] = [$"This LINE account has no segment '{segmentId}'."];
    }
}
