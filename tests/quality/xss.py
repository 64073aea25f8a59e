"""A corpus of XSS vectors and a checker that finds executable markup in an HTML page.

The checker is deliberately generic: it flags anything a browser would run (inline scripts, ``on*`` handlers,
``javascript:``/``data:``/``vbscript:`` URLs, CSS expressions, frames and plugins, ``<base>``, meta refresh), so it
also holds for the platform's own templates (which load scripts from files only, by CSP).
"""

from __future__ import annotations

from html.parser import HTMLParser

VECTORS = [
    "<script>alert('xss-script')</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert('xss-img')>",
    "<IMG SRC=\"javascript:alert('xss-imgsrc');\">",
    "<a href=\"javascript:alert('xss-href')\">click</a>",
    "<a href=\"JaVaScRiPt:alert('xss-case')\">case</a>",
    "<a href=\"jav&#x09;ascript:alert('xss-tab')\">tab</a>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    "<svg onload=alert('xss-svg')>",
    "<svg><script>alert('xss-svgscript')</script></svg>",
    "<body onload=alert('xss-body')>",
    "<iframe src=\"javascript:alert('xss-iframe')\"></iframe>",
    "<div style=\"width: expression(alert('xss-css'))\">css</div>",
    "<style>@import 'javascript:alert(1)';</style>",
    '<object data="data:text/html,<script>alert(1)</script>"></object>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('xss-mxss')>",
    "<<script>alert('xss-double');//<</script>",
    "<img src=x onerror=alert('xss-unclosed'",
    "&lt;script&gt;alert('xss-encoded')&lt;/script&gt;",
    "\"><script>alert('xss-attr-break')</script>",
    "'><img src=x onerror=alert('xss-quote')>",
    "<details open ontoggle=alert('xss-details')>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "{{ 7|add:7 }}{% debug %}",
]

DANGEROUS_TAGS = {"iframe", "object", "embed", "base", "frame", "frameset", "applet"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            kinds = dict(attrs)
            if not kinds.get("src") and kinds.get("type") not in ("application/json", "application/ld+json"):
                self.found.append("inline <script>")
            src = kinds.get("src") or ""
            if src and (not src.startswith("/") or src.startswith("//")):
                self.found.append(f"<script src={src}>")
            self._in_script = True
        if tag == "style":
            self._in_style = True
        if tag in DANGEROUS_TAGS:
            self.found.append(f"<{tag}>")
        if tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "refresh":
            self.found.append("<meta refresh>")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            compact = "".join(value.split()).lower()
            if name in URL_ATTRIBUTES and compact.startswith(BAD_SCHEMES):
                self.found.append(f"<{tag} {name}={value[:40]}>")
            if name == "style" and ("expression(" in compact or "javascript:" in compact):
                self.found.append(f"<{tag} style={value[:40]}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style and ("expression(" in data or "javascript:" in data):
            self.found.append("CSS expression in <style>")
        if self._in_style and "<" in data:
            self.found.append("markup inside <style> (mutation XSS)")


def executable_markup(html: str) -> list[str]:
    """Everything in ``html`` that a browser would execute; empty when the page is inert."""
    finder = _Finder()
    finder.feed(html)
    finder.close()
    return finder.found
