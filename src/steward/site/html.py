"""The pieces every page is made of: escaping, the page shell with its security policy, links.

Every text that comes from the registry, its history or a forge goes through `text` (or
`attr`) before it is written: a model description, a card, a metric name or a file name is
data, never markup. The pages load nothing but the site's own stylesheet and script, and the
policy in each page says so to the browser, so even a missed escape could not run a script.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# No inline script or style, nothing from anywhere else; `'self'` serves file:// too.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'"
)
STAGE_CLASSES = ("development", "staging", "production", "archived", "retired")

# Where an entry file can be read: a URL on the forge, or None (then its path is shown).
EntryLink = Callable[[str], str | None]


def model_page(model: str) -> str:
    """The site path of a model's page."""
    return f"models/{model}.html"


def dataset_page(dataset: str) -> str:
    """The site path of a dataset's page."""
    return f"datasets/{dataset}.html"


def text(value: object) -> str:
    """`value` as HTML text (quotes escaped too: the same helper serves attributes)."""
    return html.escape(str(value), quote=True)


attr = text


@dataclass(frozen=True)
class Shell:
    """What every page of one build shares: the site's title and its canonical base URL."""

    title: str
    base_url: str | None = None
    proposals: bool = False  # whether the build has a proposals page to link to


def page(
    shell: Shell,
    *,
    path: str,
    title: str,
    body: str,
    scripts: Iterable[str] = (),
) -> str:
    """A whole page at `path` (relative to the site's root, e.g. `models/fraud.html`)."""
    up = "../" * path.count("/")
    canonical = (
        f'<link rel="canonical" href="{attr(shell.base_url.rstrip("/") + "/" + path)}">\n'
        if shell.base_url
        else ""
    )
    nav = [
        f'<a href="{up}index.html">Models</a>',
        f'<a href="{up}datasets.html">Datasets</a>',
    ]
    if shell.proposals:
        nav.append(f'<a href="{up}proposals.html">Proposals</a>')
    script_tags = "".join(f'<script src="{up}{attr(name)}"></script>\n' for name in scripts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{text(title)} · {text(shell.title)}</title>\n"
        f'<link rel="stylesheet" href="{up}assets/site.css">\n{canonical}'
        "</head>\n<body>\n"
        '<a class="skip" href="#main">Skip to content</a>\n'
        f'<header><p class="site">{text(shell.title)}</p>'
        f'<nav aria-label="Site">{" ".join(nav)}</nav></header>\n'
        f'<main id="main">\n{body}\n</main>\n'
        "<footer><p>Built by Steward from the registry and its git history.</p></footer>\n"
        f"{script_tags}</body>\n</html>\n"
    )


def badge(stage: str) -> str:
    css = stage if stage in STAGE_CLASSES else "other"
    return f'<span class="badge stage-{css}">{text(stage)}</span>'


def code(value: object) -> str:
    return f"<code>{text(value)}</code>"


def link(href: str, label: str) -> str:
    """A link whose label is text; `href` is escaped as an attribute (it may hold a name)."""
    return f'<a href="{attr(href)}">{text(label)}</a>'


def fields(pairs: Iterable[tuple[str, str | None]]) -> str:
    """A definition list of label and value HTML (already escaped); a missing value is '-'."""
    rows = "".join(
        f"<dt>{text(label)}</dt><dd>{value if value else '-'}</dd>" for label, value in pairs
    )
    return f'<dl class="fields">{rows}</dl>'


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], caption: str | None = None) -> str:
    """A table of HTML cells (already escaped) under text headers."""
    head = "".join(f'<th scope="col">{text(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    cap = f"<caption>{text(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def joined(values: Iterable[str], empty: str = "-") -> str:
    items = [text(v) for v in values]
    return ", ".join(items) if items else empty
