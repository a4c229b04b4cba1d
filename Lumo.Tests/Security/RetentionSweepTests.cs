using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Lumo.Core.FlowSends;
using Lumo.Core.IdLinkage;
using Lumo.Core.LineWebhooks;
using Lumo.Core.Storage;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Security;

/// <summary>The retention sweep deletes only what is past its retention, and keeps everything else.</summary>
public sealed class RetentionSweepTests : IAsyncLifetime
{
    private LumoApp _app = null!;

    public async Task InitializeAsync() => _app = await LumoApp.StartAsync(runTriggers: false);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task TheSweepDeletesOnlyWhatIsOld()
    {
        var now = DateTimeOffset.UtcNow;
        var (workspace, account, user) = ("0123456789abcdef", "fedcba9876543210", "U" + SandboxTenant.Hex(16));
        var sends = _app.Service<LineSendStore>();
        LineSend Send(string id, DateTimeOffset at) => new()
        {
            WorkspaceId = workspace, Id = id, AccountId = account, Recipient = user, Source = "flow", Messages = [], Status = SendStatus.Sent, CreatedAt = at, UpdatedAt = at,
        };
        // Each send recorded as the webhook records it: the send, its content claim and its pending mark, all of its time.
        Assert.NotNull(await sends.TryRecordNewAsync(Send("old0000000000000", now.AddDays(-91)), "oldclaim", null, default));
        Assert.NotNull(await sends.TryRecordNewAsync(Send("new0000000000000", now.AddDays(-89)), "newclaim", null, default));
        var log = _app.Service<LineEventLog>();
        await log.MarkAppliedAsync(workspace, account, Event("old-event"), now.AddDays(-100), default);
        await log.MarkAppliedAsync(workspace, account, Event("new-event"), now.AddDays(-1), default);
        var sessions = _app.Service<LinkSessionStore>();
        await sessions.SaveAsync(Session("expired-session", now.AddMinutes(-1)), default);
        await sessions.SaveAsync(Session("live-session", now.AddMinutes(9)), default);

        var response = await _app.CreateClient().PostAsJsonAsync("/RetentionSweep",
            new JsonObject { ["Data"] = new JsonObject { ["timer"] = new JsonObject { ["IsPastDue"] = false } }, ["Metadata"] = new JsonObject() });

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(["new0000000000000", "~content:newclaim", "~pending:new0000000000000"], await RowKeysAsync(TableNames.LineSends));
        Assert.Equal(["new-event"], await RowKeysAsync(TableNames.LineEventLog));
        Assert.Null(await sessions.TakeAsync("expired-session", default));
        Assert.NotNull(await sessions.TakeAsync("live-session", default));

        LinkSession Session(string id, DateTimeOffset expiresAt) => new()
        {
            Id = id, WorkspaceId = workspace, AccountId = account, Method = LinkMethods.QrCode, ProfileId = "01K0000000000000000000000A", Nonce = "n", CodeVerifier = "v", ExpiresAt = expiresAt,
        };
    }

    private static LineWebhookEvent Event(string id) => new(new JsonObject { ["type"] = "follow", ["webhookEventId"] = id, ["timestamp"] = 0L });

    private async Task<List<string>> RowKeysAsync(string tableName)
    {
        var table = await _app.Service<LumoTables>().GetAsync(tableName);
        return await table.QueryAsync<TableEntity>(select: ["RowKey"]).Select(e => e.RowKey).OrderBy(k => k, StringComparer.Ordinal).ToListAsync();
    }
}
