"""Cleaning of names people type (providers' company and contact names, lead names, source names).

Bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C) and zero-width characters
(U+200B–U+200D, U+2060, U+FEFF, U+00AD…) are invisible: kept in a name, they let "Acme\u202eoc" read as
another company in the console. Every Unicode "format" (Cf) and control (Cc) character is removed and
whitespace collapsed before a name is stored.
"""
from __future__ import annotations

import unicodedata

_REMOVED_CATEGORIES = {"Cf", "Cc"}
_WHITESPACE_CONTROLS = {"\t", "\n", "\r", "\x0b", "\x0c"}


def invisible_strip(value: str) -> str:
    """The text without format and control characters (tabs and newlines become spaces)."""
    return "".join(
        " " if ch in _WHITESPACE_CONTROLS else ch
        for ch in value
        if ch in _WHITESPACE_CONTROLS or unicodedata.category(ch) not in _REMOVED_CATEGORIES
    )


def name_clean(value: str) -> str:
    """A display name as stored: no invisible characters, single spaces, trimmed."""
    return " ".join(invisible_strip(str(value or "")).split())
