using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.AdminPage;

/// <summary>One page request: its session, its language, and the form it posted with the errors to show beside each field.</summary>
/// <remarks>The session is the one the session filter put on the request (none on the sign-in page).</remarks>
public sealed class PageContext(HttpContext http)
{
    private bool _otherForm;

    public HttpContext Http { get; } = http;
    public AdminPageSession? Session { get; } = http.Items[typeof(AdminPageSession)] as AdminPageSession;

    /// <summary>Japanese when the browser prefers it to English; English otherwise.</summary>
    public bool Japanese { get; } = PrefersJapanese(http.Request);

    /// <summary>Field errors by the admin API's field names (<c>klaviyo.privateApiKey</c>), the form fields' names too.</summary>
    public IDictionary<string, string[]> Errors { get; private set; } = new Dictionary<string, string[]>();

    /// <summary>A problem that belongs to no single field (a conflict, a stale edit, a vendor refusal).</summary>
    public string? Problem { get; private set; }

    /// <summary>What happened, shown above the page after a change: the redirect's <c>notice</c> query names one of <see cref="Notices"/>.</summary>
    public string? Notice => Http.Request.Query["notice"].ToString() is { Length: > 0 } key && Notices.TryGetValue(key, out var text) ? T(text) : null;

    /// <summary>
    /// The notices a redirect can name. A change redirects to a page (so a reload does not repeat it) and names what
    /// happened by key: no text travels in the URL.
    /// </summary>
    private static readonly Dictionary<string, string> Notices = new()
    {
        ["workspace-created"] = "Workspace created. Add its LINE Official Account below.",
        ["account-added"] = "LINE account connected. Copy its webhook URL into the LINE Developers Console.",
        ["saved"] = "Saved.",
        ["verify-queued"] = "A fresh check of the Klaviyo key and every LINE token is queued. Reload in a moment to see the outcome.",
        ["message-created"] = "Auto Send Message created.",
        ["qr-created"] = "QR code created.",
        ["key-reissued"] = "A new Flow key is issued. The old key is refused from now on: paste the new one into every Klaviyo Flow webhook.",
        ["replayed"] = "Replayed: the parked work is back in its queue.",
        ["import-queued"] = "The import runs now; its result appears in the history below.",
        ["broadcast-created"] = "Broadcast created: it starts at its time (now, when none was given).",
        ["count-queued"] = "Counting in the background: reload in a moment for the result.",
        ["test-sent"] = "Test message accepted: see the send log for its outcome.",
        ["consent-refresh-queued"] = "The consent status refresh runs now; its result appears in the runs below.",
        ["sync-queued"] = "Queued: the run appears below and shows its progress.",
        ["sync-running"] = "A pull or resync of this account is unfinished: it goes on, or cancel it below.",
        ["cancel-requested"] = "Cancelling: the run stops before its next page.",
        ["consent-refresh-running"] = "A consent status refresh of this account is already running.",
    };

    public static IResult Redirect(string path, string notice)
    {
        var (beforeFragment, fragment) = path.IndexOf('#') is >= 0 and var at ? (path[..at], path[at..]) : (path, "");
        return Results.Redirect(Url(beforeFragment) + (beforeFragment.Contains('?') ? "&" : "?") + "notice=" + notice + fragment);
    }

    public string T(string english) => PageTexts.Translate(english, Japanese);

    public string? Form(string name) => !_otherForm && Http.Request.HasFormContentType && Http.Request.Form.TryGetValue(name, out var value) ? value.ToString() : null;

    public static string Url(string path) => AdminPageEndpoints.RoutePrefix + path;

    /// <summary>Takes what the admin API's handler answered: field errors beside their fields, other problems on top. True when it was one of them.</summary>
    public bool TookProblem(object result)
    {
        switch (result)
        {
            case ValidationProblem validation:
                Errors = validation.ProblemDetails.Errors;
                return true;
            case ProblemHttpResult problem:
                Problem = string.Join(": ", new[] { problem.ProblemDetails.Title, problem.ProblemDetails.Detail }.Where(t => !string.IsNullOrEmpty(t)));
                return true;
            default:
                return false;
        }
    }

    public void Fail(string problem) => Problem = problem;

    /// <summary>Shows field errors as one problem on top: for a button whose form has no fields.</summary>
    public void ErrorsAsProblem()
    {
        if (Errors.Count == 0) return;
        Problem = string.Join(" ", Errors.Values.SelectMany(e => e));
        Errors = new Dictionary<string, string[]>();
    }

    /// <summary>Shows every field error beside <paramref name="field"/>: for a form with one input that stands for several API fields.</summary>
    public void GatherErrorsUnder(string field) => Errors = new Dictionary<string, string[]> { [field] = Errors.Values.SelectMany(e => e).ToArray() };

    /// <summary>
    /// This context for the form <paramref name="formId"/> of a page with several: the posted values and field errors
    /// when it is the form that was posted, a blank form otherwise (two forms may both have a "name" field).
    /// </summary>
    public PageContext For(string formId)
    {
        var posted = Http.Request.HasFormContentType && Http.Request.Form["__form"] == formId;
        return new PageContext(Http)
        {
            _otherForm = !posted, Errors = posted ? Errors : new Dictionary<string, string[]>(), ShownFields = ShownFields, FieldIdPrefix = $"f-{formId}-",
        };
    }

    /// <summary>What element ids of this form's fields start with: unique on a page with several forms, so every label names its own input.</summary>
    public string FieldIdPrefix { get; private init; } = "f-";

    /// <summary>The fields this page showed, so that errors of other fields are not lost: the frame lists them on top.</summary>
    public HashSet<string> ShownFields { get; private init; } = new(StringComparer.OrdinalIgnoreCase);

    public IEnumerable<string> ErrorsOf(string field)
    {
        if (!_otherForm) ShownFields.Add(field); // a form that was not posted shows none of the posted form's errors
        return Errors.Where(e => string.Equals(e.Key, field, StringComparison.OrdinalIgnoreCase) || e.Key.StartsWith(field + ".", StringComparison.OrdinalIgnoreCase)
            || e.Key.StartsWith(field + "[", StringComparison.OrdinalIgnoreCase)).SelectMany(e => e.Value);
    }

    public Html AntiForgeryField => Session is null ? Html.Empty : Html.Of($"<input type=\"hidden\" name=\"__csrf\" value=\"{Session.AntiForgeryToken}\">");

    private static bool PrefersJapanese(HttpRequest request)
    {
        foreach (var language in request.GetTypedHeaders().AcceptLanguage.OrderByDescending(l => l.Quality ?? 1))
        {
            var tag = language.Value.Value ?? "";
            if (tag.StartsWith("ja", StringComparison.OrdinalIgnoreCase)) return true;
            if (tag.StartsWith("en", StringComparison.OrdinalIgnoreCase)) return false;
        }
        return false;
    }
}
