"""Markdown in advisories, rendered to HTML that is safe to put in a page: Markdown first,
then nh3 (ammonia) keeps only harmless tags and attributes, whatever the author typed."""

from __future__ import annotations

import markdown
import nh3

# What an advisory's details may use: text structure, code, tables and links; no images
# (they would load external content) and no raw HTML beyond this list.
ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Sanitised HTML for Markdown ``text`` (empty for empty text)."""
    if not text.strip():
        return ""
    html = markdown.markdown(text, extensions=["fenced_code", "tables", "sane_lists"])
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
