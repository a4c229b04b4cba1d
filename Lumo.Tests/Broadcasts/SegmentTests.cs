using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Segments;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Broadcasts;

/// <summary>
/// Lumo Segments: each condition kind matches the friends a merchant would expect (Klaviyo conditions only for linked
/// friends), membership follows changes because it is evaluated at use time, the count shows how fresh it is, and
/// invalid rules are refused naming the field, with nothing stored.
/// </summary>
public sealed class SegmentTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;
    private LineUser _aiko = null!, _ben = null!, _chika = null!, _daichi = null!;
    private SimulatedProfile _aikoProfile = null!, _benProfile = null!, _daichiProfile = null!;

    public async Task InitializeAsync()
    {
        _scenario = await WorkspaceScenario.StartAsync();
        (_aiko, _aikoProfile) = await _scenario.LinkedFriendAsync("Aiko"); // VIP, gold, spent 600, joined 2024
        (_ben, _benProfile) = await _scenario.LinkedFriendAsync("Ben");    // not VIP, silver, spent 90
        _chika = _scenario.Tenant.AddFriend("Chika");                       // a friend, not linked
        await _scenario.FollowAsync(_chika);
        (_daichi, _daichiProfile) = await _scenario.LinkedFriendAsync("Daichi"); // VIP who blocked the account
        await _scenario.Client.PostWebhookAsync(_scenario.WorkspaceId, _scenario.AccountId, _scenario.Tenant.Channel,
            LineWebhookSender.Unfollow(_daichi.UserId, DateTimeOffset.UtcNow));
        await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{_daichi.UserId}"),
            f => f!.ToJsonString().Contains("\"blocked\""), because: "the block is applied");

        _aikoProfile.Properties["Total spend"] = 600;
        _aikoProfile.Properties["Joined"] = "2024-03-01T00:00:00Z";
        _aikoProfile.Properties["Interests"] = new JsonArray("sneakers", "bags");
        _benProfile.Properties["Loyalty tier"] = "silver";
        _benProfile.Properties["Total spend"] = "90"; // a CSV import left it as text: still compares as a number
        _benProfile.Properties["Joined"] = "2026-10-01T00:00:00Z";
        _scenario.Tenant.Klaviyo.Lists["VIPLST"] = new ProfileGroup("VIPLST", "VIP", [_aikoProfile.Id, _daichiProfile.Id]);
        _scenario.Tenant.Klaviyo.Segments["ENGSEG"] = new ProfileGroup("ENGSEG", "Engaged", [_benProfile.Id]);
    }

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private async Task<List<string>> MembersAsync(string rule)
    {
        var errors = new Dictionary<string, string[]>();
        var condition = SegmentConditionParser.Parse(JsonNode.Parse(rule), "conditions", errors);
        Assert.Empty(errors);
        var members = new List<string>();
        await _scenario.App.Service<SegmentEvaluator>().EvaluateAsync(_scenario.WorkspaceId, _scenario.AccountId, condition, page =>
        {
            members.AddRange(page.Select(m => m.UserId));
            return Task.CompletedTask;
        }, default);
        return members;
    }

    private List<string> Ids(params LineUser[] users) => users.Select(u => u.UserId).Order().ToList();

    [Fact]
    public async Task EachConditionKindMatchesTheFriendsItDescribes()
    {
        Assert.Equal(Ids(_aiko, _ben, _daichi), (await MembersAsync("""{"linked":true}""")).Order());
        Assert.Equal(Ids(_chika), await MembersAsync("""{"linked":false}"""));
        Assert.Equal(Ids(_daichi), await MembersAsync("""{"followStatus":"blocked"}"""));
        Assert.Equal(Ids(_aiko, _daichi), (await MembersAsync("""{"inList":"VIPLST"}""")).Order());
        Assert.Equal(Ids(_ben), await MembersAsync("""{"inSegment":"ENGSEG"}"""));
        // NewKlaviyoProfile gives every profile "Loyalty tier: gold"; Ben's was changed to silver. Chika has no profile.
        Assert.Equal(Ids(_aiko, _daichi), (await MembersAsync("""{"property":"Loyalty tier","operator":"equals","value":"gold"}""")).Order());
        Assert.Equal(Ids(_aiko), await MembersAsync("""{"property":"Interests","operator":"contains","value":"bags"}"""));
        Assert.Equal(Ids(_ben), await MembersAsync("""{"property":"Loyalty tier","operator":"contains","value":"SIL"}"""));
        Assert.Equal(Ids(_aiko, _ben), (await MembersAsync("""{"property":"Total spend","operator":"exists"}""")).Order());
        Assert.Equal(Ids(_aiko), await MembersAsync("""{"property":"Total spend","operator":"greater-than","value":100}"""));
        Assert.Equal(Ids(_ben), await MembersAsync("""{"property":"Total spend","operator":"less-than","value":100}"""));
        Assert.Equal(Ids(_aiko), await MembersAsync("""{"property":"Joined","operator":"before","value":"2025-01-01"}"""));
        Assert.Equal(Ids(_ben), await MembersAsync("""{"property":"Joined","operator":"after","value":"2025-01-01"}"""));
        // AND / OR, nested: linked VIPs who have not blocked, or anyone in the engaged segment.
        Assert.Equal(Ids(_aiko, _ben), (await MembersAsync(
            """{"any":[{"all":[{"inList":"VIPLST"},{"followStatus":"friend"}]},{"inSegment":"ENGSEG"}]}""")).Order());
    }

    [Fact]
    public async Task MembershipIsEvaluatedAtUseTimeAndTheCountSaysHowFreshItIs()
    {
        var created = await _scenario.Admin.PostAsJsonAsync($"{_scenario.AccountPath()}/segments",
            new { name = "Linked VIPs", conditions = JsonNode.Parse("""{"all":[{"linked":true},{"inList":"VIPLST"}]}""") });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        var first = await CountAsync(id, since: DateTimeOffset.UtcNow);
        Assert.Equal((2, 1, 4), (first["members"]!.GetValue<int>(), first["reachable"]!.GetValue<int>(), first["friendsScanned"]!.GetValue<int>()));
        Assert.NotNull(first["klaviyoReadAt"]);

        // Ben joins the VIP list in Klaviyo: the next count has him, nothing was frozen.
        _scenario.Tenant.Klaviyo.Lists["VIPLST"].ProfileIds.Add(_benProfile.Id);
        var second = await CountAsync(id, since: first["evaluatedAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal((3, 2), (second["members"]!.GetValue<int>(), second["reachable"]!.GetValue<int>()));
    }

    private async Task<JsonObject> CountAsync(string segmentId, DateTimeOffset since)
    {
        Assert.Equal(HttpStatusCode.Accepted, (await _scenario.Admin.PostAsync($"{_scenario.AccountPath()}/segments/{segmentId}/count", null)).StatusCode);
        var segment = await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/segments/{segmentId}"),
            s => s!["lastEvaluation"] is JsonObject e && e["evaluatedAt"]!.GetValue<DateTimeOffset>() > since, because: "the count runs in the background");
        return segment!["lastEvaluation"]!.AsObject();
    }

    [Theory]
    [InlineData("""{"name":"","conditions":{"linked":true}}""", "name")]
    [InlineData("""{"name":"Empty","conditions":{}}""", "conditions")]
    [InlineData("""{"name":"Empty all","conditions":{"all":[]}}""", "conditions.all")]
    [InlineData("""{"name":"Unknown","conditions":{"all":[{"linked":true},{"vip":true}]}}""", "conditions.all[1].vip")]
    [InlineData("""{"name":"No value","conditions":{"property":"tier","operator":"equals"}}""", "conditions.value")]
    [InlineData("""{"name":"Not a number","conditions":{"property":"spend","operator":"greater-than","value":"lots"}}""", "conditions.value")]
    [InlineData("""{"name":"Bad operator","conditions":{"property":"spend","operator":"between","value":1}}""", "conditions.operator")]
    [InlineData("""{"name":"Unknown list","conditions":{"inList":"NOSUCH"}}""", "conditions")]
    [InlineData("""{"name":"Contains nothing","conditions":{"property":"tier","operator":"contains","value":""}}""", "conditions.value")]
    public async Task AnInvalidRuleIsRefusedNamingTheFieldAndNothingIsStored(string body, string field)
    {
        var response = await _scenario.Admin.PostAsync($"{_scenario.AccountPath()}/segments", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
        Assert.Empty((await _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/segments"))!);
    }

    [Fact]
    public async Task AStaleIfMatchIsRefusedAndTheRuleStays()
    {
        var created = await _scenario.Admin.PostAsJsonAsync($"{_scenario.AccountPath()}/segments", new { name = "Linked", conditions = new { linked = true } });
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var staleTag = created.Headers.GetValues("ETag").Single();
        var edit = await _scenario.Admin.PutAsJsonAsync($"{_scenario.AccountPath()}/segments/{id}", new { name = "Linked (renamed)", conditions = new { linked = true } });
        Assert.Equal(HttpStatusCode.OK, edit.StatusCode);

        var stale = new HttpRequestMessage(HttpMethod.Put, $"{_scenario.AccountPath()}/segments/{id}") { Content = JsonContent.Create(new { name = "Lost", conditions = new { linked = false } }) };
        stale.Headers.TryAddWithoutValidation("If-Match", staleTag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await _scenario.Admin.SendAsync(stale)).StatusCode);
        Assert.Equal("Linked (renamed)", (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/segments/{id}"))!["name"]!.GetValue<string>());
    }
}
