using System.Text.RegularExpressions;
using Lumo.Core.KlaviyoEvents;
using Lumo.Sandbox;
using Lumo.Sandbox.Infrastructure;

namespace Lumo.Bench.Scenarios;

/// <summary>
/// Clicks on tracking URLs against the running app: every friend gets a send with one link, then every link is
/// followed four times by a phone (one window: one Clicked and one implied Opened each) while the sandbox injects
/// 2.5 % 429 and 2.5 % 500 into Klaviyo. The redirects are measured; the events are counted as Klaviyo received them.
/// </summary>
public static partial class ClickRedirects
{
    public sealed record Result(Measurement Clicks, int Links, int Clicked, int Opened, long DuplicatesReceived, TimeSpan EventsSettled);

    private const string Phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/15.12.1";

    public static async Task<Result> RunAsync(FlowSendLoad.Setup setup, SandboxHost sandbox, int clicksPerLink, int concurrency)
    {
        await FlowSendLoad.PostAsync(setup, "sends with a link", setup.Friends.Select((f, i) => (f, $"click-{i}")).ToList(), concurrency,
            "New in: https://shop.example.com/new?ref=line");
        var links = setup.Channel.Pushes.Select(p => TrackingUrl().Match(p.Messages[0]!["text"]!.GetValue<string>()))
            .Where(m => m.Success).Select(m => new Uri(m.Value).PathAndQuery).Distinct().ToList();
        sandbox.Faults.Add(new FaultRule { Vendor = "klaviyo", Caller = setup.Klaviyo.Id, TooManyRequestsRate = 0.025, ServerErrorRate = 0.025 });
        try
        {
            using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = setup.App };
            browser.DefaultRequestHeaders.UserAgent.ParseAdd(Phone);
            var clicks = Enumerable.Range(0, clicksPerLink).SelectMany(_ => links).OrderBy(_ => Random.Shared.Next()).ToList();
            var measured = await Measurement.RunAsync("click redirect (302)", clicks.Count, concurrency, async i =>
            {
                using var response = await browser.GetAsync(clicks[i]);
                if ((int)response.StatusCode != 302) throw new InvalidOperationException($"A click answered {(int)response.StatusCode}");
            });
            var settle = System.Diagnostics.Stopwatch.StartNew();
            while ((setup.Klaviyo.EventsOf(KlaviyoMetrics.ClickedLineMessage).Count < links.Count || setup.Klaviyo.EventsOf(KlaviyoMetrics.OpenedLineMessage).Count < links.Count)
                   && settle.Elapsed < TimeSpan.FromMinutes(3))
                await Task.Delay(100);
            return new Result(measured, links.Count, setup.Klaviyo.EventsOf(KlaviyoMetrics.ClickedLineMessage).Count, setup.Klaviyo.EventsOf(KlaviyoMetrics.OpenedLineMessage).Count,
                Interlocked.Read(ref setup.Klaviyo.DuplicateEventsIgnored), settle.Elapsed);
        }
        finally
        {
            sandbox.Faults.Remove(r => r.Caller == setup.Klaviyo.Id);
        }
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+/api/t/[A-Za-z0-9_/-]+")]
    private static partial Regex TrackingUrl();
}
