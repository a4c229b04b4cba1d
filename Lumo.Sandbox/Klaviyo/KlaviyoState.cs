using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Lumo.Sandbox.Klaviyo;

/// <summary>A simulated Klaviyo profile.</summary>
public sealed class SimulatedProfile(string id)
{
    public string Id { get; } = id;
    public string? Email { get; set; }
    public string? PhoneNumber { get; set; }
    public string? ExternalId { get; set; }
    public JsonObject Properties { get; } = [];
    /// <summary>Klaviyo's other standard attributes: first_name, last_name, organization, title, location {address1, city, region, country, zip, …}.</summary>
    public JsonObject Standard { get; } = [];
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    public DateTimeOffset Updated { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>An event as the simulated Klaviyo recorded it.</summary>
public sealed record RecordedEvent(string ProfileId, string Metric, string UniqueId, JsonObject Properties, DateTimeOffset Time, DateTimeOffset ReceivedAt);

/// <summary>A segment or list: a named set of profiles.</summary>
public sealed record ProfileGroup(string Id, string Name, List<string> ProfileIds);

/// <summary>A bulk profile import job and the per-profile errors it found.</summary>
public sealed record ProfileImportJob(string Id, int Total, int Completed, int Failed, DateTimeOffset CreatedAt, List<(int Index, string Detail)> Errors);

/// <summary>One Klaviyo account (one private API key), with everything written into it.</summary>
public sealed class KlaviyoAccountState(string id, string apiKey, string organizationName)
{
    private long _sequence;
    public string Id { get; } = id;
    public string ApiKey { get; internal set; } = apiKey;
    public string OrganizationName { get; } = organizationName;
    public object Gate { get; } = new();
    /// <summary>
    /// Kept in id order, the order the profiles endpoint pages in, with the ids indexable, so a page starts where the
    /// last one ended: sorting, and then scanning, every profile for every page made the sandbox, not the caller, the
    /// bound of a 100,000-profile pull (20 ms of the sandbox's CPU a page). New ids come last, so adding one is cheap.
    /// </summary>
    public SortedList<string, SimulatedProfile> Profiles { get; } = new(StringComparer.Ordinal);
    public List<RecordedEvent> Events { get; } = [];
    public HashSet<(string Profile, string Metric, string UniqueId)> EventKeys { get; } = [];
    public ConcurrentDictionary<string, ProfileGroup> Segments { get; } = new();
    public ConcurrentDictionary<string, ProfileGroup> Lists { get; } = new();
    public ConcurrentDictionary<string, (string Name, string Status)> Forms { get; } = new();
    public ConcurrentDictionary<string, ProfileImportJob> ImportJobs { get; } = new();
    /// <summary>Events received again: the same unique_id for the same profile and metric (Klaviyo keeps the first).</summary>
    public long DuplicateEventsIgnored;
    /// <summary>Profiles in bulk import jobs whose values were exactly what the profile already held.</summary>
    public long DuplicateProfileImports;

    /// <summary>Ids shaped like Klaviyo's (26-character ULIDs), increasing so that listing order is stable.</summary>
    public string NewId() => "01K" + Interlocked.Increment(ref _sequence).ToString("D23");

    public SimulatedProfile? FindByEmail(string email) => Profiles.Values.FirstOrDefault(p => string.Equals(p.Email, email, StringComparison.OrdinalIgnoreCase));
    public SimulatedProfile? FindByPhone(string phone) => Profiles.Values.FirstOrDefault(p => p.PhoneNumber == phone);
    public SimulatedProfile? FindByExternalId(string externalId) => Profiles.Values.FirstOrDefault(p => p.ExternalId == externalId);

    public IReadOnlyList<RecordedEvent> EventsOf(string metric)
    {
        lock (Gate) return Events.Where(e => e.Metric == metric).ToList();
    }
}

public sealed class KlaviyoState
{
    public ConcurrentDictionary<string, KlaviyoAccountState> AccountsByKey { get; } = new();
    public ConcurrentDictionary<string, KlaviyoAccountState> AccountsById { get; } = new();
    public KlaviyoOAuthState OAuth { get; } = new();

    public KlaviyoAccountState AddAccount(string id, string apiKey, string organizationName)
    {
        var account = new KlaviyoAccountState(id, apiKey, organizationName);
        AccountsByKey[apiKey] = account;
        AccountsById[id] = account;
        return account;
    }

    /// <summary>The account's key is revoked and another one issued (a merchant rotating keys): the old key gets 401.</summary>
    public void ReplaceKey(KlaviyoAccountState account, string newKey)
    {
        AccountsByKey.TryRemove(account.ApiKey, out _);
        account.ApiKey = newKey;
        AccountsByKey[newKey] = account;
    }

    public void Reset()
    {
        AccountsByKey.Clear();
        AccountsById.Clear();
        OAuth.Reset();
    }
}
