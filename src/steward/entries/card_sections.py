"""Which sections of a model card are filled in: the one notion that the card, `steward show`,
the gate's `model_card` rule and the audit share. A section is filled when its text says
something, not when it is merely present: "TODO", "n/a" and "-" are placeholders, and text
with no visible letter or digit (a Braille blank, a Hangul filler, zero-width or no-break
spaces) says nothing, however long it is.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from steward.entries.plain_entries import CARD_SECTIONS

if TYPE_CHECKING:
    from steward.entries.models import ModelCard

# Texts that stand in for a section nobody wrote yet. Compared ignoring case, surrounding
# whitespace and punctuation, so "TBD.", "(n/a)" and "- " are placeholders too.
PLACEHOLDERS = frozenset(
    {"", "todo", "tbd", "tba", "tbc", "n/a", "na", "none", "fixme", "xxx", "placeholder", "?"}
)
# A text that *starts* with one of these words ("TODO: describe the data") is a reminder, not a
# section.
_REMINDER = re.compile(r"(?:todo|tbd|fixme|xxx)(?:\b|$)", re.IGNORECASE)
_PUNCTUATION = " \t\r\n.,;:!?-_*()[]{}<>\"'`…"
# Letters by category that render as nothing (the Hangul fillers); U+2800, the Braille blank,
# is a symbol (So) and so is no letter anyway.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def _visible_text(text: str) -> str:
    """`text` as a reader sees it: format and control characters and invisible letters dropped,
    every kind of space a plain space."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cf", "Cc", "Co", "Cn") or char in _INVISIBLE_LETTERS:
            continue
        kept.append(" " if category in ("Zs", "Zl", "Zp") else char)
    return "".join(kept)


def _says_something(text: str) -> bool:
    """At least one visible letter or digit (Unicode categories L* and N*)."""
    return any(unicodedata.category(char)[0] in "LN" for char in text)


def is_filled(text: str | None) -> bool:
    """Whether a card section's text says something: a visible letter or digit, and not a
    placeholder such as TODO, TBD, N/A or '-' (hidden characters around it change nothing)."""
    if text is None:
        return False
    visible = _visible_text(text)
    if not _says_something(visible):
        return False
    normalised = visible.strip(_PUNCTUATION).casefold()
    if normalised in PLACEHOLDERS:
        return False
    return _REMINDER.match(normalised) is None


def filled_sections(card: ModelCard) -> frozenset[str]:
    """The sections of `card` that are filled in (see `is_filled`)."""
    return frozenset(name for name in CARD_SECTIONS if is_filled(getattr(card, name)))


def missing_sections(card: ModelCard) -> list[str]:
    """The sections of `card` not filled in, in the card's order."""
    filled = filled_sections(card)
    return [name for name in CARD_SECTIONS if name not in filled]
