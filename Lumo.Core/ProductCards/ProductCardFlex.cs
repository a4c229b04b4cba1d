using System.Text;
using System.Text.Json.Nodes;
using Lumo.Core.AutoSendMessages;

namespace Lumo.Core.ProductCards;

/// <summary>
/// A product card as LINE messages: a text (title, then the card's text) and a Flex carousel with one kilo bubble per
/// product — image (or a grey placeholder of the same shape), name, price in the store currency (the price before a
/// sale struck through) and a button (https://developers.line.biz/en/reference/messaging-api/#flex-message).
/// </summary>
public static class ProductCardFlex
{
    // A kilo bubble is 260 px wide in LINE's layout; a placeholder takes the height the chosen image shape would.
    private const int KiloWidthPx = 260;

    /// <summary>
    /// The products the card shows: those of its source, or its fallbacks when the source yields none, at most
    /// <see cref="ProductCard.MaxProducts"/>; the same product listed twice (a cart with two sizes) is shown once.
    /// Browse and low-stock triggers are about one product: the first the body carries (for low stock, the catalog
    /// item before the event's own fields). A feed gives its products in feed order.
    /// </summary>
    public static IReadOnlyList<Product> Choose(ProductCard card, IReadOnlyList<Product> fromSource)
    {
        var take = card.Template is null or TriggerTemplate.AbandonedCart ? card.MaxProducts : 1;
        var chosen = fromSource.DistinctBy(p => (p.Name, p.Url)).Take(take).ToList();
        return chosen.Count > 0 ? chosen : card.Fallback.Take(card.MaxProducts).ToList();
    }

    /// <summary>
    /// The LINE messages for <paramref name="card"/> with <paramref name="products"/> (already chosen). Buttons lead
    /// to <paramref name="buttonUrl"/> when given (an abandoned cart's recovery link), else to each product.
    /// </summary>
    public static IEnumerable<JsonObject> Render(ProductCard card, IReadOnlyList<Product> products, string? buttonUrl)
    {
        var text = card.Text.Length > 0 ? card.Title + "\n" + card.Text : card.Title;
        yield return new JsonObject { ["type"] = "text", ["text"] = text };
        if (products.Count == 0) yield break;

        var bubbles = new JsonArray(products.Select(p => (JsonNode)Bubble(card, p, buttonUrl)).ToArray());
        // Long links on every bubble could pass LINE's 50 KB per carousel: the last products give way.
        while (bubbles.Count > 1 && Encoding.UTF8.GetByteCount(bubbles.ToJsonString()) > LineMessageRules.MaxCarouselBytes - 1024)
            bubbles.RemoveAt(bubbles.Count - 1);
        yield return new JsonObject
        {
            ["type"] = "flex",
            ["altText"] = Product.CutToLength(card.Title, LineMessageRules.MaxAltTextLength - 1),
            ["contents"] = new JsonObject { ["type"] = "carousel", ["contents"] = bubbles },
        };
    }

    private static JsonObject Bubble(ProductCard card, Product product, string? buttonUrl)
    {
        var link = buttonUrl ?? product.Url;
        var details = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = product.Name, ["wrap"] = true, ["weight"] = "bold", ["size"] = "sm", ["maxLines"] = 2 });
        if (product.Price is { } price)
        {
            var prices = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = Money.Format(price, card.Currency), ["size"] = "sm", ["color"] = "#111111", ["flex"] = 0 });
            if (product.CompareAtPrice is { } before && before > price)
                prices.Add(new JsonObject { ["type"] = "text", ["text"] = Money.Format(before, card.Currency), ["size"] = "xs", ["color"] = "#999999", ["decoration"] = "line-through", ["flex"] = 0 });
            details.Add(new JsonObject { ["type"] = "box", ["layout"] = "baseline", ["spacing"] = "sm", ["contents"] = prices });
        }
        var bubble = new JsonObject
        {
            ["type"] = "bubble",
            ["size"] = "kilo",
            ["hero"] = Hero(card, product, product.Url ?? link),
            ["body"] = new JsonObject { ["type"] = "box", ["layout"] = "vertical", ["spacing"] = "sm", ["contents"] = details },
        };
        if (link is not null)
            bubble["footer"] = new JsonObject
            {
                ["type"] = "box", ["layout"] = "vertical",
                ["contents"] = new JsonArray(new JsonObject
                {
                    ["type"] = "button", ["style"] = "primary", ["height"] = "sm",
                    ["action"] = new JsonObject { ["type"] = "uri", ["label"] = card.ButtonLabel, ["uri"] = link },
                }),
            };
        return bubble;
    }

    private static JsonObject Hero(ProductCard card, Product product, string? link)
    {
        JsonObject hero;
        if (product.ImageUrl is { } image)
            hero = new JsonObject { ["type"] = "image", ["url"] = image, ["size"] = "full", ["aspectRatio"] = card.ImageAspect, ["aspectMode"] = "cover" };
        else
        {
            var parts = card.ImageAspect.Split(':');
            var height = KiloWidthPx * int.Parse(parts[1]) / int.Parse(parts[0]);
            hero = new JsonObject
            {
                ["type"] = "box", ["layout"] = "vertical", ["height"] = $"{height}px", ["backgroundColor"] = "#EEEEEE", ["justifyContent"] = "center",
                ["contents"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = System.Globalization.StringInfo.GetNextTextElement(product.Name), ["size"] = "3xl", ["align"] = "center", ["color"] = "#AAAAAA" }),
            };
        }
        if (link is not null) hero["action"] = new JsonObject { ["type"] = "uri", ["uri"] = link };
        return hero;
    }
}
