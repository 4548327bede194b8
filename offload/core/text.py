"""Member-written text: cleaned at the service boundary; markdown rendered with
markdown-it-py, then sanitized with nh3."""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from .errors import InvalidField

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
         "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td"}


def render_markdown(source: str | None) -> Markup:
    """Markdown to safe HTML: no raw HTML, links only to http, https and mailto."""
    if not source:
        return Markup("")
    html = _md.render(source)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer ugc",
    )
    return Markup(clean)


def markdown_excerpt(source: str | None, limit: int = 200) -> str:
    """The start of a markdown text as plain text: markup stripped, whitespace collapsed,
    cut at the last whole word within ``limit`` characters (then "…")."""
    if not source:
        return ""
    text = " ".join(html.unescape(nh3.clean(_md.render(source), tags=set())).split())
    if len(text) <= limit:
        return text
    cut = text[:limit + 1].rsplit(" ", 1)[0] if " " in text[:limit + 1] else text[:limit]
    return cut[:limit].rstrip(" .,;:-–—") + "…"


def clean_text(field: str, value: str | None, max_len: int, label: str, *,
               required: bool = False, multiline: bool = False) -> str:
    """Text with outer whitespace stripped (one line: inner runs collapsed too)."""
    value = (value or "").strip() if multiline else " ".join((value or "").split())
    if required and not value:
        raise InvalidField(field, f"{label} can't be empty.")
    if len(value) > max_len:
        raise InvalidField(field, f"{label} can be at most {max_len:,} characters "
                                  f"(it has {len(value):,}).")
    return value
