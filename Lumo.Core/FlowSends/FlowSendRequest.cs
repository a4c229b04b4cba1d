using System.Text.Json.Serialization;

namespace Lumo.Core.FlowSends;

/// <summary>
/// The JSON body a Klaviyo Flow webhook action posts (Klaviyo renders the merge variables first):
/// <c>{"to": "{{ person|lookup:'LINE User ID' }}", "account": "&lt;account id&gt;", "text": "..." | "message": "&lt;Auto Send Message id&gt;",
/// "variables": {...}, "trigger": {...}, "idempotencyKey": "..."}</c>. The <c>trigger</c> carries the triggering event's products
/// for a product card (<see cref="ProductCards.TriggerProducts"/>).
/// </summary>
public sealed record FlowSendRequest(
    [property: JsonPropertyName("to")] string? To,
    [property: JsonPropertyName("account")] string? Account,
    [property: JsonPropertyName("text")] string? Text,
    [property: JsonPropertyName("idempotencyKey")] string? IdempotencyKey,
    [property: JsonPropertyName("message")] string? Message = null,
    [property: JsonPropertyName("variables")] Dictionary<string, string>? Variables = null,
    [property: JsonPropertyName("trigger")] System.Text.Json.Nodes.JsonObject? Trigger = null)
{
    public const int MaxTextLength = 5_000;

    /// <summary>
    /// The idempotency key Flow Message Settings and Get JSON recommend: the triggering event's <c>$event_id</c>, which
    /// Klaviyo's own and its integrations' events carry and which stays the same on all of Klaviyo's retries of that
    /// trigger. A flow without a triggering event (list or segment trigger) renders it empty, and the send falls back
    /// to content de-duplication within the duplicate window.
    /// </summary>
    public const string RecommendedIdempotencyKey = "{{ event|lookup:'$event_id'|default:'' }}";

    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(To))
            errors["to"] = ["The recipient is empty: the profile has no LINE User ID (it is not ID-linked), or the merge variable is misspelt."];
        else if (To.Contains("{{") || To.Contains("{%"))
            errors["to"] = ["The recipient is an unrendered merge variable; use {{ person|lookup:'LINE User ID' }} in a Klaviyo Flow webhook."];
        else if (!Ids.IsLineUserId(To.Trim()))
            errors["to"] = ["The recipient must be a LINE user ID (U followed by 32 hexadecimal characters)."];
        if (string.IsNullOrWhiteSpace(Account))
            errors["account"] = ["Name the LINE Official Account to send from (its account id in Lumo)."];
        else if (!Ids.IsLumoId(Account.Trim()))
            errors["account"] = ["The account is a Lumo account id: 16 lower-case hexadecimal characters (Flow Message Settings shows it)."];
        if (string.IsNullOrWhiteSpace(Text) == string.IsNullOrWhiteSpace(Message))
            errors["text"] = ["Give either a text or the id of an Auto Send Message (message), not both."];
        else if (Message is not null && !Ids.IsLumoId(Message.Trim()))
            errors["message"] = ["The message is an Auto Send Message id: 16 lower-case hexadecimal characters (Get JSON shows it)."];
        else if (Text is { Length: > MaxTextLength })
            errors["text"] = [$"LINE text messages have at most {MaxTextLength} characters; this one has {Text.Length}."];
        if (IdempotencyKey is { Length: > 200 })
            errors["idempotencyKey"] = ["The idempotency key has at most 200 characters."];
        else if (IdempotencyKey is not null && (IdempotencyKey.Contains("{{") || IdempotencyKey.Contains("{%")))
            errors["idempotencyKey"] = ["The idempotency key is an unrendered merge variable; Klaviyo fills it in a Flow webhook action."];
        return errors;
    }
}
