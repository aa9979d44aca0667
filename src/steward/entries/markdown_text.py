"""Putting text from the registry into Markdown without letting it change the document.

The one escaper of every Markdown Steward writes: the gate's pull request comment, the
proposal body, model cards and audit reports. A description, a path or a name may hold `#`,
`---`, `<img src=...>`, `[Approve now](https://...)`, `|`, a fenced-code marker or `@someone`:
written as-is, it would start a heading, a front-matter end or a setext underline, raw HTML, a
link, a table cell, or notify a stranger on GitHub. Prose is backslash-escaped (CommonMark lets
any ASCII punctuation be escaped, and shows it literally); identifiers go into code spans, whose
content Markdown does not interpret. Characters that do not print are shown by their escapes.
"""

from __future__ import annotations

import re

from steward.entries.problems import printable

# Characters that mean something anywhere in a line (code, emphasis, links, HTML, entities, GFM
# tables and strikethrough), and what means something only at the start of one (headings, lists,
# thematic breaks, setext underlines, ordered lists).
_INLINE = re.compile(r"([\\`*_\[\]<>|~&!])")
# What GitHub turns into a notification or a link even when no Markdown syntax asks for it:
# @mentions, and bare URLs (GFM's autolinks). A zero-width space after `@`, `://` or `www`
# keeps the text as it reads and stops both (GitHub's own bots write `@` + U+200B).
_LINKS_AND_MENTIONS = re.compile(r"(@|://|(?<![\w.])www(?=\.))", re.IGNORECASE)
_ZWSP = "\u200b"
_LINE_START = re.compile(r"^([#+=-]|[0-9]+(?=[.)]))")
_BACKTICK_RUNS = re.compile(r"`+")


def escape(text: str) -> str:
    """`text` as literal Markdown inline content; line breaks kept, leading indentation dropped
    (four spaces would make a code block), every special character escaped."""
    lines = [
        _escape_line_start(_defuse(_INLINE.sub(r"\\\1", printable(line.strip()))))
        for line in text.splitlines()
    ]
    return "\n".join(lines).strip("\n")


def _defuse(line: str) -> str:
    return _LINKS_AND_MENTIONS.sub(lambda m: m.group(1) + _ZWSP, line)


def _escape_line_start(line: str) -> str:
    match = _LINE_START.match(line)
    if match is None:
        return line
    if match.group(1)[0].isdigit():  # 1. or 1) starts an ordered list: escape the mark after it
        end = match.end()
        return f"{line[:end]}\\{line[end:]}"
    return f"\\{line}"


def escape_line(text: str) -> str:
    """`text` on one line (a list item, a table cell): line breaks become spaces."""
    return escape(" ".join(text.split()))


def escape_inline(text: str) -> str:
    """`text` on one line, after other content of its line (a table cell, the text after a
    list item's label): nothing there can start a block, so only inline characters are
    escaped and `0.2.0` stays `0.2.0` in the source."""
    return _defuse(_INLINE.sub(r"\\\1", printable(" ".join(text.split()))))


def code(text: str) -> str:
    """`text` as a code span on one line: the fence is one backtick longer than any run of
    backticks inside, and `|` is escaped so the span can sit in a table cell."""
    flat = printable(" ".join(text.split()))
    longest = max((len(run) for run in _BACKTICK_RUNS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {flat} " if flat.startswith("`") or flat.endswith("`") else flat
    escaped = padded.replace("|", "\\|")
    return f"{fence}{escaped}{fence}"
