using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Lumo.Sandbox.Shopify.GraphQL;

/// <summary>A GraphQL error as Shopify answers it (HTTP 200, <c>errors[].extensions.code</c>).</summary>
public sealed record GraphQLError(string Message, string Code);

/// <summary>
/// Validates a parsed query against <see cref="AdminSchema"/>, works out its cost the way Shopify documents it
/// (https://shopify.dev/docs/api/usage/limits#cost-calculation: scalars and enums 0, objects 1, connections 2 plus
/// the cost of one node times <c>first</c>), and runs it against a store. The requested cost is the static estimate
/// Shopify charges up front; the actual cost counts the nodes returned.
/// </summary>
public sealed class AdminQueryExecutor(ShopifyShop shop)
{
    public const int MaxPageSize = 250;
    public const int MaxQueryCost = 1_000;

    /// <summary>Everything wrong with the query, as Shopify names it.</summary>
    public static List<GraphQLError> Validate(GraphQLOperation operation)
    {
        var errors = new List<GraphQLError>();
        if (operation.Kind != "query") errors.Add(new("The sandbox models queries only.", "unsupportedOperation"));
        else Validate(AdminSchema.Root, operation.Fields, errors);
        return errors;
    }

    private static void Validate(string type, IReadOnlyList<GraphQLField> fields, List<GraphQLError> errors)
    {
        var known = AdminSchema.Types[type];
        foreach (var field in fields)
        {
            if (field.Name == "__typename") continue;
            if (!known.TryGetValue(field.Name, out var definition))
            {
                errors.Add(new($"Field '{field.Name}' doesn't exist on type '{type}'", "undefinedField"));
                continue;
            }
            foreach (var argument in field.Arguments.Keys.Where(a => !definition.Arguments.Contains(a)))
                errors.Add(new($"Field '{field.Name}' doesn't accept argument '{argument}'", "argumentNotAccepted"));
            switch (definition.Kind)
            {
                case FieldKind.Scalar when field.Selections is not null:
                    errors.Add(new($"Selections can't be made on scalars (field '{field.Name}' returns a scalar)", "selectionMismatch"));
                    break;
                case FieldKind.Object when field.Selections is null:
                    errors.Add(new($"Field must have selections (field '{field.Name}' returns {definition.Type} but has no selections.)", "selectionMismatch"));
                    break;
                case FieldKind.Object:
                    Validate(definition.Type, field.Selections!, errors);
                    break;
                case FieldKind.Connection:
                    ValidateConnection(field, definition, errors);
                    break;
            }
        }
    }

    private static void ValidateConnection(GraphQLField field, FieldType definition, List<GraphQLError> errors)
    {
        var size = PageSize(field);
        if (size is null) errors.Add(new($"You must provide one of first or last (field '{field.Name}').", "argumentLiteralsIncompatible"));
        else if (size is < 0 or > MaxPageSize) errors.Add(new($"The page size of '{field.Name}' must be 0 to {MaxPageSize}.", "argumentLiteralsIncompatible"));
        if (field.Selections is null)
        {
            errors.Add(new($"Field must have selections (field '{field.Name}' returns a connection but has no selections.)", "selectionMismatch"));
            return;
        }
        foreach (var part in field.Selections)
            switch (part.Name)
            {
                case "nodes" when part.Selections is not null: Validate(definition.Type, part.Selections, errors); break;
                case "pageInfo" when part.Selections is not null: Validate("PageInfo", part.Selections, errors); break;
                case "edges" when part.Selections is not null:
                    foreach (var edge in part.Selections)
                        if (edge.Name == "node" && edge.Selections is not null) Validate(definition.Type, edge.Selections, errors);
                        else if (edge.Name != "cursor") errors.Add(new($"Field '{edge.Name}' doesn't exist on type '{definition.Type}Edge'", "undefinedField"));
                    break;
                case "__typename": break;
                default: errors.Add(new($"Field '{part.Name}' doesn't exist on type '{definition.Type}Connection'", "undefinedField")); break;
            }
    }

    private static int? PageSize(GraphQLField field) =>
        (field.Arguments.GetValueOrDefault("first") ?? field.Arguments.GetValueOrDefault("last")) is JsonValue v && v.TryGetValue<long>(out var n) ? (int)n : null;

    /// <summary>The cost Shopify charges before running the query (every connection full).</summary>
    public static int RequestedCost(GraphQLOperation operation) => Cost(AdminSchema.Root, operation.Fields);

    private static int Cost(string type, IReadOnlyList<GraphQLField> fields) => fields.Sum(field =>
    {
        if (!AdminSchema.Types[type].TryGetValue(field.Name, out var definition)) return 0;
        return definition.Kind switch
        {
            FieldKind.Object => 1 + Cost(definition.Type, field.Selections!),
            FieldKind.Connection => 2 + (PageSize(field) ?? 0) * NodeCost(definition.Type, field),
            _ => 0,
        };
    });

    private static int NodeCost(string type, GraphQLField connection) => 1 + NodeSelections(connection).Sum(s => Cost(type, s));

    private static IEnumerable<IReadOnlyList<GraphQLField>> NodeSelections(GraphQLField connection) =>
        connection.Selections!.SelectMany(part => part.Name switch
        {
            "nodes" => [part.Selections!],
            "edges" => part.Selections!.Where(e => e.Name == "node").Select(e => e.Selections!),
            _ => Enumerable.Empty<IReadOnlyList<GraphQLField>>(),
        });

    /// <summary>Runs the query; <paramref name="actualCost"/> counts the objects and nodes it returned.</summary>
    public JsonObject Execute(GraphQLOperation operation, List<string> warnings, out int actualCost)
    {
        var cost = 0;
        var data = new JsonObject();
        foreach (var field in operation.Fields)
        {
            data[field.Alias] = field.Name switch
            {
                "shop" => Resolve("Shop", shop.ShopNode(), field.Selections!, ref cost, countSelf: true),
                "product" => shop.Products.TryGetValue(IdArgument(field), out var product) ? Resolve("Product", product, field.Selections!, ref cost, countSelf: true) : CountNull(ref cost),
                "products" => Connection("Product", Sorted(Search(shop.Products.Values, field, warnings), field), field, ref cost, keyed: true),
                "orders" => Connection("Order", Sorted(Search(shop.Orders, field, warnings), field), field, ref cost, keyed: true),
                _ => JsonValue.Create("")
            };
        }
        actualCost = cost;
        return data;
    }

    private static JsonNode? CountNull(ref int cost)
    {
        cost += 1;
        return null;
    }

    private static long IdArgument(GraphQLField field) =>
        field.Arguments.GetValueOrDefault("id") is JsonValue v && v.TryGetValue<string>(out var gid) && gid.StartsWith("gid://shopify/Product/", StringComparison.Ordinal)
        && long.TryParse(gid[22..], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : -1;

    private JsonObject Resolve(string type, JsonObject source, IReadOnlyList<GraphQLField> selections, ref int cost, bool countSelf)
    {
        if (countSelf) cost += 1;
        var result = new JsonObject();
        var fields = AdminSchema.Types[type];
        foreach (var field in selections)
        {
            if (field.Name == "__typename") { result[field.Alias] = type; continue; }
            var definition = fields[field.Name];
            var value = source[field.Name];
            result[field.Alias] = definition.Kind switch
            {
                FieldKind.Scalar => value?.DeepClone(),
                FieldKind.Object => Referenced(value) is { } target ? Resolve(definition.Type, target, field.Selections!, ref cost, countSelf: true) : CountNull(ref cost),
                _ => Connection(definition.Type, (value as JsonArray ?? []).OfType<JsonObject>().ToList(), field, ref cost, keyed: false),
            };
        }
        return result;
    }

    // A line item names its product by id; the product is looked up when selected (null once deleted).
    private JsonObject? Referenced(JsonNode? value) => value switch
    {
        JsonObject inline => inline,
        JsonValue reference when reference.TryGetValue<string>(out var gid) => shop.Products.GetValueOrDefault(ShopifyState.NumericId(gid)),
        _ => null,
    };

    private JsonObject Connection(string type, IReadOnlyList<JsonObject> items, GraphQLField field, ref int cost, bool keyed)
    {
        cost += 2;
        var size = PageSize(field) ?? 0;
        var after = field.Arguments.GetValueOrDefault("after") is JsonValue a && a.TryGetValue<string>(out var cursor) ? Decode(cursor) : null;
        var sortKey = SortKeyName(field);
        // Top-level connections page by sort value and id (stable while the store changes); nested ones by position.
        var start = after is null ? 0 : keyed ? FirstAfter(items, after, sortKey) : int.TryParse(after, out var index) ? index + 1 : 0;
        var page = items.Skip(start).Take(size).ToList();
        var cursors = page.Select((item, i) => Encode(keyed ? SortValue(item, sortKey) : (start + i).ToString(CultureInfo.InvariantCulture))).ToList();
        var result = new JsonObject();
        foreach (var part in field.Selections!)
        {
            switch (part.Name)
            {
                case "nodes":
                    var nodes = new JsonArray();
                    foreach (var item in page) nodes.Add(Resolve(type, item, part.Selections!, ref cost, countSelf: true));
                    result[part.Alias] = nodes;
                    break;
                case "edges":
                    var edges = new JsonArray();
                    for (var i = 0; i < page.Count; i++)
                    {
                        var edge = new JsonObject();
                        foreach (var e in part.Selections!)
                            edge[e.Alias] = e.Name == "cursor" ? cursors[i] : Resolve(type, page[i], e.Selections!, ref cost, countSelf: true);
                        edges.Add(edge);
                    }
                    result[part.Alias] = edges;
                    break;
                case "pageInfo":
                    var info = new JsonObject
                    {
                        ["hasNextPage"] = start + page.Count < items.Count, ["hasPreviousPage"] = start > 0,
                        ["startCursor"] = cursors.FirstOrDefault(), ["endCursor"] = cursors.LastOrDefault(),
                    };
                    result[part.Alias] = new JsonObject(part.Selections!.Select(p => KeyValuePair.Create(p.Alias, info[p.Name]?.DeepClone())));
                    break;
                case "__typename":
                    result[part.Alias] = type + "Connection";
                    break;
            }
        }
        return result;
    }

    private static int FirstAfter(IReadOnlyList<JsonObject> items, string after, string sortKey)
    {
        for (var i = 0; i < items.Count; i++)
            if (string.CompareOrdinal(SortValue(items[i], sortKey), after) > 0) return i;
        return items.Count;
    }

    private static string SortKeyName(GraphQLField field) => field.Arguments.GetValueOrDefault("sortKey") is JsonValue v && v.TryGetValue<string>(out var key) ? key : "ID";

    // Sortable text: the sort field (ISO dates and titles compare as text) and the zero-padded numeric id.
    private static string SortValue(JsonObject item, string sortKey)
    {
        var id = ShopifyState.NumericId(item["id"]!.GetValue<string>()).ToString("D20", CultureInfo.InvariantCulture);
        var field = sortKey switch { "UPDATED_AT" => "updatedAt", "CREATED_AT" => "createdAt", "PUBLISHED_AT" => "publishedAt", "TITLE" => "title", _ => null };
        return field is null ? id : $"{item[field]?.GetValue<string>() ?? ""}|{id}";
    }

    private static List<JsonObject> Sorted(IEnumerable<JsonObject> items, GraphQLField field)
    {
        var sortKey = SortKeyName(field);
        var sorted = items.OrderBy(i => SortValue(i, sortKey), StringComparer.Ordinal).ToList();
        if (field.Arguments.GetValueOrDefault("reverse") is JsonValue r && r.TryGetValue<bool>(out var reverse) && reverse) sorted.Reverse();
        return sorted;
    }

    private static string Encode(string value) => Convert.ToBase64String(Encoding.UTF8.GetBytes(value));

    private static string? Decode(string cursor)
    {
        try { return Encoding.UTF8.GetString(Convert.FromBase64String(cursor)); }
        catch (FormatException) { return null; }
    }

    /// <summary>
    /// Shopify's search syntax (https://shopify.dev/docs/api/usage/search-syntax) for what the sandbox's queries use:
    /// <c>updated_at:&gt;'…'</c> and the other <c>*_at</c> dates with &gt; &gt;= &lt; &lt;=, <c>status:active</c> and
    /// <c>published_status:published</c>. Like Shopify, an unknown field is ignored with a warning.
    /// </summary>
    private static IEnumerable<JsonObject> Search(IEnumerable<JsonObject> items, GraphQLField field, List<string> warnings)
    {
        if (field.Arguments.GetValueOrDefault("query") is not JsonValue q || !q.TryGetValue<string>(out var query)) return items;
        var filtered = items;
        foreach (var term in Terms(query).Where(t => t != "AND"))
        {
            var colon = term.IndexOf(':');
            if (colon < 0) { warnings.Add($"Free-text search '{term}' is not modelled and was ignored."); continue; }
            var (name, condition) = (term[..colon], term[(colon + 1)..]);
            var op = condition.StartsWith(">=") || condition.StartsWith("<=") ? condition[..2] : condition.StartsWith('>') || condition.StartsWith('<') ? condition[..1] : "";
            var value = condition[op.Length..].Trim('\'', '"');
            if (name.EndsWith("_at") && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                var property = name == "updated_at" ? "updatedAt" : name == "created_at" ? "createdAt" : "publishedAt";
                filtered = filtered.Where(i => i[property]?.GetValue<string>() is { } text && Compare(DateTimeOffset.Parse(text, CultureInfo.InvariantCulture).CompareTo(at), op)).ToList();
            }
            else if (name == "status")
                filtered = filtered.Where(i => value.Split(',').Contains(i["status"]?.GetValue<string>(), StringComparer.OrdinalIgnoreCase)).ToList();
            else if (name == "published_status")
                filtered = filtered.Where(i => (i["onlineStoreUrl"] is not null) == (value == "published")).ToList();
            else warnings.Add($"Invalid search field '{name}' was ignored.");
        }
        return filtered;
    }

    private static bool Compare(int order, string op) => op switch { ">" => order > 0, ">=" => order >= 0, "<" => order < 0, "<=" => order <= 0, _ => order == 0 };

    private static IEnumerable<string> Terms(string query)
    {
        var term = new StringBuilder();
        var quoted = '\0';
        foreach (var c in query)
        {
            if (quoted != '\0') { if (c == quoted) quoted = '\0'; term.Append(c); continue; }
            if (c is '\'' or '"') { quoted = c; term.Append(c); continue; }
            if (char.IsWhiteSpace(c)) { if (term.Length > 0) yield return term.ToString(); term.Clear(); continue; }
            term.Append(c);
        }
        if (term.Length > 0) yield return term.ToString();
    }
}
