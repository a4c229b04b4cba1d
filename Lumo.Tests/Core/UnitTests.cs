using System.Text.Json.Nodes;
using Lumo.Core.Workspaces;
using Lumo.Functions.Hosting;
using Lumo.Sandbox.Specs;
using Microsoft.AspNetCore.Http;

namespace Lumo.Tests.Core;

public sealed class LinePropertyNamesTests
{
    [Fact]
    public void TheFirstAccountHasNoSuffixAndTheNthAppendsN()
    {
        Assert.Equal(["LINE User ID", "LINE Display Name", "LINE Follow Status", "LINE Consent", "LINE Consent Updated At", "LINE Consent Source"],
            Names(LinePropertyNames.ForOrdinal(1)));
        Assert.All(Names(LinePropertyNames.ForOrdinal(3)), n => Assert.EndsWith(" 3", n));
    }

    private static string[] Names(LinePropertyNames p) => [p.UserId, p.DisplayName, p.FollowStatus, p.Consent, p.ConsentUpdatedAt, p.ConsentSource];
}

public sealed class InvocationEnvelopeTests
{
    private static async Task<InvocationEnvelope> Bind(string body)
    {
        var context = new DefaultHttpContext { Request = { Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body)) } };
        return await InvocationEnvelope.BindAsync(context);
    }

    public sealed record Message(string WorkspaceId);

    [Theory]
    [InlineData("""{"Data":{"m":{"workspaceId":"w1"}},"Metadata":{"DequeueCount":3}}""", 3)]
    [InlineData("""{"Data":{"m":"{\"workspaceId\":\"w1\"}"},"Metadata":{"DequeueCount":"4"}}""", 4)]
    [InlineData("""{"data":{"m":"\"{\\\"workspaceId\\\":\\\"w1\\\"}\""},"metadata":{"DequeueCount":"\"2\""}}""", 2)]
    public async Task ReadsTheMessageAndDequeueCountInEveryEncoding(string body, int dequeueCount)
    {
        var envelope = await Bind(body);
        Assert.Equal("w1", envelope.GetData<Message>("m").WorkspaceId);
        Assert.Equal(dequeueCount, envelope.DequeueCount);
    }

    [Fact]
    public async Task KeepsAPlainStringMessageAsIs()
    {
        var envelope = await Bind("""{"Data":{"m":"hello"}}""");
        Assert.Equal("hello", envelope.GetData<string>("m"));
    }
}

public sealed class SchemaValidatorTests
{
    [Fact]
    public void AcceptsAConformingPushAndNamesEveryProblemOfABadOne()
    {
        var spec = SpecLibrary.LineMessagingApi;
        var schema = spec.FindOperation("POST", "/v2/bot/message/push")!.RequestSchema("application/json");
        var good = JsonNode.Parse("""{"to":"U1","messages":[{"type":"text","text":"hi"},{"type":"image","originalContentUrl":"https://x/a.jpg","previewImageUrl":"https://x/b.jpg"}]}""");
        var bad = JsonNode.Parse("""{"messages":[{"type":"text"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"}]}""");

        Assert.Empty(SchemaValidator.Validate(spec, schema, good));
        var errors = SchemaValidator.Validate(spec, schema, bad);
        Assert.Contains("$.to: is required", errors);
        Assert.Contains("$.messages: at most 5 items", errors);
        Assert.Contains("$.messages[0].text: is required", errors);
    }

    [Fact]
    public void ChecksFormatsEnumsAndNullableFieldsAsTheSpecsDeclareThem()
    {
        var spec = SpecLibrary.KlaviyoApi;
        var schema = spec.FindOperation("POST", "/api/profile-import")!.RequestSchema("application/vnd.api+json");
        var good = JsonNode.Parse("""{"data":{"type":"profile","attributes":{"email":"aiko@example.com","phone_number":null,"properties":{"LINE User ID":"U1"}}}}""");
        var badType = JsonNode.Parse("""{"data":{"type":"person","attributes":{"email":"aiko@example.com"}}}""");
        var events = spec.FindOperation("POST", "/api/events")!.RequestSchema("application/vnd.api+json");
        var badTime = JsonNode.Parse("""{"data":{"type":"event","attributes":{"properties":{},"time":"yesterday","metric":{"data":{"type":"metric","attributes":{"name":"x"}}},"profile":{"data":{"type":"profile","attributes":{"email":"a@b.co"}}}}}}""");

        Assert.Empty(SchemaValidator.Validate(spec, schema, good));
        Assert.Contains("$.data.type: is not one of the allowed values", SchemaValidator.Validate(spec, schema, badType));
        Assert.Contains(SchemaValidator.Validate(spec, events, badTime), e => e == "$.data.attributes.time: is not a valid date-time");
        var push = SpecLibrary.LineMessagingApi.FindOperation("POST", "/v2/bot/message/push")!.RequestSchema("application/json");
        var badImage = JsonNode.Parse("""{"to":"U1","messages":[{"type":"image","originalContentUrl":"not a url","previewImageUrl":"https://x/b.jpg"}]}""");
        Assert.Contains(SchemaValidator.Validate(SpecLibrary.LineMessagingApi, push, badImage), e => e == "$.messages[0].originalContentUrl: is not a valid uri");
    }

    [Fact]
    public void FindsOperationsByConcretePathPreferringLiteralSegments()
    {
        var spec = SpecLibrary.KlaviyoApi;
        Assert.Equal("/api/segments/{id}/profiles", spec.FindOperation("GET", "/api/segments/ABC/profiles")!.PathTemplate);
        Assert.Equal("/api/profile-import", spec.FindOperation("POST", "/api/profile-import")!.PathTemplate);
        Assert.Null(spec.FindOperation("DELETE", "/api/profile-import"));
    }

    [Fact]
    public void ABenchmarkSandboxChecksEachOperationsFirstAnswersThenOneInAHundredAndATestSandboxEveryAnswer()
    {
        var sample = Lumo.Sandbox.Infrastructure.AnswerChecks.Sample();
        var pages = Enumerable.Range(1, 300).Where(_ => sample.Checks("GET", "/api/profiles")).Count();
        var firstImport = sample.Checks("POST", "/api/profile-bulk-import-jobs"); // counted apart from the pages

        Assert.Equal(20 + 3, pages); // answers 1–20, then the 100th, 200th and 300th
        Assert.True(firstImport);
        Assert.All(Enumerable.Range(1, 300), _ => Assert.True(Lumo.Sandbox.Infrastructure.AnswerChecks.Every.Checks("GET", "/api/profiles")));
    }
}

public sealed class CreateOnceTests
{
    [Fact]
    public async Task CreatesOncePerKeyAndRetriesAfterAFailure()
    {
        var cache = new Lumo.Core.Storage.CreateOnce<int>();
        var calls = 0;
        Task<int> Create(string _) => ++calls == 1 ? Task.FromException<int>(new InvalidOperationException("storage down")) : Task.FromResult(calls);

        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync("t", Create, default));
        Assert.Equal(2, await cache.GetAsync("t", Create, default));
        Assert.Equal(2, await cache.GetAsync("t", Create, default));
        Assert.Equal(2, calls);
    }
}

public sealed class RollingSecondLimitTests
{
    [Fact]
    public async Task NoSecondSeesMoreThanTheLimitWhenTheCallsComeAllAtOnce()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
        var limit = new Lumo.Core.Http.RollingSecondLimit(3, clock);
        var first = Enumerable.Range(0, 3).Select(_ => limit.WaitAsync(CancellationToken.None).AsTask()).ToList();
        Assert.All(first, call => Assert.True(call.IsCompletedSuccessfully));
        clock.Advance(TimeSpan.FromMilliseconds(400));
        var later = Enumerable.Range(0, 4).Select(_ => limit.WaitAsync(CancellationToken.None).AsTask()).ToList();
        Assert.Equal(0, later.Count(call => call.IsCompleted)); // the first three went out less than a second ago
        clock.Advance(TimeSpan.FromMilliseconds(599));
        Assert.Equal(0, later.Count(call => call.IsCompleted));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await Task.WhenAll(later.Take(3));
        Assert.False(later[3].IsCompleted); // the second three went out at 1 s: the fourth waits for 2 s
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(later[3].IsCompleted);
        // The fourth may still be between working out its wait and starting its delay on the fake clock: step the
        // clock until it is out, rather than once, which could leave it waiting for a time that never comes.
        for (var steps = 0; !later[3].IsCompleted && steps < 1_000; steps++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(1));
            await Task.Delay(1);
        }
        await later[3];
    }
}

public sealed class SteadyPaceTests
{
    [Fact]
    public async Task SpacesCallsEvenlyOnTheClockAndSavesNoMoreThanTheBurstOverAPause()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero));
        var pace = new Lumo.Core.Http.SteadyPace(100, TimeSpan.FromMilliseconds(50), clock);
        var waits = Enumerable.Range(0, 30).Select(_ => pace.WaitAsync(CancellationToken.None).AsTask()).ToList();
        // The burst: the slots of the last 50 ms (at -50, -40, ... 0 ms) are free at once; then one every 10 ms.
        Assert.Equal(6, waits.Count(w => w.IsCompleted));
        clock.Advance(TimeSpan.FromMilliseconds(100));
        await Task.WhenAll(waits.Take(16));
        Assert.Equal(16, waits.Count(w => w.IsCompleted));
        clock.Advance(TimeSpan.FromSeconds(10));
        await Task.WhenAll(waits);

        // Ten idle seconds are not ten seconds of calls saved up: again only the burst goes at once.
        var afterPause = Enumerable.Range(0, 20).Select(_ => pace.WaitAsync(CancellationToken.None).AsTask()).ToList();
        Assert.Equal(6, afterPause.Count(w => w.IsCompleted));
        clock.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAll(afterPause);
    }

    [Fact]
    public async Task ACallWhoseSlotIsFurtherAwayThanItsLongestWaitIsRefusedAndTakesNoSlot()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero));
        var pace = new Lumo.Core.Http.SteadyPace(10, TimeSpan.Zero, clock);
        var maxWait = TimeSpan.FromMilliseconds(250);
        // Slots at 0, 100, 200 ms are within 250 ms; the one at 300 ms is not, and refusing it leaves it free.
        var taken = Enumerable.Range(0, 3).Select(_ => pace.TryWaitAsync(maxWait, CancellationToken.None).AsTask()).ToList();
        Assert.False(await pace.TryWaitAsync(maxWait, CancellationToken.None));
        Assert.False(await pace.TryWaitAsync(maxWait, CancellationToken.None));
        clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.All(await Task.WhenAll(taken), Assert.True);
        var next = pace.TryWaitAsync(maxWait, CancellationToken.None).AsTask(); // the 300 ms slot, 100 ms away now
        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(await next);
    }
}
