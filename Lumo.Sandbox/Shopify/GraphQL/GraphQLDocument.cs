using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Lumo.Sandbox.Shopify.GraphQL;

/// <summary>One field of a selection set: <c>alias: name(arguments) { selections }</c>.</summary>
public sealed record GraphQLField(string Alias, string Name, IReadOnlyDictionary<string, JsonNode?> Arguments, IReadOnlyList<GraphQLField>? Selections);

/// <summary>A parsed query operation: its variable definitions (name → whether required) and its top-level fields.</summary>
public sealed record GraphQLOperation(string Kind, IReadOnlyDictionary<string, bool> Variables, IReadOnlyList<GraphQLField> Fields);

public sealed class GraphQLSyntaxException(string message) : Exception(message);

/// <summary>
/// Parses the part of the GraphQL language (https://spec.graphql.org/October2021/) the Admin API queries we simulate
/// use: one anonymous or named query with variable definitions, fields with aliases and arguments, nested selection
/// sets. Fragments and directives are refused: an app that relies on them needs them modelled first. Variables are
/// substituted as they are parsed, so the executor sees literal values.
/// </summary>
public sealed class GraphQLParser
{
    private readonly string _text;
    private readonly JsonObject _variables;
    private readonly Dictionary<string, bool> _defined = [];
    private int _at;

    private GraphQLParser(string text, JsonObject? variables) => (_text, _variables) = (text, variables ?? []);

    public static GraphQLOperation Parse(string text, JsonObject? variables) => new GraphQLParser(text, variables).Document();

    private GraphQLOperation Document()
    {
        var kind = "query";
        if (PeekName() is "query" or "mutation" or "subscription")
        {
            kind = Name();
            if (Peek() is not ('{' or '(')) Name();
            if (TryTake('(')) VariableDefinitions();
        }
        var fields = SelectionSet();
        Skip();
        if (_at < _text.Length) throw new GraphQLSyntaxException($"Unexpected '{_text[_at]}' after the operation (only one operation per request is modelled).");
        foreach (var (name, required) in _defined)
            if (required && _variables[name] is null) throw new GraphQLSyntaxException($"Variable ${name} of required type was not provided.");
        return new GraphQLOperation(kind, _defined, fields);
    }

    private void VariableDefinitions()
    {
        while (!TryTake(')'))
        {
            Expect('$');
            var name = Name();
            Expect(':');
            var required = TypeReference();
            if (TryTake('=')) _variables[name] ??= Value(constant: true)?.DeepClone();
            _defined[name] = required;
        }
    }

    // Returns whether the type is non-null (ends in '!').
    private bool TypeReference()
    {
        if (TryTake('['))
        {
            TypeReference();
            Expect(']');
        }
        else Name();
        return TryTake('!');
    }

    private List<GraphQLField> SelectionSet()
    {
        Expect('{');
        var fields = new List<GraphQLField>();
        while (!TryTake('}'))
        {
            if (Peek() == '.') throw new GraphQLSyntaxException("Fragments are not modelled by the sandbox.");
            var name = Name();
            var alias = name;
            if (TryTake(':')) name = Name();
            var arguments = new Dictionary<string, JsonNode?>();
            if (TryTake('('))
                while (!TryTake(')'))
                {
                    var argument = Name();
                    Expect(':');
                    arguments[argument] = Value(constant: false);
                }
            if (Peek() == '@') throw new GraphQLSyntaxException("Directives are not modelled by the sandbox.");
            fields.Add(new GraphQLField(alias, name, arguments, Peek() == '{' ? SelectionSet() : null));
        }
        if (fields.Count == 0) throw new GraphQLSyntaxException("A selection set selects at least one field.");
        return fields;
    }

    private JsonNode? Value(bool constant)
    {
        Skip();
        var c = Peek();
        if (c == '$' && !constant)
        {
            _at++;
            var name = Name();
            if (!_defined.ContainsKey(name)) throw new GraphQLSyntaxException($"Variable ${name} is not defined by the operation.");
            return _variables[name]?.DeepClone();
        }
        if (c == '"') return JsonValue.Create(String());
        if (c == '[')
        {
            _at++;
            var list = new JsonArray();
            while (!TryTake(']')) list.Add(Value(constant));
            return list;
        }
        if (c == '{')
        {
            _at++;
            var obj = new JsonObject();
            while (!TryTake('}'))
            {
                var key = Name();
                Expect(':');
                obj[key] = Value(constant);
            }
            return obj;
        }
        if (c is '-' or (>= '0' and <= '9'))
        {
            var start = _at++;
            while (_at < _text.Length && (char.IsDigit(_text[_at]) || _text[_at] is '.' or 'e' or 'E' or '+' or '-')) _at++;
            var number = _text[start.._at];
            return long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole) ? JsonValue.Create(whole)
                : JsonValue.Create(double.Parse(number, CultureInfo.InvariantCulture));
        }
        var word = Name();
        return word switch { "true" => JsonValue.Create(true), "false" => JsonValue.Create(false), "null" => null, _ => JsonValue.Create(word) }; // enums as their names
    }

    private string String()
    {
        Expect('"');
        var text = new StringBuilder();
        while (true)
        {
            if (_at >= _text.Length) throw new GraphQLSyntaxException("Unterminated string.");
            var c = _text[_at++];
            if (c == '"') return text.ToString();
            if (c != '\\') { text.Append(c); continue; }
            var escaped = _text[_at++];
            text.Append(escaped switch
            {
                'n' => "\n", 't' => "\t", 'r' => "\r", 'b' => "\b", 'f' => "\f",
                'u' => ((char)Convert.ToInt32(_text.Substring((_at += 4) - 4, 4), 16)).ToString(),
                _ => escaped.ToString(),
            });
        }
    }

    private string Name()
    {
        Skip();
        var start = _at;
        while (_at < _text.Length && (char.IsAsciiLetterOrDigit(_text[_at]) || _text[_at] == '_')) _at++;
        if (_at == start) throw new GraphQLSyntaxException($"Expected a name at position {start}.");
        return _text[start.._at];
    }

    private string? PeekName()
    {
        Skip();
        var end = _at;
        while (end < _text.Length && char.IsAsciiLetter(_text[end])) end++;
        return end > _at ? _text[_at..end] : null;
    }

    private char Peek()
    {
        Skip();
        return _at < _text.Length ? _text[_at] : '\0';
    }

    private bool TryTake(char c)
    {
        if (Peek() != c) return false;
        _at++;
        return true;
    }

    private void Expect(char c)
    {
        if (!TryTake(c)) throw new GraphQLSyntaxException($"Expected '{c}' at position {_at}.");
    }

    // Commas are insignificant in GraphQL, like white space; '#' starts a comment.
    private void Skip()
    {
        while (_at < _text.Length)
        {
            var c = _text[_at];
            if (char.IsWhiteSpace(c) || c == ',' || c == '\uFEFF') _at++;
            else if (c == '#') while (_at < _text.Length && _text[_at] != '\n') _at++;
            else break;
        }
    }
}
