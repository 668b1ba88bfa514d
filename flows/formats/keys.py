"""The folded keys that identity matches names and titles on.

A key is a function of one text alone, so it is computed once per content, when the content
is read (`with_keys`), and cached with the parsed frames: a build never folds the same
name twice, and a run that adds a few files folds only theirs.
"""

from __future__ import annotations

from typing import Final

import polars as pl

# Each table's key columns and the column each folds.
KEY_SOURCES: Final = {
    "profile": {"name_key": "display_name"},
    "paper": {"title_key": "title"},
    "mention": {"name_key": "name"},
}
# The combining diacritical mark blocks: the accents NFKD splits off Latin, Greek and
# Cyrillic letters. Other marks (kana voicing, Indic vowel signs) are part of their letter.
_ACCENTS: Final = (
    r"[\x{0300}-\x{036F}\x{1AB0}-\x{1AFF}\x{1DC0}-\x{1DFF}\x{20D0}-\x{20FF}\x{FE20}-\x{FE2F}]+"
)
# Letters with no decomposition that romanised spellings write plainly, and case-folding
# differences that lower-casing leaves (ß, final sigma).
_LETTER_FOLDS: Final = {
    "ß": "ss", "ς": "σ", "ł": "l", "đ": "d", "ð": "d", "ø": "o", "þ": "th", "æ": "ae",
    "œ": "oe", "ı": "i", "ħ": "h", "ŧ": "t",
}  # fmt: skip


def fold_key(text: pl.Expr) -> pl.Expr:
    """Unicode NFKC, accents folded, case folded, punctuation and spacing collapsed.

    NFC and NFD spellings of one name give one key; so do "Stylesinger" and "StyleSinger",
    full-width letters, "Yi-Ping Hsu" and "Yi Ping  Hsu", "Weiß" and "Weiss". Accents are
    folded (the combining diacritical marks); other combining marks are part of their letter
    (a kana voicing mark, an Indic vowel sign), so they stay and the key keeps its NFC form.
    A name of punctuation only keeps a non-empty key.
    """
    return _or_plain(text, _folded(text))


def _folded(text: pl.Expr) -> pl.Expr:
    """The fold of `fold_key`, before an empty fold is replaced (`_or_plain`).

    Each run of other characters than letters, marks and digits becomes one space: only the
    runs that are not a space already are replaced (a pattern that matched every space, a
    few per name or title, took twice the time)."""
    # NFKD of the NFKC form is the NFKD form, so one decomposition serves both.
    return (
        text.str.normalize("NFKD")
        .str.replace_all(_ACCENTS, "")
        .str.normalize("NFC")
        .str.to_lowercase()
        .str.replace_many(_LETTER_FOLDS)
        .str.replace_all(r"[^\p{L}\p{M}\p{N}]{2,}|[^\p{L}\p{M}\p{N} ]", " ")
        .str.strip_chars()
    )


def _folded_ascii(text: pl.Expr) -> pl.Expr:
    """`_folded` of ASCII text: Unicode normalisation and accents change nothing there, and
    the only letters and digits are a-z (once lower-cased) and 0-9."""
    return (
        text.str.to_lowercase().str.replace_all(r"[^a-z0-9]{2,}|[^a-z0-9 ]", " ").str.strip_chars()
    )


def _or_plain(text: pl.Expr, folded: pl.Expr) -> pl.Expr:
    """The `folded` key of `text`, or where that is empty (punctuation only) the text
    lower-cased."""
    return pl.when(folded == "").then(text.str.strip_chars().str.to_lowercase()).otherwise(folded)


def with_keys(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The parsed frames with their key columns (`KEY_SOURCES`) added, last."""
    keyed = dict(frames)
    for table, keys in KEY_SOURCES.items():
        for key, column in keys.items():
            keyed[table] = with_key(keyed[table], column, key)
    return keyed


def with_key(frame: pl.DataFrame, column: str, key: str) -> pl.DataFrame:
    """Add `key`, the `fold_key` of `column`, folding each distinct value once.

    Names and titles repeat across papers and pages; folding (two Unicode normalisations and
    regular expressions) costs more than a join on the distinct values. Most are plain ASCII,
    whose fold is a third of the work (`_folded_ascii`).
    """
    distinct = frame.select(pl.col(column).unique())
    text = pl.col(column)
    is_ascii = text.str.len_bytes() == text.str.len_chars()
    # Folded first, then the empty folds replaced, in two steps: an eager expression computes
    # every use of a shared part anew, and the fold is the costly part (twice the time when
    # both steps were one expression).
    keyed = pl.concat(
        [
            distinct.filter(is_ascii).with_columns(_folded_ascii(text).alias(key)),
            distinct.filter(~is_ascii | text.is_null()).with_columns(_folded(text).alias(key)),
        ]
    ).with_columns(_or_plain(text, pl.col(key)).alias(key))
    # Joined to the one column, then added: a join would copy every other column as well.
    keys = frame.select(column).join(
        keyed, on=column, how="left", nulls_equal=True, maintain_order="left"
    )
    return frame.with_columns(keys[key])
