using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.FlowSends;
using Lumo.Core.KlaviyoEvents;
using Lumo.Sandbox.Line;
using Lumo.Tests.Infrastructure;
using Lumo.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lumo.Tests.FlowSends;

/// <summary>
/// Content-derived de-duplication covers Klaviyo's retry horizon and no more (here shortened to 3 seconds): the same
/// text to the same person later is a new send, a skipped send never blocks a later request, and an explicit key
/// keeps its meaning whatever its age.
/// </summary>
public sealed class FlowSendDuplicateWindowTests : IAsyncLifetime
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);
    private WorkspaceScenario _scenario = null!;
    private string _flowKey = null!;

    public async Task InitializeAsync()
    {
        _scenario = await WorkspaceScenario.StartAsync(settings: new() { ["Lumo:FlowSends:DuplicateWindow"] = Window.ToString() });
        _flowKey = await _scenario.FlowKeyAsync();
    }

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private async Task<JsonObject> PostFlowAsync(object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flow/{_scenario.WorkspaceId}/send") { Content = JsonContent.Create(body) };
        request.Headers.Add(FlowKeys.HeaderName, _flowKey);
        var response = await _scenario.Client.SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK, response.StatusCode.ToString());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private Task<List<ReceivedPush>> PushesAsync(string userId, int atLeast) =>
        Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Channel.PushesTo(userId).ToList()), p => p.Count >= atLeast);

    [Fact]
    public async Task TheSameTextAfterTheWindowIsANewSendWithANewRetryKey()
    {
        var (user, _) = await _scenario.LinkedFriendAsync("Nao");
        var body = new { to = user.UserId, account = _scenario.AccountId, text = "Your cart is waiting" };

        var first = await PostFlowAsync(body);
        var retried = await PostFlowAsync(body); // a Klaviyo retry within the window
        await PushesAsync(user.UserId, 1);
        await Task.Delay(Window + TimeSpan.FromSeconds(1));
        var nextMonth = await PostFlowAsync(body);

        Assert.Equal(first["sendId"]!.GetValue<string>(), retried["sendId"]!.GetValue<string>());
        Assert.NotEqual(first["sendId"]!.GetValue<string>(), nextMonth["sendId"]!.GetValue<string>());
        var pushes = await PushesAsync(user.UserId, 2);
        Assert.Equal(2, pushes.Select(p => p.RetryKey).Distinct().Count());
        // Both sends are recorded in Klaviyo, each once.
        await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.SentLineMessage)), e => e.Count == 2);
        Assert.Equal(2, _scenario.Tenant.Channel.PushesTo(user.UserId).Count());
    }

    [Fact]
    public async Task ASkippedSendDoesNotBlockALaterIdenticalRequest()
    {
        var user = _scenario.Tenant.AddFriend("Yui");
        await _scenario.FollowAsync(user);
        var body = new { to = user.UserId, account = _scenario.AccountId, text = "Welcome offer", idempotencyKey = "01EVENT" + SandboxTenant.Hex(4) };

        var skipped = await PostFlowAsync(body);
        await _scenario.LinkAsync(user.UserId, _scenario.NewKlaviyoProfile($"yui-{SandboxTenant.Hex(3)}@example.com").Id);
        var afterLinking = await PostFlowAsync(body);
        var contentOnly = await PostFlowAsync(new { to = user.UserId, account = _scenario.AccountId, text = "Welcome offer" });

        Assert.Equal("skipped", skipped["status"]!.GetValue<string>());
        Assert.Equal("sent", afterLinking["status"]!.GetValue<string>()); // pushed while the webhook waited
        Assert.Equal("sent", contentOnly["status"]!.GetValue<string>());
        Assert.Equal(2, (await PushesAsync(user.UserId, 2)).Count);
    }

    [Fact]
    public async Task AnExplicitKeyKeepsItsMeaningAfterTheWindow()
    {
        var (user, _) = await _scenario.LinkedFriendAsync("Ren");
        var body = new { to = user.UserId, account = _scenario.AccountId, text = "Order shipped", idempotencyKey = "01ORDER" + SandboxTenant.Hex(4) };

        await PostFlowAsync(body);
        await PushesAsync(user.UserId, 1);
        await Task.Delay(Window + TimeSpan.FromSeconds(1));
        var late = await PostFlowAsync(body);

        Assert.Equal("sent", late["status"]!.GetValue<string>());
        // A later marker send proves that nothing else was pushed in between.
        await PostFlowAsync(new { to = user.UserId, account = _scenario.AccountId, text = "marker" });
        var pushes = await PushesAsync(user.UserId, 2);
        Assert.Equal(["Order shipped", "marker"], pushes.Select(p => p.Messages[0]!["text"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:05:00")]
    [InlineData("8.00:00:00")]
    public void ADuplicateWindowThatIsNotPositiveOrOverSevenDaysStopsTheApp(string window)
    {
        // What the host runs at start (ValidateOnStart), without a host around it.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Lumo:FlowSends:DuplicateWindow"] = window, ["Lumo:IdLinkage:PublicBaseUrl"] = "http://localhost", ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
        }).Build();
        using var services = new ServiceCollection().AddLogging()
            .AddSingleton<IConfiguration>(configuration).AddLumoCore().BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("DuplicateWindow", error.Message);
    }
}
