using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Lumo.Sandbox.Infrastructure;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;

namespace Lumo.Sandbox.Control;

/// <summary>
/// The sandbox's own API under <c>/sandbox</c>: seed channels, users, friends, Klaviyo accounts and segments; inspect
/// what arrived (pushes per user, profiles and their properties, events by metric, contract violations, rate-limit
/// counters); set faults and limits; send signed LINE webhooks. Not part of any vendor API.
/// </summary>
public static class SandboxControlEndpoints
{
    public sealed record ChannelSeed(string ChannelId, string ChannelSecret, string AccessToken, string? BotUserId, string? BasicId, string? DisplayName,
        bool FollowerIdsAvailable = true);
    public sealed record UserSeed(string? UserId, string DisplayName, string? PictureUrl, string? Language);
    public sealed record FriendSeed(bool Blocked);
    public sealed record LoginChannelSeed(string ChannelId, string ChannelSecret);
    public sealed record WebhookRequest(string Url, JsonArray Events);
    public sealed record AccountSeed(string Id, string ApiKey, string? OrganizationName);
    public sealed record KeySeed(string ApiKey);
    public sealed record OAuthAppSeed(string ClientId, string ClientSecret, List<string> RedirectUris);
    /// <summary>A Flow webhook body template (Get JSON's), the profile and the triggering event's properties, and catalog items by id.</summary>
    public sealed record FlowWebhookRender(string Body, JsonObject? Person, JsonObject? Event, Dictionary<string, JsonObject>? Catalog);
    public sealed record ProfileChange(JsonObject? Attributes, JsonObject? Properties);
    public sealed record ProfileSeed(string? Email, string? PhoneNumber, JsonObject? Properties);
    public sealed record GroupSeed(string? Id, string Name, List<string> ProfileIds);
    public sealed record FormSeed(string? Id, string Name, string? Status);
    public sealed record FaultSettings(List<FaultRule> Rules, int? Seed);
    public sealed record LimitSettings(int PerSecond, int PerMinute, int PerHour, string? Caller);

    public static IEndpointRouteBuilder MapSandboxControl(this IEndpointRouteBuilder routes)
    {
        var sandbox = routes.MapGroup("/sandbox");
        sandbox.MapPost("/reset", (SandboxHost.Services s) => { s.ResetAll(); return Results.NoContent(); });

        sandbox.MapPost("/line/channels", (ChannelSeed seed, LineState line) =>
        {
            var channel = line.AddChannel(new LineChannel(seed.ChannelId, seed.ChannelSecret, seed.AccessToken,
                seed.BotUserId ?? NewLineUserId(), seed.BasicId ?? "@sandbox" + seed.ChannelId[^4..], seed.DisplayName ?? "Sandbox OA " + seed.ChannelId[^4..])
            {
                FollowerIdsAvailable = seed.FollowerIdsAvailable,
            });
            return Results.Created($"/sandbox/line/channels/{channel.ChannelId}", new { channel.ChannelId, channel.BotUserId, channel.BasicId, channel.DisplayName });
        });
        sandbox.MapPost("/line/users", (UserSeed seed, LineState line) =>
        {
            var user = new LineUser(seed.UserId ?? NewLineUserId(), seed.DisplayName, seed.PictureUrl, seed.Language ?? "ja");
            line.Users[user.UserId] = user;
            return Results.Created($"/sandbox/line/users/{user.UserId}", user);
        });
        sandbox.MapPut("/line/channels/{channelId}/friends/{userId}", (string channelId, string userId, FriendSeed seed, LineState line) =>
        {
            if (!line.ChannelsById.TryGetValue(channelId, out var channel) || !line.Users.ContainsKey(userId)) return Results.NotFound();
            channel.Friends[userId] = new Friendship(userId, seed.Blocked);
            return Results.NoContent();
        });
        sandbox.MapDelete("/line/channels/{channelId}/friends/{userId}", (string channelId, string userId, LineState line) =>
            line.ChannelsById.TryGetValue(channelId, out var channel) && channel.Friends.TryRemove(userId, out _) ? Results.NoContent() : Results.NotFound());
        sandbox.MapGet("/line/channels/{channelId}/pushes", (string channelId, string? to, LineState line) =>
            line.ChannelsById.TryGetValue(channelId, out var channel)
                ? Results.Json(channel.Pushes.Where(p => to is null || p.To == to).ToList())
                : Results.NotFound());
        sandbox.MapPost("/line/login-channels", (LoginChannelSeed seed, LineState line) =>
        {
            line.LoginChannels[seed.ChannelId] = new LoginChannel(seed.ChannelId, seed.ChannelSecret);
            return Results.Created($"/sandbox/line/login-channels/{seed.ChannelId}", seed with { ChannelSecret = "***" });
        });
        sandbox.MapPost("/line/channels/{channelId}/webhook", SendWebhook);

        sandbox.MapPost("/klaviyo/accounts", (AccountSeed seed, KlaviyoState klaviyo) =>
        {
            klaviyo.AddAccount(seed.Id, seed.ApiKey, seed.OrganizationName ?? "Sandbox Store");
            return Results.Created($"/sandbox/klaviyo/accounts/{seed.Id}", new { seed.Id });
        });
        sandbox.MapGet("/klaviyo/accounts/{id}/profiles", (string id, KlaviyoState klaviyo) =>
        {
            if (!klaviyo.AccountsById.TryGetValue(id, out var account)) return Results.NotFound();
            lock (account.Gate)
                return Results.Json(account.Profiles.Values.Select(p => new { p.Id, p.Email, p.PhoneNumber, p.ExternalId, p.Properties, p.Updated }).ToList());
        });
        sandbox.MapPost("/klaviyo/accounts/{id}/profiles", (string id, ProfileSeed seed, KlaviyoState klaviyo) =>
        {
            if (!klaviyo.AccountsById.TryGetValue(id, out var account)) return Results.NotFound();
            lock (account.Gate)
            {
                var profile = new SimulatedProfile(account.NewId()) { Email = seed.Email, PhoneNumber = seed.PhoneNumber };
                foreach (var (k, v) in seed.Properties ?? []) profile.Properties[k] = v?.DeepClone();
                account.Profiles[profile.Id] = profile;
                return Results.Created($"/sandbox/klaviyo/accounts/{id}/profiles/{profile.Id}", new { profile.Id });
            }
        });
        sandbox.MapGet("/klaviyo/accounts/{id}/events", (string id, string? metric, KlaviyoState klaviyo) =>
        {
            if (!klaviyo.AccountsById.TryGetValue(id, out var account)) return Results.NotFound();
            lock (account.Gate)
                return Results.Json(new { account.DuplicateEventsIgnored, events = account.Events.Where(e => metric is null || e.Metric == metric).ToList() });
        });
        sandbox.MapPost("/klaviyo/accounts/{id}/segments", (string id, GroupSeed seed, KlaviyoState klaviyo) => AddGroup(klaviyo, id, seed, a => a.Segments));
        sandbox.MapPost("/klaviyo/accounts/{id}/lists", (string id, GroupSeed seed, KlaviyoState klaviyo) => AddGroup(klaviyo, id, seed, a => a.Lists));
        sandbox.MapPost("/klaviyo/accounts/{id}/forms", (string id, FormSeed seed, KlaviyoState klaviyo) =>
        {
            if (!klaviyo.AccountsById.TryGetValue(id, out var account)) return Results.NotFound();
            var formId = seed.Id ?? account.NewId()[^6..];
            account.Forms[formId] = (seed.Name, seed.Status ?? "live");
            return Results.Created($"/sandbox/klaviyo/accounts/{id}/forms/{formId}", new { id = formId });
        });

        sandbox.MapPut("/faults", (FaultSettings settings, FaultInjector faults) => { faults.Set(settings.Rules, settings.Seed); return Results.NoContent(); });
        sandbox.MapDelete("/faults", (FaultInjector faults) => { faults.Clear(); return Results.NoContent(); });
        sandbox.MapPut("/ratelimits/{bucket}", (string bucket, LimitSettings limit, RateLimiter limiter) =>
        {
            limiter.Override(new RateLimit(bucket, limit.PerSecond, limit.PerMinute, limit.PerHour), limit.Caller);
            return Results.NoContent();
        });
        sandbox.MapDelete("/ratelimits", (RateLimiter limiter) => { limiter.ClearOverrides(); return Results.NoContent(); });
        sandbox.MapGet("/violations", (ContractViolations violations) => Results.Json(violations.All));
        sandbox.MapDelete("/violations", (ContractViolations violations) => { violations.Clear(); return Results.NoContent(); });
        sandbox.MapGet("/stats", (RateLimiter limiter, FaultInjector faults) =>
            Results.Json(new { accepted = limiter.Accepted, limited = limiter.Limited, faultsInjected = Interlocked.Read(ref faults.Injected) }));
        // Everything received twice, per channel and account, and the injected faults that explain repeats: exactly-once
        // tests assert on what arrived, duplicates included, not only on what was kept.
        sandbox.MapGet("/duplicates", (LineState line, KlaviyoState klaviyo, FaultInjector faults) => Results.Json(new
        {
            line = line.ChannelsById.Values.ToDictionary(c => c.ChannelId, c => new { retryKeyRepeats = Interlocked.Read(ref c.RetryKeyRepeats) }),
            klaviyo = klaviyo.AccountsById.Values.ToDictionary(a => a.Id, a => new
            {
                events = Interlocked.Read(ref a.DuplicateEventsIgnored), profileImports = Interlocked.Read(ref a.DuplicateProfileImports),
            }),
            failedAfterProcessing = faults.FailedAfterProcessing,
        }));
        // A change made in Klaviyo: standard attributes (first_name, last_name, …) and properties; the profile's updated time moves.
        sandbox.MapPatch("/klaviyo/accounts/{id}/profiles/{profileId}", (string id, string profileId, ProfileChange change, KlaviyoState klaviyo) =>
        {
            if (!klaviyo.AccountsById.TryGetValue(id, out var account)) return Results.NotFound();
            lock (account.Gate)
            {
                if (!account.Profiles.TryGetValue(profileId, out var profile)) return Results.NotFound();
                foreach (var (field, value) in change.Attributes ?? []) profile.Standard[field] = value?.DeepClone();
                foreach (var (key, value) in change.Properties ?? []) profile.Properties[key] = value?.DeepClone();
                profile.Updated = DateTimeOffset.UtcNow;
                return Results.Json(KlaviyoResources.Profile(profile));
            }
        });
        // What a Flow webhook action posts: its body template rendered for a profile and the triggering event's properties.
        sandbox.MapPost("/klaviyo/flow-webhooks/render", (FlowWebhookRender request) =>
        {
            try
            {
                return Results.Text(FlowWebhookTemplate.Render(request.Body, request.Person ?? [], request.Event ?? [], request.Catalog), "application/json");
            }
            catch (FormatException e)
            {
                return Results.Problem(statusCode: 400, title: "Klaviyo cannot render this template", detail: e.Message);
            }
        });
        sandbox.MapPost("/klaviyo/oauth-apps", (OAuthAppSeed seed, KlaviyoState klaviyo) =>
        {
            klaviyo.OAuth.Apps[seed.ClientId] = new OAuthApp(seed.ClientId, seed.ClientSecret, seed.RedirectUris);
            return Results.NoContent();
        });
        // An hour passes for the account's access tokens; the account's administrator uninstalls every app.
        sandbox.MapPost("/klaviyo/accounts/{id}/oauth/expire-access-tokens", (string id, KlaviyoState klaviyo) => { klaviyo.OAuth.ExpireAccessTokens(id); return Results.NoContent(); });
        sandbox.MapPost("/klaviyo/accounts/{id}/oauth/uninstall", (string id, KlaviyoState klaviyo) => { klaviyo.OAuth.Uninstall(id); return Results.NoContent(); });
        sandbox.MapPut("/klaviyo/accounts/{id}/api-key", (string id, KeySeed seed, KlaviyoState klaviyo) =>
        {
            if (!klaviyo.AccountsById.TryGetValue(id, out var account)) return Results.NotFound();
            klaviyo.ReplaceKey(account, seed.ApiKey);
            return Results.NoContent();
        });
        return routes;
    }

    /// <summary>Posts a LINE webhook body to a URL, signed with the channel secret as LINE signs it.</summary>
    private static async Task<IResult> SendWebhook(string channelId, WebhookRequest request, LineState line, IHttpClientFactory http)
    {
        if (!line.ChannelsById.TryGetValue(channelId, out var channel)) return Results.NotFound();
        // Unescaped UTF-8 (emoji included), as LINE sends it: signatures must be checked over these exact bytes.
        var body = Unescaped(new JsonObject { ["destination"] = channel.BotUserId, ["events"] = request.Events.DeepClone() });
        var bytes = Encoding.UTF8.GetBytes(body);
        using var message = new HttpRequestMessage(HttpMethod.Post, request.Url) { Content = new ByteArrayContent(bytes) };
        message.Content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
        message.Headers.Add("x-line-signature", Sign(channel.ChannelSecret, bytes));
        using var response = await http.CreateClient().SendAsync(message);
        return Results.Json(new { status = (int)response.StatusCode, body = await response.Content.ReadAsStringAsync() });
    }

    // System.Text.Json escapes every character outside the Basic Multilingual Plane; LINE does not.
    private static string Unescaped(JsonNode node) => System.Text.RegularExpressions.Regex.Replace(
        node.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }),
        @"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})",
        m => char.ConvertFromUtf32(char.ConvertToUtf32((char)Convert.ToInt32(m.Groups[1].Value, 16), (char)Convert.ToInt32(m.Groups[2].Value, 16))),
        System.Text.RegularExpressions.RegexOptions.IgnoreCase);

    public static string Sign(string channelSecret, byte[] body) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(channelSecret), body));

    public static string NewLineUserId() => "U" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    private static IResult AddGroup(KlaviyoState klaviyo, string accountId, GroupSeed seed, Func<KlaviyoAccountState, System.Collections.Concurrent.ConcurrentDictionary<string, ProfileGroup>> groups)
    {
        if (!klaviyo.AccountsById.TryGetValue(accountId, out var account)) return Results.NotFound();
        var group = new ProfileGroup(seed.Id ?? account.NewId()[^6..], seed.Name, seed.ProfileIds);
        groups(account)[group.Id] = group;
        return Results.Created($"/sandbox/klaviyo/accounts/{accountId}/groups/{group.Id}", new { group.Id });
    }
}
