"""Normal forms for names, e-mails and domains, so that sloppy input still matches."""

from __future__ import annotations

import re
import unicodedata

# Anything but letters and digits of any script: "Газпром" and "ソニー" keep theirs.
_NOT_WORD = re.compile(r"[\W_]+")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")

# Words that say what kind of company it is, not which one. "Acme Corp", "ACME, Inc."
# and "Acme Corporation" should all find the same account.
LEGAL_SUFFIXES = frozenset(
    {
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "llc",
        "ltd",
        "limited",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "sas",
        "bv",
        "nv",
        "oy",
        "ab",
        "as",
        "srl",
        "spa",
        "pty",
        "pvt",
        "kk",
    }
)


def fold(text: str) -> str:
    """Lower case, accents removed, anything but letters and digits turned to spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.split(ascii_only)).strip()


def name_words(name: str) -> list[str]:
    """Folded words of a name, without the legal suffixes at its end."""
    words = fold(name).split()
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return words


def name_key(name: str) -> str:
    """The key accounts are matched on: folded, legal suffixes dropped, no spaces.

    Spaces are removed so that "Green Plus", "Green-Plus" and "greenplus" agree.
    """
    return "".join(name_words(name))


def email_key(email: str | None) -> str | None:
    """E-mails compare without regard to case or surrounding spaces."""
    if email is None:
        return None
    cleaned = email.strip().casefold()
    return cleaned if "@" in cleaned else None


def domain_of(text: str | None) -> str | None:
    """``https://www.Acme.com./about?x=1`` or ``jo@acme.com`` → ``acme.com``.

    International names are kept in Unicode (``xn--bcher-kva.de`` → ``bücher.de``),
    so both spellings of one domain agree.
    """
    if not text:
        return None
    value = text.strip().casefold()
    if "@" in value and "/" not in value:
        value = value.rsplit("@", 1)[1]
    value = _SCHEME.sub("", value)
    value = re.split(r"[/?#]", value, maxsplit=1)[0].split(":", 1)[0].rstrip(".")
    if value.startswith("www."):
        value = value[4:]
    if "xn--" in value:
        value = _unicode_domain(value)
    return value if "." in value and " " not in value else None


def _unicode_domain(value: str) -> str:
    try:
        return value.encode("ascii").decode("idna")
    except UnicodeError:
        return value
