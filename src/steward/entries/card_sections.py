"""Which sections of a model card are filled in: the one notion that the card, `steward show`,
the gate's `model_card` rule and the audit share. A section is filled when its text says
something, not when it is merely present: "TODO", "n/a" and "-" are placeholders.
"""

from __future__ import annotations

import re

from steward.entries.models import CARD_SECTIONS, ModelCard

# Texts that stand in for a section nobody wrote yet. Compared ignoring case, surrounding
# whitespace and punctuation, so "TBD.", "(n/a)" and "- " are placeholders too.
PLACEHOLDERS = frozenset(
    {"", "todo", "tbd", "tba", "tbc", "n/a", "na", "none", "fixme", "xxx", "placeholder", "?"}
)
# A text that *starts* with one of these words ("TODO: describe the data") is a reminder, not a
# section.
_REMINDER = re.compile(r"(?:todo|tbd|fixme|xxx)(?:\b|$)", re.IGNORECASE)
_PUNCTUATION = " \t\r\n.,;:!?-_*()[]{}<>\"'`…"


def is_filled(text: str | None) -> bool:
    """Whether a card section's text says something: not empty after stripping, and not a
    placeholder such as TODO, TBD, N/A or '-'."""
    if text is None:
        return False
    normalised = text.strip(_PUNCTUATION).casefold()
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
