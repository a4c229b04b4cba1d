using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace Lumo.Functions.AdminPage;

/// <summary>
/// A piece of HTML. Built only through <see cref="Of"/>, whose interpolation holes are HTML-encoded unless they are
/// <see cref="Html"/> themselves: a page cannot forget to encode a display name, a property value or an error.
/// </summary>
public readonly struct Html
{
    // Japanese and Thai stay readable in the page source; only what HTML gives meaning to is encoded.
    internal static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    private readonly string? _value;
    private Html(string value) => _value = value;

    public static Html Empty => default;

    public static Html Of(ref HtmlInterpolation html) => new(html.ToStringAndClear());

    /// <summary>Markup the caller vouches for (constants of this assembly, never input).</summary>
    internal static Html Trusted(string markup) => new(markup);

    public static Html Join(IEnumerable<Html> parts) => new(string.Concat(parts.Select(p => p._value)));

    public static Html When(bool condition, Html html) => condition ? html : Empty;

    public override string ToString() => _value ?? "";
}

/// <summary>The interpolation behind <see cref="Html.Of"/>: literals as written, every hole encoded unless it is already <see cref="Html"/>.</summary>
[InterpolatedStringHandler]
public ref struct HtmlInterpolation(int literalLength, int formattedCount)
{
    private readonly StringBuilder _builder = new(literalLength + formattedCount * 16);

    public readonly void AppendLiteral(string literal) => _builder.Append(literal);

    public readonly void AppendFormatted<T>(T value) => AppendFormatted(value, null);

    public readonly void AppendFormatted<T>(T value, string? format)
    {
        switch (value)
        {
            case Html html: _builder.Append(html.ToString()); break;
            case IEnumerable<Html> parts: foreach (var part in parts) _builder.Append(part.ToString()); break;
            case IFormattable formattable: _builder.Append(Html.Encoder.Encode(formattable.ToString(format, CultureInfo.InvariantCulture))); break;
            case null: break;
            default: _builder.Append(Html.Encoder.Encode(value.ToString() ?? "")); break;
        }
    }

    internal readonly string ToStringAndClear()
    {
        var text = _builder.ToString();
        _builder.Clear();
        return text;
    }
}
