using System.Text.Json.Nodes;
using Lumo.Sandbox.Infrastructure;

namespace Lumo.Sandbox.Klaviyo;

/// <summary>
/// The simulated Klaviyo API (revision 2026-07-15): accounts, profile import and look-up, events (single and bulk,
/// with unique_id de-duplication per profile and metric), bulk profile import jobs, segments, lists and forms.
/// </summary>
public static class KlaviyoEndpoints
{
    private const int MaxEventsPerBulkJob = 1_000;
    private const int MaxProfilesPerImportJob = 10_000;

    public static IEndpointRouteBuilder MapKlaviyoApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/accounts", GetAccounts);
        routes.MapPost("/api/profile-import", ImportProfile);
        routes.MapGet("/api/profiles", GetProfiles);
        routes.MapPost("/api/events", CreateEvent);
        routes.MapPost("/api/event-bulk-create-jobs", BulkCreateEvents);
        routes.MapPost("/api/profile-bulk-import-jobs", BulkImportProfiles);
        routes.MapGet("/api/profile-bulk-import-jobs/{id}", GetImportJob);
        routes.MapGet("/api/profile-bulk-import-jobs/{id}/import-errors", GetImportErrors);
        routes.MapGet("/api/segments", (HttpContext c, KlaviyoState s, KlaviyoVendor v) => ListGroups(c, "segment", Account(c, s).Segments, v));
        routes.MapGet("/api/lists", (HttpContext c, KlaviyoState s, KlaviyoVendor v) => ListGroups(c, "list", Account(c, s).Lists, v));
        routes.MapGet("/api/segments/{id}/profiles", (string id, HttpContext c, KlaviyoState s, KlaviyoVendor v) => GroupProfiles(c, id, Account(c, s).Segments, s, v));
        routes.MapGet("/api/lists/{id}/profiles", (string id, HttpContext c, KlaviyoState s, KlaviyoVendor v) => GroupProfiles(c, id, Account(c, s).Lists, s, v));
        routes.MapGet("/api/forms", GetForms);
        return routes;
    }

    private static KlaviyoAccountState Account(HttpContext context, KlaviyoState state) => state.AccountsById[SandboxItems.CallerOf(context)];

    private static IResult GetAccounts(HttpContext context, KlaviyoState state, KlaviyoVendor vendor)
    {
        var account = Account(context, state);
        var item = new JsonObject
        {
            ["type"] = "account",
            ["id"] = account.Id,
            ["attributes"] = new JsonObject
            {
                ["test_account"] = true,
                ["contact_information"] = new JsonObject
                {
                    ["default_sender_name"] = account.OrganizationName,
                    ["default_sender_email"] = "sandbox@example.com",
                    ["website_url"] = "https://example.com",
                    ["organization_name"] = account.OrganizationName,
                    ["street_address"] = new JsonObject { ["address1"] = "1-1 Sandbox", ["city"] = "Tokyo", ["country"] = "JP" },
                },
                ["industry"] = "Retail",
                ["timezone"] = "Asia/Tokyo",
                ["preferred_currency"] = "JPY",
                ["public_api_key"] = "SBX" + account.Id[^3..],
                ["locale"] = "ja-JP",
            },
            ["links"] = new JsonObject { ["self"] = $"{KlaviyoResources.Base}/api/accounts/{account.Id}/" },
        };
        return vendor.Ok(KlaviyoResources.Collection([item], $"{KlaviyoResources.Base}/api/accounts/", null));
    }

    private static async Task<IResult> ImportProfile(HttpContext context, KlaviyoState state, KlaviyoVendor vendor)
    {
        var account = Account(context, state);
        var data = (await JsonNode.ParseAsync(context.Request.Body))!["data"]!;
        lock (account.Gate)
        {
            var (profile, created, error) = Upsert(account, data);
            if (error is not null) return vendor.Error(error.Value.Status, error.Value.Message);
            return vendor.Ok(new JsonObject
            {
                ["data"] = KlaviyoResources.Profile(profile!),
                ["links"] = new JsonObject { ["self"] = $"{KlaviyoResources.Base}/api/profile-import/" },
            }, created ? 201 : 200);
        }
    }

    /// <summary>Klaviyo's matching: by id, else email, else phone, else external id; properties merge key by key.</summary>
    private static (SimulatedProfile? Profile, bool Created, (int Status, string Message)? Error) Upsert(KlaviyoAccountState account, JsonNode data)
    {
        var attributes = data["attributes"]!;
        var id = data["id"]?.GetValue<string>();
        var email = attributes["email"]?.GetValue<string>();
        var phone = attributes["phone_number"]?.GetValue<string>();
        var externalId = attributes["external_id"]?.GetValue<string>();
        if (phone is not null && !(phone.StartsWith('+') && phone.Length is >= 8 and <= 16 && phone[1..].All(char.IsDigit)))
            return (null, false, (400, $"Invalid phone number format (Example of a valid format: +12345678901): {phone}"));

        SimulatedProfile? profile;
        if (id is not null)
        {
            if (!account.Profiles.TryGetValue(id, out profile)) return (null, false, (404, $"A profile with id {id} does not exist."));
        }
        else
        {
            var byEmail = email is null ? null : account.FindByEmail(email);
            var byPhone = phone is null ? null : account.FindByPhone(phone);
            if (byEmail is not null && byPhone is not null && byEmail != byPhone)
                return (null, false, (409, "A profile already exists with one of these identifiers."));
            profile = byEmail ?? byPhone ?? (externalId is null ? null : account.FindByExternalId(externalId));
        }
        if (id is null && email is null && phone is null && externalId is null && profile is null)
            return (null, false, (400, "One of email, phone_number, external_id or id is required."));

        var created = profile is null;
        profile ??= new SimulatedProfile(account.NewId());
        if (email is not null) profile.Email = email;
        if (phone is not null) profile.PhoneNumber = phone;
        if (externalId is not null) profile.ExternalId = externalId;
        if (attributes["properties"] is JsonObject properties)
            foreach (var (key, value) in properties) profile.Properties[key] = Stored(value);
        foreach (var field in KlaviyoResources.StandardAttributes)
            if (attributes[field] is { } value) profile.Standard[field] = Stored(value);
        profile.Updated = DateTimeOffset.UtcNow;
        account.Profiles[profile.Id] = profile;
        return (profile, created, null);
    }

    // A value as the profile keeps it. A text, number or flag is copied out of the request's document: a clone of a
    // parsed value is a JSON document of its own (a few hundred bytes), which a 100,000-profile import turned into
    // 100 MiB of sandbox state that the bench then counted against Lumo's memory.
    private static JsonNode? Stored(JsonNode? value) => value is JsonValue scalar
        ? scalar.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.String => JsonValue.Create(scalar.GetValue<string>()),
            System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => JsonValue.Create(scalar.GetValue<bool>()),
            System.Text.Json.JsonValueKind.Number when scalar.TryGetValue<long>(out var whole) => JsonValue.Create(whole),
            System.Text.Json.JsonValueKind.Number => JsonValue.Create(scalar.GetValue<double>()),
            _ => scalar.DeepClone(),
        }
        : value?.DeepClone();

    // A bulk import of exactly the values the profile already holds: a repeat, counted for exactly-once tests.
    private static bool IsUnchanged(KlaviyoAccountState account, JsonNode data)
    {
        if (data["id"]?.GetValue<string>() is not { } id || !account.Profiles.TryGetValue(id, out var profile)) return false;
        var attributes = data["attributes"];
        return (attributes?["email"]?.GetValue<string>() is not { } email || email == profile.Email)
               && (attributes?["phone_number"]?.GetValue<string>() is not { } phone || phone == profile.PhoneNumber)
               && (attributes?["properties"] as JsonObject ?? []).All(p => JsonNode.DeepEquals(p.Value, profile.Properties[p.Key]));
    }

    private static IResult GetProfiles(HttpContext context, KlaviyoState state, KlaviyoVendor vendor)
    {
        var account = Account(context, state);
        var predicate = ProfileFilter.TryParse(context.Request.Query["filter"], out var error);
        if (predicate is null) return vendor.Error(400, error!);
        if (PageSize(context, 100, 20) is not { } size) return vendor.Error(400, "page[size] must be between 1 and 100.");
        if (ProfileCursor.TryRead(context.Request.Query["page[cursor]"]) is not { } after) return vendor.Error(400, "Invalid page cursor.");
        // A page starts after the last profile of the one before (the cursor names it) and reads only as far as it
        // needs: its profiles, and one more match to know whether there is a next page.
        var page = new List<JsonObject>(size);
        var (more, lastId) = (false, after);
        lock (account.Gate)
        {
            var (ids, profiles) = (account.Profiles.Keys, account.Profiles.Values);
            for (var i = ProfileCursor.FirstIndexAfter(ids, after); i < ids.Count; i++)
            {
                if (!predicate(profiles[i])) continue;
                if (page.Count == size)
                {
                    more = true;
                    break;
                }
                page.Add(KlaviyoResources.Profile(profiles[i]));
                lastId = ids[i];
            }
        }
        var next = more ? WithCursor(context.Request, ProfileCursor.After(lastId)) : null;
        return vendor.Ok(KlaviyoResources.Collection(page, SelfLink(context.Request), next));
    }

    private static async Task<IResult> CreateEvent(HttpContext context, KlaviyoState state, KlaviyoVendor vendor)
    {
        var account = Account(context, state);
        var attributes = (await JsonNode.ParseAsync(context.Request.Body))!["data"]!["attributes"]!;
        lock (account.Gate)
        {
            var (profile, _, error) = Upsert(account, attributes["profile"]!["data"]!);
            if (error is not null) return vendor.Error(error.Value.Status, error.Value.Message);
            Record(account, profile!, attributes);
        }
        return Results.StatusCode(202);
    }

    private static void Record(KlaviyoAccountState account, SimulatedProfile profile, JsonNode attributes)
    {
        var metric = attributes["metric"]!["data"]!["attributes"]!["name"]!.GetValue<string>();
        var time = attributes["time"]?.GetValue<string>() is { } t ? DateTimeOffset.Parse(t) : DateTimeOffset.UtcNow;
        // Without a unique_id Klaviyo uses the event time to the second.
        var uniqueId = attributes["unique_id"]?.GetValue<string>() ?? time.ToUnixTimeSeconds().ToString();
        if (!account.EventKeys.Add((profile.Id, metric, uniqueId)))
        {
            account.DuplicateEventsIgnored++;
            return;
        }
        account.Events.Add(new RecordedEvent(profile.Id, metric, uniqueId, (JsonObject)attributes["properties"]!.DeepClone(), time, DateTimeOffset.UtcNow));
    }

    private static async Task<IResult> BulkCreateEvents(HttpContext context, KlaviyoState state, KlaviyoVendor vendor)
    {
        var account = Account(context, state);
        var entries = (await JsonNode.ParseAsync(context.Request.Body))!["data"]!["attributes"]!["events-bulk-create"]!["data"]!.AsArray();
        var total = entries.Sum(e => e!["attributes"]!["events"]!["data"]!.AsArray().Count);
        if (total > MaxEventsPerBulkJob)
            return vendor.Error(400, $"A bulk job takes at most {MaxEventsPerBulkJob} events; this one has {total}.");
        lock (account.Gate)
        {
            // A unique_id repeated for the same profile and metric within one request fails the whole request.
            var seen = new HashSet<string>();
            foreach (var entry in entries)
            {
                var profileKey = entry!["attributes"]!["profile"]!["data"]!.ToJsonString();
                foreach (var e in entry["attributes"]!["events"]!["data"]!.AsArray())
                {
                    var a = e!["attributes"]!;
                    if (a["unique_id"]?.GetValue<string>() is { } uid && !seen.Add($"{profileKey}|{a["metric"]!["data"]!["attributes"]!["name"]}|{uid}"))
                        return vendor.Error(400, $"Duplicate unique_id {uid} for the same profile and metric in one request.");
                }
            }
            foreach (var entry in entries)
            {
                var (profile, _, error) = Upsert(account, entry!["attributes"]!["profile"]!["data"]!);
                if (error is not null) return vendor.Error(error.Value.Status, error.Value.Message);
                foreach (var e in entry["attributes"]!["events"]!["data"]!.AsArray())
                    Record(account, profile!, e!["attributes"]!);
            }
        }
        return Results.StatusCode(202);
    }

    private static async Task<IResult> BulkImportProfiles(HttpContext context, KlaviyoState state, KlaviyoVendor vendor)
    {
        var account = Account(context, state);
        var profiles = (await JsonNode.ParseAsync(context.Request.Body))!["data"]!["attributes"]!["profiles"]!["data"]!.AsArray();
        if (profiles.Count > MaxProfilesPerImportJob)
            return vendor.Error(400, $"A bulk import job takes at most {MaxProfilesPerImportJob} profiles; this one has {profiles.Count}.");
        var errors = new List<(int, string)>();
        lock (account.Gate)
        {
            for (var i = 0; i < profiles.Count; i++)
            {
                if (IsUnchanged(account, profiles[i]!)) account.DuplicateProfileImports++;
                var (_, _, error) = Upsert(account, profiles[i]!);
                if (error is not null) errors.Add((i, error.Value.Message));
            }
        }
        var job = new ProfileImportJob(account.NewId(), profiles.Count, profiles.Count - errors.Count, errors.Count, DateTimeOffset.UtcNow, errors);
        account.ImportJobs[job.Id] = job;
        return vendor.Ok(KlaviyoResources.ImportJob(job), 202);
    }

    private static IResult GetImportJob(string id, HttpContext context, KlaviyoState state, KlaviyoVendor vendor) =>
        Account(context, state).ImportJobs.TryGetValue(id, out var job) ? vendor.Ok(KlaviyoResources.ImportJob(job)) : vendor.Error(404, $"No import job {id}.");

    private static IResult GetImportErrors(string id, HttpContext context, KlaviyoState state, KlaviyoVendor vendor)
    {
        if (!Account(context, state).ImportJobs.TryGetValue(id, out var job)) return vendor.Error(404, $"No import job {id}.");
        var errors = job.Errors.Select(e => new JsonObject
        {
            ["type"] = "import-error",
            ["id"] = $"{job.Id}-{e.Index}",
            ["attributes"] = new JsonObject { ["code"] = "invalid", ["title"] = "Invalid profile", ["detail"] = e.Detail, ["original_payload"] = new JsonObject() },
            ["links"] = new JsonObject { ["self"] = $"{KlaviyoResources.Base}/api/import-errors/{job.Id}-{e.Index}/" },
        }).ToList();
        return vendor.Ok(KlaviyoResources.Collection(errors, $"{KlaviyoResources.Base}/api/profile-bulk-import-jobs/{id}/import-errors/", null));
    }

    private static IResult ListGroups(HttpContext context, string type, IDictionary<string, ProfileGroup> groups, KlaviyoVendor vendor)
    {
        if (PageSize(context, 10, 10) is not { } size) return vendor.Error(400, "page[size] must be between 1 and 10.");
        return Page(context, vendor, groups.Values.OrderBy(g => g.Id).Select(g => KlaviyoResources.Group(type, g)).ToList(), size);
    }

    private static IResult GroupProfiles(HttpContext context, string id, IDictionary<string, ProfileGroup> groups, KlaviyoState state, KlaviyoVendor vendor)
    {
        var account = Account(context, state);
        if (!groups.TryGetValue(id, out var group)) return vendor.Error(404, $"No segment or list with id {id}.");
        if (PageSize(context, 100, 20) is not { } size) return vendor.Error(400, "page[size] must be between 1 and 100.");
        // Only the requested page is rendered, and the member list is not copied: segments run to hundreds of
        // thousands of profiles. (A member whose profile was deleted is left out of its page.)
        lock (account.Gate)
            return Page(context, vendor, group.ProfileIds, size, id => account.Profiles.TryGetValue(id, out var p) ? KlaviyoResources.GroupMember(p) : null);
    }

    private static IResult GetForms(HttpContext context, KlaviyoState state, KlaviyoVendor vendor)
    {
        var forms = Account(context, state).Forms.OrderBy(f => f.Key).Select(f => new JsonObject
        {
            ["type"] = "form",
            ["id"] = f.Key,
            ["attributes"] = new JsonObject { ["name"] = f.Value.Name, ["status"] = f.Value.Status, ["ab_test"] = false, ["created_at"] = "2026-01-01T00:00:00+00:00", ["updated_at"] = "2026-01-01T00:00:00+00:00" },
            ["links"] = new JsonObject { ["self"] = $"{KlaviyoResources.Base}/api/forms/{f.Key}/" },
        }).ToList();
        return vendor.Ok(KlaviyoResources.Collection(forms, $"{KlaviyoResources.Base}/api/forms/", null));
    }

    private static int? PageSize(HttpContext context, int max, int fallback)
    {
        var raw = context.Request.Query["page[size]"].ToString();
        if (raw.Length == 0) return fallback;
        return int.TryParse(raw, out var size) && size >= 1 && size <= max ? size : null;
    }

    private static string SelfLink(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.Path}{request.QueryString}";

    /// <summary>The request's own address with <paramref name="cursor"/> as its page cursor: the next page's link.</summary>
    private static string WithCursor(HttpRequest request, string cursor)
    {
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(request.QueryString.Value);
        query["page[cursor]"] = cursor;
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString($"{request.Scheme}://{request.Host}{request.Path}",
            query.SelectMany(q => q.Value.Select(v => KeyValuePair.Create(q.Key, v))));
    }

    // Cursor pagination of lists and segments; the cursor is an offset here, opaque to the client as in Klaviyo.
    private static IResult Page(HttpContext context, KlaviyoVendor vendor, List<JsonObject> items, int size) => Page(context, vendor, items, size, item => item);

    private static IResult Page<T>(HttpContext context, KlaviyoVendor vendor, List<T> items, int size, Func<T, JsonObject?> render)
    {
        var offset = int.TryParse(context.Request.Query["page[cursor]"], out var c) ? c : 0;
        var next = offset + size < items.Count ? WithCursor(context.Request, (offset + size).ToString()) : null;
        return vendor.Ok(KlaviyoResources.Collection(items.Skip(offset).Take(size).Select(render).OfType<JsonObject>().ToList(), SelfLink(context.Request), next));
    }
}
