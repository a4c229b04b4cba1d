using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lumo.Core.ProductCards;

namespace Lumo.Core.AutoSendMessages;

/// <summary>
/// A reusable LINE message for Flow sends: up to five LINE message objects (text, image, flex, sticker) whose
/// strings may hold <c>{{variable}}</c> placeholders, filled from the Flow webhook body's <c>variables</c> at send
/// time. A message may also hold product cards (<see cref="ProductCard"/>), Lumo's own message type, which
/// <see cref="Render"/> expands into LINE messages with the products of the Flow's trigger or the card's fallbacks.
/// </summary>
public sealed partial record AutoSendMessage
{
    public required string WorkspaceId { get; init; }
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required JsonArray Messages { get; init; }
    /// <summary>Whether this message's links and images are tracked (when its LINE account tracks at all).</summary>
    public bool TrackOpensAndClicks { get; init; } = true;
    /// <summary>UTM parameters this message sets instead of the defaults (e.g. its own <c>utm_campaign</c>).</summary>
    public IReadOnlyDictionary<string, string> Utm { get; init; } = new Dictionary<string, string>();
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The placeholder names used anywhere in the messages, in order of first use.</summary>
    public IReadOnlyList<string> Variables => VariablesIn(Messages);

    /// <summary>
    /// The variables a Flow body fills from the profile: with a trigger product card, all but those the trigger gives
    /// (<see cref="TriggerProducts.VariableNames"/>); without one, all.
    /// </summary>
    public IReadOnlyList<string> ProfileVariables => TriggerTemplate is null ? Variables : Variables.Except(TriggerProducts.VariableNames).ToList();

    /// <summary>The trigger template of this message's trigger cards (one per message), or null when it has none.</summary>
    public TriggerTemplate? TriggerTemplate => Cards().OfType<ProductCard>().Select(c => c.Template).FirstOrDefault(t => t is not null);

    /// <summary>The Shopify feeds this message's feed cards show (read before <see cref="Render"/>).</summary>
    public IReadOnlyList<ProductFeed> Feeds => Cards().OfType<ProductCard>().Select(c => c.Feed).OfType<ProductFeed>().Distinct().ToList();

    // Each message's product card, or null for any other message (and for a card that no longer validates).
    private List<ProductCard?> Cards() => Messages.Select(m => ProductCard.IsCard(m) ? ProductCard.TryFrom(m!.AsObject()) : null).ToList();

    public static IReadOnlyList<string> VariablesIn(JsonNode node) =>
        Placeholder().Matches(node.ToJsonString()).Select(m => m.Groups[1].Value).Distinct().ToList();

    /// <summary>
    /// The LINE messages with every placeholder replaced and every product card expanded with the products of
    /// <paramref name="trigger"/> or of its feed in <paramref name="feeds"/> (or its fallbacks); missing variables are reported, not left in.
    /// </summary>
    public JsonArray Render(IReadOnlyDictionary<string, string> variables, TriggerProducts? trigger, IReadOnlyDictionary<ProductFeed, FeedProducts>? feeds,
        out IReadOnlyList<string> missing)
    {
        var cards = Cards();
        // A trigger card's variables are always defined (empty without a trigger: a broadcast, a test without an event).
        trigger = cards.All(c => c?.Template is null) ? null : trigger ?? TriggerProducts.None;
        var values = trigger is null ? variables : new Dictionary<string, string>(trigger.Variables.Concat(variables.Where(v => !trigger.Variables.ContainsKey(v.Key))));
        missing = Variables.Where(v => !values.ContainsKey(v)).ToList();
        var rendered = new JsonArray();
        for (var i = 0; i < Messages.Count; i++)
        {
            // A card saved under older rules that no longer validates stays as it is: the check of the rendered
            // messages then names what is wrong (a 400), rather than the send failing with an exception.
            if (cards[i] is not { } card)
            {
                rendered.Add(Replace(Messages[i]?.DeepClone(), values));
                continue;
            }
            card = card with { Title = Fill(card.Title, values), Text = Fill(card.Text, values) };
            IReadOnlyList<Product> source = trigger?.Products ?? [];
            if (card.Feed is { } feed)
            {
                var fed = feeds?.GetValueOrDefault(feed) ?? FeedProducts.Empty;
                // Feed prices are in the store's currency, whatever the card was saved with (its fallbacks keep the card's).
                (source, card) = (fed.Products, fed.Products.Count > 0 && fed.Currency is { } currency ? card with { Currency = currency } : card);
            }
            var products = ProductCardFlex.Choose(card, source);
            var buttonUrl = card.Template == ProductCards.TriggerTemplate.AbandonedCart ? trigger?.CartUrl : null;
            foreach (var line in ProductCardFlex.Render(card, products, buttonUrl)) rendered.Add(line);
        }
        return rendered;
    }

    private static string Fill(string text, IReadOnlyDictionary<string, string> variables) =>
        Placeholder().Replace(text, m => variables.TryGetValue(m.Groups[1].Value, out var v) ? v : "");

    private static JsonNode? Replace(JsonNode? node, IReadOnlyDictionary<string, string> variables) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, Replace(p.Value?.DeepClone(), variables)))),
        JsonArray array => new JsonArray(array.Select(item => Replace(item?.DeepClone(), variables)).ToArray()),
        JsonValue value when value.TryGetValue<string>(out var text) =>
            JsonValue.Create(Fill(text, variables)),
        _ => node,
    };

    [GeneratedRegex(@"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")]
    private static partial Regex Placeholder();
}
