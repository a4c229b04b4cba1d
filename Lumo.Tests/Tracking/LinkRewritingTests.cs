using System.Text.Json.Nodes;
using Lumo.Core.Tracking;

namespace Lumo.Tests.Tracking;

/// <summary>Which links in a LINE text become tracking URLs, and what destination each keeps (pure rewriting rules).</summary>
public sealed class LinkRewritingTests
{
    private static (string Text, List<string> Destinations) Rewrite(string text)
    {
        var (messages, destinations) = TrackedLinks.Rewrite(new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }), i => $"[T{i}]");
        return (messages[0]!["text"]!.GetValue<string>(), destinations);
    }

    [Theory]
    [InlineData("セールは「https://shop.example.jp/sale」から。", "セールは「[T1]」から。", "https://shop.example.jp/sale")]
    [InlineData("詳しくは https://shop.example.jp/a、または https://shop.example.jp/b。", "詳しくは [T1]、または [T2]。", "https://shop.example.jp/a|https://shop.example.jp/b")]
    [InlineData("See (https://en.example.org/wiki/Foo_(bar)).", "See ([T1]).", "https://en.example.org/wiki/Foo_(bar)")]
    [InlineData("HTTPS://SHOP.EXAMPLE.COM/X now", "[T1] now", "https://shop.example.com/X")]
    public void LinksInTextAreTrackedWithTheTextAroundThemKept(string text, string expected, string destinations)
    {
        var (rewritten, found) = Rewrite(text);

        Assert.Equal(expected, rewritten);
        Assert.Equal(destinations.Split('|'), found);
    }

    [Theory]
    [InlineData("https://shop.example.jp/saleをご覧ください")] // a URL running on into Japanese: left as LINE shows it
    [InlineData("Broken https:///nothing here")]
    [InlineData("Port https://shop.example.com:99999/x here")]
    [InlineData("Go https://日本語.jp/sale now")] // an international host in running text: LINE's own link, left alone
    public void WhatIsNotClearlyOneUrlIsLeftAsItIs(string text)
    {
        var (rewritten, found) = Rewrite(text);

        Assert.Equal(text, rewritten);
        Assert.Empty(found);
    }

    [Fact]
    public void ATextWithLineEmojisKeepsItsLinksSoTheEmojiPositionsStay()
    {
        var message = new JsonObject { ["type"] = "text", ["text"] = "$ https://shop.example.com/", ["emojis"] = new JsonArray(new JsonObject { ["index"] = 0 }) };

        var (messages, found) = TrackedLinks.Rewrite(new JsonArray(message), i => $"[T{i}]");

        Assert.Equal("$ https://shop.example.com/", messages[0]!["text"]!.GetValue<string>());
        Assert.Empty(found);
    }

    [Fact]
    public void AnActionLinkToAnInternationalHostIsKeptInAsciiForTheRedirect()
    {
        var button = new JsonObject { ["type"] = "template", ["altText"] = "x", ["template"] = new JsonObject
        {
            ["type"] = "buttons", ["text"] = "x", ["actions"] = new JsonArray(new JsonObject { ["type"] = "uri", ["label"] = "Go", ["uri"] = "https://日本語.jp/セール" }),
        } };

        var (messages, found) = TrackedLinks.Rewrite(new JsonArray(button), i => $"https://t/{i}");

        Assert.Equal("https://t/1", messages[0]!["template"]!["actions"]![0]!["uri"]!.GetValue<string>());
        Assert.Equal("https://xn--wgv71a119e.jp/%E3%82%BB%E3%83%BC%E3%83%AB", Assert.Single(found));
    }
}
