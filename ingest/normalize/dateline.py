"""Wire datelines: `WASHINGTON, March 17 (Alliance News): `, `KYIV, Ukraine (AP) — `, `(CNN) -- `.

A dateline is recognised only in the shapes agencies actually use, because a false one would eat
the first words of a story:

    PLACE[, Region][, date] (Agency) SEP      SEP: - – — -- or :
    (Agency) SEP                              the agency alone (CNN style)
    PLACE[, Region][, date] SEP               no agency: SEP must be – — or -- with spaces

PLACE is written in capitals (`WASHINGTON`, `BERLIN/MOSCOW`, `UNITED NATIONS`) or in a script
without case (Arabic, Chinese, ...). The story must go on with something that can open a sentence.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from ingest.models import Dateline

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
# Horizontal space, no-break space included; a dateline never spans lines.
_SP = r"[^\S\n]"
_DAY = r"\d{1,2}(?i:st|nd|rd|th)?"
_DATE = rf"(?:{_MONTH}{_SP}+{_DAY}|{_DAY}{_SP}+{_MONTH})(?:,?{_SP}+(?P<year>\d{{4}}))?"
# Words of letters joined by a space, "/", "-", "'" or ". " (ST. PETERSBURG, PORT-AU-PRINCE).
_WORDS = rf"[^\W\d_]+(?:(?:{_SP}|[./'’&-]{_SP}?)[^\W\d_]+)*\.?"
_AGENCY_TEXT = r"[^()\n]{1,40}?"
_SEPARATOR = r"--|[-‐‑‒–—―:]"
_SPACED_DASH = r"--|[–—―]"

_PREFIX = rf"(?P<place>{_WORDS})(?:,{_SP}*(?P<region>{_WORDS}))?(?:,{_SP}*(?P<date>{_DATE}))?"
_AGENCY = rf"\({_SP}*(?P<agency>{_AGENCY_TEXT}){_SP}*\)"
_WITH_AGENCY = re.compile(rf"\s*(?:{_PREFIX}{_SP}*)?{_AGENCY}{_SP}*(?:{_SEPARATOR}){_SP}*")
_WITHOUT_AGENCY = re.compile(rf"\s*{_PREFIX}{_SP}+(?:{_SPACED_DASH}){_SP}+")

_MAX_DATELINE_CHARS = 160
_MAX_PLACE_CHARS = 40
_MAX_PLACE_WORDS = 5
_MAX_AGENCY_WORDS = 4
# Capitalised labels that open headlines and tickers, never places.
# fmt: off
_NOT_PLACES = frozenset({
    "UPDATE", "BREAKING", "EXCLUSIVE", "ANALYSIS", "FACTBOX", "EXPLAINER", "INSIGHT", "REFILE",
    "CORRECTED", "URGENT", "FLASH", "ALERT", "WATCH", "LIVE", "VIDEO", "PHOTOS", "OPINION",
    "COMMENT", "EDITORIAL", "FEATURE", "BRIEF", "NEWS", "TIMELINE", "BACKGROUNDER", "PREVIEW",
    "REVIEW", "INTERVIEW", "CORRECTION", "CLARIFICATION", "SPORTS",
})
# fmt: on
# Agencies that write themselves in lower case or are not plain capitalised words (also the
# credits the story stage takes off short items).
# fmt: off
KNOWN_AGENCIES = frozenset({
    "ap", "afp", "reuters", "dpa", "xinhua", "cnn", "upi", "ians", "pti", "ani", "efe", "ansa",
    "kyodo", "yonhap", "tass", "ria", "interfax", "anadolu", "bernama", "ap-nls", "sapa",
    "apa", "ctk", "kna", "wam", "spa", "mena", "qna", "bloomberg",
})
# fmt: on


def parse_dateline(text: str, published: datetime | None = None) -> tuple[Dateline | None, str]:
    """The dateline opening `text` (or None), and `text` without it."""
    head = text[:_MAX_DATELINE_CHARS]  # bounds regex work on long first lines
    for pattern in (_WITH_AGENCY, _WITHOUT_AGENCY):
        match = pattern.match(head)
        if match and _plausible(match, text[match.end() :]):
            return _dateline(match, published), text[match.end() :]
    return None, text


def _plausible(match: re.Match[str], rest: str) -> bool:
    groups = match.groupdict()
    place, agency = groups["place"], groups.get("agency")
    if not _opens_sentence(rest):
        return False
    if place is not None and not _is_place(place, agency):
        return False
    if groups["region"] is not None and not _is_region(groups["region"]):
        return False
    if agency is None:
        return True
    return _is_agency(agency) if place is not None else _is_lone_agency(agency)


def _opens_sentence(rest: str) -> bool:
    first = rest[:1]
    # A lower-case continuation means the "dateline" was a phrase of a sentence or headline.
    return first != "" and not first.islower() and not first.isspace()


def _is_place(place: str, agency: str | None) -> bool:
    letters = [ch for ch in place if ch.isalpha()]
    cased = [ch for ch in letters if ch.lower() != ch.upper()]
    if len(letters) < 2 or len(place) > _MAX_PLACE_CHARS:
        return False
    if len(re.split(r"[ \t/]+", place)) > _MAX_PLACE_WORDS or place.upper() in _NOT_PLACES:
        return False
    if not cased:
        return agency is not None  # uncased scripts have no capitals to tell place from prose
    if all(ch.isupper() for ch in cased):
        return True
    # "Washington (CNN) —": a place in title case only before an agency we know by name,
    # since "Apple (AAPL) — shares rose" has the same shape.
    return agency is not None and _known_agency(agency) and _title_case(place)


def _known_agency(agency: str) -> bool:
    words = agency.split()
    return bool(words) and words[0].casefold() in KNOWN_AGENCIES  # "CNN Business" too


def _title_case(place: str) -> bool:
    words = re.split(r"[ \t/-]+", place)
    small = {"of", "de", "la", "el", "al", "du", "des", "upon", "on", "au"}
    return all(w[:1].isupper() or w in small for w in words if w) and place[:1].isupper()


def _is_region(region: str) -> bool:
    # "Ukraine", "Japan", "Calif.", "South Korea": a capitalised name, not a clause.
    words = region.split()
    return len(words) <= 3 and all(word[:1].isupper() for word in words)


def _is_agency(agency: str) -> bool:
    words = agency.split()
    if not words or len(words) > _MAX_AGENCY_WORDS or any(ch.isdigit() for ch in agency):
        return False
    return agency.casefold() in KNOWN_AGENCIES or all(word[:1].isupper() for word in words)


def _is_lone_agency(agency: str) -> bool:
    # With no place before it, only a known agency or an all-caps acronym: "(Photo) - " is not.
    compact = agency.strip()
    if compact.casefold() in KNOWN_AGENCIES:
        return True
    return compact.isalpha() and compact.isupper() and 2 <= len(compact) <= 8


def _dateline(match: re.Match[str], published: datetime | None) -> Dateline:
    groups = match.groupdict()
    written = groups["date"]
    year = int(groups["year"]) if groups.get("year") else None
    iso = _iso_date(written, year, published) if written else None
    return Dateline(
        place=groups["place"],
        date=written,
        agency=groups.get("agency"),
        iso_date=iso,
    )


def _iso_date(written: str, year: int | None, published: datetime | None) -> str | None:
    month_day = _month_day(written)
    if month_day is None:
        return None
    month, day = month_day
    if year is not None:
        return _safe_date(year, month, day)
    if published is None:
        return None
    return _nearest_date(month, day, published.date())


def _month_day(written: str) -> tuple[int, int] | None:
    day_match = re.search(r"\d{1,2}", written)
    month_match = re.search(r"[^\W\d_]{3,}", written)
    if not day_match or not month_match:
        return None
    month = _MONTHS.get(month_match.group().casefold()[:4]) or _MONTHS.get(
        month_match.group().casefold()[:3]
    )
    return (month, int(day_match.group())) if month else None


def _nearest_date(month: int, day: int, published: date) -> str | None:
    """The year that puts the dateline nearest to publication: "December 31" on January 1
    belongs to the previous year, "January 1" on December 31 to the next."""
    candidates = []
    for year in (published.year - 1, published.year, published.year + 1):
        if _safe_date(year, month, day):
            candidates.append(date(year, month, day))
    if not candidates:
        return None
    return min(candidates, key=lambda d: abs((d - published).days)).isoformat()


def _safe_date(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None
