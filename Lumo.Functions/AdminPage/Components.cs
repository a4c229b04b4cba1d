namespace Lumo.Functions.AdminPage;

/// <summary>The form parts and small pieces every page uses, accessible by construction (labels, described errors).</summary>
public static class Components
{
    /// <summary>A labelled input with its errors beside it; <paramref name="name"/> is the admin API's field name.</summary>
    public static Html Field(PageContext page, string name, string label, string? value, string type = "text", string? hint = null, bool required = false,
        string? autocomplete = null)
    {
        var id = page.FieldIdPrefix + name.Replace('.', '-');
        var errors = page.ErrorsOf(name).ToList();
        return Html.Of($"""
            <div class="field{(errors.Count > 0 ? " invalid" : "")}"><label for="{id}">{label}</label>
            <input id="{id}" name="{name}" type="{type}" value="{(type == "password" ? "" : value)}"{Html.When(required, Html.Of($" required"))}{Html.When(autocomplete is not null, Html.Of($" autocomplete=\"{autocomplete}\""))}{Described(id, errors, hint)}>
            {Hint(id, hint)}{ErrorList(id, errors)}</div>
            """);
    }

    public static Html TextArea(PageContext page, string name, string label, string? value, int rows = 8, string? hint = null)
    {
        var id = page.FieldIdPrefix + name.Replace('.', '-');
        var errors = page.ErrorsOf(name).ToList();
        return Html.Of($"""
            <div class="field{(errors.Count > 0 ? " invalid" : "")}"><label for="{id}">{label}</label>
            <textarea id="{id}" name="{name}" rows="{rows}" spellcheck="false"{Described(id, errors, hint)}>{value}</textarea>{Hint(id, hint)}{ErrorList(id, errors)}</div>
            """);
    }

    public static Html Checkbox(PageContext page, string name, string label, bool isChecked, string? hint = null)
    {
        var id = page.FieldIdPrefix + name.Replace('.', '-');
        var errors = page.ErrorsOf(name).ToList();
        return Html.Of($"""
            <div class="field check{(errors.Count > 0 ? " invalid" : "")}"><input id="{id}" name="{name}" type="checkbox" value="true"{Html.When(isChecked, Html.Of($" checked"))}{Described(id, errors, hint)}>
            <label for="{id}">{label}</label>{Hint(id, hint)}{ErrorList(id, errors)}</div>
            """);
    }

    public static Html Select(PageContext page, string name, string label, IEnumerable<(string Value, string Text)> options, string? selected)
    {
        var id = page.FieldIdPrefix + name.Replace('.', '-');
        var errors = page.ErrorsOf(name).ToList();
        return Html.Of($"""
            <div class="field{(errors.Count > 0 ? " invalid" : "")}"><label for="{id}">{label}</label><select id="{id}" name="{name}"{Described(id, errors, null)}>{options.Select(o =>
                Html.Of($"""<option value="{o.Value}"{Html.When(o.Value == selected, Html.Of($" selected"))}>{o.Text}</option>"""))}</select>{ErrorList(id, errors)}</div>
            """);
    }

    /// <summary>
    /// A form that posts to <paramref name="action"/> with the session's anti-forgery token and its own id, so that a
    /// page with several forms shows posted values and errors in the one that was posted (<see cref="PageContext.For"/>).
    /// </summary>
    public static Html Form(PageContext page, string action, Html fields, string submit, string? cssClass = null, string formId = "main", string? buttonClass = null) => Html.Of($"""
        <form method="post" action="{action}"{Html.When(cssClass is not null, Html.Of($" class=\"{cssClass}\""))} novalidate>{page.AntiForgeryField}<input type="hidden" name="__form" value="{formId}">{fields}<button type="submit"{Html.When(buttonClass is not null, Html.Of($" class=\"{buttonClass}\""))}>{submit}</button></form>
        """);

    /// <summary>A value shown in full with a button that copies it (the page script does the copying).</summary>
    public static Html Copyable(PageContext page, string value, string label) => Html.Of($"""
        <div class="copyable"><code>{value}</code><button type="button" class="copy" data-copy="{value}" aria-label="{page.T("Copy")}: {label}">{page.T("Copy")}</button></div>
        """);

    public static Html Status(string status) => Html.Of($"""<span class="status status-{status.ToLowerInvariant()}">{status}</span>""");

    public static Html Table(IEnumerable<string> headings, IEnumerable<Html> rows, string empty)
    {
        var body = rows.ToList();
        return body.Count == 0 ? Html.Of($"""<p class="empty">{empty}</p>""")
            : Html.Of($"""<div class="table"><table><thead><tr>{headings.Select(h => Html.Of($"<th scope=\"col\">{h}</th>"))}</tr></thead><tbody>{body}</tbody></table></div>""");
    }

    public static string When(DateTimeOffset? at) => at?.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture) ?? "–";

    private static Html Described(string id, List<string> errors, string? hint)
    {
        var ids = string.Join(' ', new[] { hint is null ? null : id + "-hint", errors.Count > 0 ? id + "-error" : null }.OfType<string>());
        return Html.Of($"""{Html.When(ids.Length > 0, Html.Of($" aria-describedby=\"{ids}\""))}{Html.When(errors.Count > 0, Html.Of($" aria-invalid=\"true\""))}""");
    }

    private static Html Hint(string id, string? hint) => hint is null ? Html.Empty : Html.Of($"""<p class="hint" id="{id}-hint">{hint}</p>""");

    private static Html ErrorList(string id, List<string> errors) =>
        errors.Count == 0 ? Html.Empty : Html.Of($"""<p class="error" id="{id}-error">{string.Join(" ", errors)}</p>""");
}
