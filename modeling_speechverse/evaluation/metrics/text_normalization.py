"""The one text normaliser shared by every SpeechVerse metric.

`normalize_text` is applied to both sides of every comparison (transcripts for WER, class labels for accuracy and
UAR, keywords for KWE, slot types and values for SD-F1 / SLU-F1) so that scores do not depend on casing or on
punctuation that the references of different corpora write differently.

This module imports nothing from the rest of the package: the metric scripts next to it import it relatively, and
`evaluate.load` copies it beside them into its module cache.
"""

import unicodedata


# Typographic apostrophes are folded into ASCII "'" so "don’t" and "don't" compare equal. The left single quotation
# mark is deliberately not folded: it opens a quotation, it is not an apostrophe.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'"})


def normalize_text(text: str) -> str:
    """Normalise a string for scoring.

    Steps, in order:

    1. Unicode NFKC normalisation (full-width letters, ligatures and the like become their plain forms).
    2. Typographic apostrophes (U+2019, U+02BC) become "'".
    3. Lower-casing.
    4. Every Unicode punctuation character (categories P*) except the apostrophe "'" becomes a space. Hyphens and
       underscores are punctuation too, so "well-known" -> "well known" and "play_radio" -> "play radio".
       Symbols (categories S*, e.g. "$", "+", "°") and digits are kept; note that "%", "&", "#" and "@" are
       punctuation (Po) in Unicode and are replaced.
    5. Runs of whitespace collapse to one space; leading and trailing whitespace is removed.

    Args:
        text: The string to normalise.

    Returns:
        The normalised string; "" when `text` holds only punctuation and whitespace.

    Raises:
        ValueError: if `text` is not a string.

    Example: `normalize_text("  Hello,   World! It’s $5.")` returns `"hello world it's $5"`.
    """
    if not isinstance(text, str):
        raise ValueError(f"normalize_text expects a string, got {type(text).__name__}: {text!r}")
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = "".join(" " if char != "'" and unicodedata.category(char).startswith("P") else char for char in text)
    return " ".join(text.split())
