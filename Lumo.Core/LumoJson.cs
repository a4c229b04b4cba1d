using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lumo.Core;

/// <summary>The one JSON convention for our own payloads (queue messages, admin API): camelCase, enums as strings.</summary>
public static class LumoJson
{
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        return options;
    }
}
