using Azure.Data.Tables;

namespace Lumo.Core.Storage;

/// <summary>
/// Text longer than one table property holds (64 KiB of UTF-16), split over numbered properties
/// (<c>Messages0</c>, <c>Messages1</c>, … and <c>MessagesChunks</c>) of one entity (1 MiB in all).
/// </summary>
public static class LongText
{
    private const int CharsPerProperty = 30_000;

    public static void Write(TableEntity entity, string name, string text)
    {
        var parts = (text.Length + CharsPerProperty - 1) / CharsPerProperty;
        entity[ChunkCount(name)] = parts;
        for (var i = 0; i < parts; i++)
            entity[$"{name}{i}"] = text.Substring(i * CharsPerProperty, Math.Min(CharsPerProperty, text.Length - i * CharsPerProperty));
    }

    public static string Read(TableEntity entity, string name) =>
        string.Concat(Enumerable.Range(0, entity.GetInt32(ChunkCount(name)) ?? 0).Select(i => entity.GetString($"{name}{i}")));

    // Auto Send Messages named the count "Chunks" before this helper existed; their rows keep that name.
    private static string ChunkCount(string name) => name == "Messages" ? "Chunks" : name + "Chunks";
}
