"""Cross-site scripting payloads, and the check that a page rendered them inert.

PAYLOADS is sent through every free-text field (tests/test_xss.py lists the fields and the pages
that show each). `assert_inert(html, payload)` parses a page with `html.parser` and fails if the
payload came through as markup: any event-handler attribute, inline script or style, a
`javascript:` URL, or an element no template of ours makes (svg, iframe, object, base...).
"""

from __future__ import annotations

from html.parser import HTMLParser

from markupsafe import escape

#: Each under 100 characters, so that it fits every field (the credit name's limit is 100).
PAYLOADS: list[str] = [
    "<script>alert('xss-1')</script>",
    '"><script>alert("xss-2")</script>',
    "'><img src=x onerror=alert('xss-3')>",
    '" autofocus onfocus="alert(4)" x="',
    "' onmouseover='alert(5)' '",
    "javascript:alert('xss-6')",
    '<a href="javascript:alert(7)">look</a>',
    "<svg onload=alert(8)><script>alert(8)</script></svg>",
    "<svg><animate onbegin=alert(9) attributeName=x dur=1s>",
    "</textarea><script>alert(10)</script>",
    "</title><script>alert(11)</script>",
    '<iframe srcdoc="<script>alert(12)</script>"></iframe>',
    "<details open ontoggle=alert(13)>x</details>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(14)>",
    "<style>body{display:none}</style>gone",
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(17)">',
    "{{ 7*7 }}{% print('jinja') %}${7*7}",
    '<object data="data:text/html,<script>alert(19)</script>"></object>',
    "<a href=' jav&#x09;ascript:alert(20)'>tab</a>",
    "\u202e<script>alert(21)</script> <b>bold</b> &amp; &lt;",
]

# Elements and attributes no template of ours produces: if one appears, a payload made it.
FORBIDDEN_ELEMENTS = {
    "svg", "math", "iframe", "frame", "object", "embed", "base", "style", "animate",
    "mglyph", "mtext", "applet", "frameset",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "srcdoc", "xlink:href", "content"}


class _Markup(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag in FORBIDDEN_ELEMENTS:
            self.problems.append(f"<{tag}> element")
        if tag == "script":
            self._in_script = True
            src = dict(attrs).get("src") or ""
            if not src.startswith("/static/"):
                self.problems.append(f"<script> not from /static/: {src!r}")
        if tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "refresh":
            self.problems.append("<meta http-equiv=refresh>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler")
            if name in ("style", "srcdoc"):
                self.problems.append(f"<{tag} {name}=...>")
            squeezed = "".join((value or "").split()).lower()
            if name in URL_ATTRIBUTES and ("javascript:" in squeezed or "data:text" in squeezed):
                self.problems.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]!r}")


def markup_problems(html: str) -> list[str]:
    """What in `html` could run or restyle the page: empty for a clean page of ours."""
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser.problems


def assert_inert(
    html: str, payload: str, where: str, *, shown: bool = True, verbatim: bool = True
) -> None:
    """The page shows `payload` only as text (escaped) and holds no executable markup.

    `verbatim` False: the field is Markdown, whose renderer may leave quotes in a text node as
    they are (harmless there); only the parse for executable markup applies.
    """
    problems = markup_problems(html)
    assert not problems, f"{where}: {problems}"
    if verbatim and any(c in payload for c in "<>\"'&"):
        assert payload not in html, f"{where}: the payload came through unescaped"
    if shown:
        assert str(escape(payload)) in html, f"{where}: the payload is not shown (escaped)"
