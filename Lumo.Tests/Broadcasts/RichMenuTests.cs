using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Broadcasts;

/// <summary>
/// Rich menus: uploaded with their image after Lumo checked LINE's rules (bad ones refused naming the field, nothing
/// created on LINE), a default set, and per-segment menus that follow segment changes by priority, sending LINE only
/// the users whose menu changes.
/// </summary>
public sealed class RichMenuTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;
    private LineChannel Channel => _scenario.Tenant.Channel;
    private string MenusPath => $"{_scenario.AccountPath()}/rich-menus";

    // The tests ask for syncs themselves; the quarter-hour timer would add its own in the middle.
    public async Task InitializeAsync() =>
        _scenario = await WorkspaceScenario.StartAsync(settings: new() { ["AzureWebJobs:SyncRichMenusSchedule:Disabled"] = "true" });

    // Syncs that find another running ask again 5 s later, so a few of them in a row take a while on a busy machine.
    private static readonly TimeSpan SyncWait = TimeSpan.FromSeconds(60);

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private static object Menu(string name, int width = 2500, int height = 843, byte[]? image = null, string? segmentId = null, int? priority = null, object[]? areas = null) => new
    {
        name, chatBarText = "Menu", size = new { width, height }, segmentId, priority,
        areas = areas ?? [
            new { bounds = new { x = 0, y = 0, width = width / 2, height }, action = new { type = "uri", uri = "https://shop.example.com/sale" } },
            new { bounds = new { x = width / 2, y = 0, width = width / 2, height }, action = new { type = "message", text = "Points" } },
        ],
        image = Convert.ToBase64String(image ?? TestImages.Png(width, height)),
    };

    private async Task<JsonObject> CreateAsync(object menu)
    {
        var response = await _scenario.Admin.PostAsJsonAsync(MenusPath, menu);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task AnUploadedMenuWithItsImageBecomesTheDefault()
    {
        var menu = await CreateAsync(Menu("Everyone"));
        var lineId = menu["lineRichMenuId"]!.GetValue<string>();
        Assert.Equal("image/png", Channel.RichMenus[lineId].ImageType);

        Assert.Equal(HttpStatusCode.OK, (await _scenario.Admin.PostAsync($"{MenusPath}/{menu["id"]}/default", null)).StatusCode);

        Assert.Equal(lineId, Channel.DefaultRichMenuId);
        Assert.True((await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{MenusPath}/{menu["id"]}"))!["isDefault"]!.GetValue<bool>());
    }

    public static TheoryData<string, object> BadMenus => new()
    {
        { "image", Menu("Wrong image size", image: TestImages.Png(2500, 1686)) },
        { "image", Menu("Not an image", image: "GIF89a not really"u8.ToArray()) },
        { "image", Menu("Too big", image: [.. TestImages.Png(2500, 843), .. new byte[1024 * 1024]]) }, // right size and format, only too many bytes
        { "size", Menu("Too narrow", width: 1000, height: 800) },
        { "areas[0].bounds", Menu("Outside", areas: [new { bounds = new { x = 2000, y = 0, width = 600, height = 843 }, action = new { type = "message", text = "Hi" } }]) },
        { "areas[0].bounds", Menu("Not an area", areas: [1]) },
        { "areas[0].action", Menu("Bad action", areas: [new { bounds = new { x = 0, y = 0, width = 100, height = 100 }, action = new { type = "uri", uri = "javascript:alert(1)" } }]) },
    };

    [Theory]
    [MemberData(nameof(BadMenus))]
    public async Task ABadMenuIsRefusedNamingTheFieldAndNothingReachesLine(string field, object menu)
    {
        var response = await _scenario.Admin.PostAsJsonAsync(MenusPath, menu);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), errors.ToJsonString());
        Assert.Empty(Channel.RichMenus);
        Assert.Empty((await _scenario.Admin.GetFromJsonAsync<JsonArray>(MenusPath))!);
    }

    private async Task<string> SegmentAsync(object conditions) =>
        (await (await _scenario.Admin.PostAsJsonAsync($"{_scenario.AccountPath()}/segments", new { name = "S" + SandboxTenant.Hex(2), conditions }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

    private async Task SyncUntilAsync(Func<bool> settled, string because)
    {
        Assert.Equal(HttpStatusCode.Accepted, (await _scenario.Admin.PostAsync($"{MenusPath}/sync", null)).StatusCode);
        await Eventually.MatchesAsync(() => Task.FromResult(settled()), s => s, SyncWait, because);
    }

    // Null until the first sync has recorded itself (204), which may come a moment after LINE already has the links.
    private async Task<JsonObject?> LastSyncAsync()
    {
        var response = await _scenario.Admin.GetAsync($"{MenusPath}/sync");
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
    }

    private static DateTimeOffset StartedAt(JsonObject run) => run["startedAt"]!.GetValue<DateTimeOffset>();

    // Asks for a sync every few seconds until one that started after the given run has found nothing to send (a sync
    // asked for while another still holds the account's lease is skipped, so one request alone may come to nothing).
    private async Task LaterSyncFindsNothingAsync(JsonObject after, string because)
    {
        var askedAt = DateTime.MinValue;
        bool Later(JsonObject? run) => run is not null && StartedAt(run) > StartedAt(after) && run["requests"]!.GetValue<int>() == 0;
        await Eventually.MatchesAsync(async () =>
        {
            var run = await LastSyncAsync();
            if (!Later(run) && DateTime.UtcNow - askedAt > TimeSpan.FromSeconds(2))
            {
                Assert.Equal(HttpStatusCode.Accepted, (await _scenario.Admin.PostAsync($"{MenusPath}/sync", null)).StatusCode);
                askedAt = DateTime.UtcNow;
            }
            return run;
        }, Later, SyncWait, because);
    }

    [Fact]
    public async Task MenusFollowSegmentChangesByPriorityAndOnlyChangesAreSentToLine()
    {
        var (aiko, aikoProfile) = await _scenario.LinkedFriendAsync("Aiko");
        var (ben, benProfile) = await _scenario.LinkedFriendAsync("Ben");
        var (daichi, _) = await _scenario.LinkedFriendAsync("Daichi"); // a member throughout: never sent again
        var chika = _scenario.Tenant.AddFriend("Chika");
        await _scenario.FollowAsync(chika);
        var vipList = new ProfileGroup("VIPLST", "VIP", [aikoProfile.Id]);
        _scenario.Tenant.Klaviyo.Lists[vipList.Id] = vipList;
        var vip = await CreateAsync(Menu("VIP", segmentId: await SegmentAsync(new { inList = "VIPLST" }), priority: 1));
        var member = await CreateAsync(Menu("Member", segmentId: await SegmentAsync(new { linked = true }), priority: 2));
        var (vipLine, memberLine) = (vip["lineRichMenuId"]!.GetValue<string>(), member["lineRichMenuId"]!.GetValue<string>());

        // Aiko is in both segments: the VIP menu wins on priority. Chika is in neither: she keeps the default.
        await SyncUntilAsync(() => Channel.RichMenuOf(aiko.UserId) == vipLine && Channel.RichMenuOf(ben.UserId) == memberLine && Channel.RichMenuOf(daichi.UserId) == memberLine,
            "the first sync links all three");
        Assert.Null(Channel.RichMenuOf(chika.UserId));
        var settled = await Eventually.MatchesAsync(LastSyncAsync, run => run?["requests"]!.GetValue<int>() == 0, SyncWait, "the syncs the menus queued have run");
        var changesBefore = Interlocked.Read(ref Channel.RichMenuUserChanges);

        // In Klaviyo, Ben joins the VIP list and Aiko leaves it.
        vipList.ProfileIds.Clear();
        vipList.ProfileIds.Add(benProfile.Id);
        await SyncUntilAsync(() => Channel.RichMenuOf(aiko.UserId) == memberLine && Channel.RichMenuOf(ben.UserId) == vipLine, "the menus swap");
        var swapped = await Eventually.MatchesAsync(LastSyncAsync, run => StartedAt(run!) > StartedAt(settled!) && run!["requests"]!.GetValue<int>() > 0, SyncWait,
            "the sync that swapped them has recorded itself");
        await LaterSyncFindsNothingAsync(after: swapped!, "a later sync finds nothing to change");
        Assert.Equal(2, Interlocked.Read(ref Channel.RichMenuUserChanges) - changesBefore); // the two who changed; Daichi was not sent again

        // The member menu loses its segment: Aiko and Daichi fall back to the default, Ben keeps the VIP menu.
        var unassigned = await _scenario.Admin.PutAsJsonAsync($"{MenusPath}/{member["id"]}/assignment", new { segmentId = (string?)null, priority = 2 });
        Assert.Equal(HttpStatusCode.OK, unassigned.StatusCode);
        await Eventually.MatchesAsync(() => Task.FromResult((Channel.RichMenuOf(aiko.UserId), Channel.RichMenuOf(daichi.UserId))), menus => menus == (null, null),
            SyncWait, "the assignment change queues a sync");
        Assert.Equal(vipLine, Channel.RichMenuOf(ben.UserId));
        Assert.Equal(4, Interlocked.Read(ref Channel.RichMenuUserChanges) - changesBefore);
    }
}
