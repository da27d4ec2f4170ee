"""The small grammar of "every …" phrases in a reminder clause, read as RFC 5545 RRULEs.

"every Monday at 9am" → FREQ=WEEKLY;BYDAY=MO, "every other Tuesday" →
FREQ=WEEKLY;INTERVAL=2;BYDAY=TU, "on the 1st of every month" → FREQ=MONTHLY;BYMONTHDAY=1,
"every day", "every weekday", "every year on March 3" … dateparser reads single dates only,
so repetition is ours. Used by `reminders.detection` on the clause after a trigger only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

from dateutil.rrule import rrulestr

_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ABBREVIATIONS = {
    "mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4,
    "sat": 5, "sun": 6,
}  # fmt: skip
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_COUNTS = {
    "other": 2, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10, "twelve": 12,
}  # fmt: skip
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
             "4th": 4, "last": -1}  # fmt: skip

_DAY = (
    r"(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?"
    r"|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)"
)
_PLURAL_DAY = r"(?:mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|sundays)"
_AND = r"(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)"
_DAYS = rf"(?:{_DAY}(?:{_AND}{_DAY})*)\b"
_PLURAL_DAYS = rf"(?:{_PLURAL_DAY}(?:{_AND}{_PLURAL_DAY})*)\b"
_EVERY = r"\b(?:every|each)\s+"
_COUNT = r"(?P<n>other|second|third|fourth|\d+(?:st|nd|rd|th)?|two|three|four|five|six|ten|twelve)"
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)"
)
_MONTH_DAY = (
    rf"(?:(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b"
    rf"|{_MONTH}\s+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\b)"
)
_DAY_OF_MONTH = r"(?P<d>\d{1,2}|first|last)(?:st|nd|rd|th)?(?:\s+day)?"


@dataclass(frozen=True)
class RecurrenceMatch:
    """An "every …" phrase found in a clause. `rule` None: a repetition reminders refuse."""

    match: re.Match[str]
    rule: str | None
    part_of_day: str | None = None

    def first_after(self, not_before: datetime, time_of_day: time) -> datetime | None:
        """The first wall-clock occurrence strictly after `not_before` (naive local).

        INTERVAL is left out here: "every other Tuesday" said on a Thursday starts next
        Tuesday, and that first occurrence is then the DTSTART the interval counts from.
        """
        if self.rule is None:
            return None
        first_rule = ";".join(p for p in self.rule.split(";") if not p.startswith("INTERVAL="))
        start = datetime.combine(not_before.date(), time_of_day)
        return rrulestr(first_rule, dtstart=start).after(not_before, inc=False)


def _weekdays(text: str) -> str:
    numbers: list[int] = []
    for token in re.findall(r"[a-z]+", text):
        if token in _ABBREVIATIONS:
            number = _ABBREVIATIONS[token]
        elif token.rstrip("s") in _FULL_DAYS or token in _FULL_DAYS:
            number = _FULL_DAYS.index(token if token in _FULL_DAYS else token.rstrip("s"))
        else:
            continue
        if number not in numbers:
            numbers.append(number)
    return ",".join(_BYDAY[number] for number in sorted(numbers))


def _count(text: str) -> int:
    text = re.sub(r"(?:st|nd|rd|th)$", "", text) if text[0].isdigit() else text
    return int(text) if text.isdigit() else _COUNTS[text]


def _month_day(text: str) -> tuple[int, int]:
    day = int(re.search(r"\d{1,2}", text).group())  # type: ignore[union-attr]
    month = _MONTHS[re.search(_MONTH, text).group()[:3]]  # type: ignore[union-attr]
    return month, day


def _month_day_rule(d: str) -> str:
    day = {"first": 1, "last": -1}.get(d) or int(d)
    return f"FREQ=MONTHLY;BYMONTHDAY={day}"


def _too_fine(m: re.Match[str]) -> str | None:
    return None


def _interval_weekdays(m: re.Match[str]) -> str:
    return f"FREQ=WEEKLY;INTERVAL={_count(m['n'])};BYDAY={_weekdays(m['days'])}"


def _interval_unit(m: re.Match[str]) -> str:
    freq = {"d": "DAILY", "w": "WEEKLY", "m": "MONTHLY", "y": "YEARLY"}[m["u"][0]]
    rule = f"FREQ={freq};INTERVAL={_count(m['n'])}"
    if m["days"] and freq == "WEEKLY":
        rule += f";BYDAY={_weekdays(m['days'])}"
    if m["md"] and freq == "MONTHLY":
        rule += f";BYMONTHDAY={int(m['md'])}"
    return rule


def _nth_weekday(m: re.Match[str]) -> str | None:
    if not (m["ev"] or m["of"] in ("every", "each")):
        return "SINGLE"  # "the first Monday of the month": not a repetition
    return f"FREQ=MONTHLY;BYDAY={_ORDINALS[m['ord']]}{_weekdays(m['day'])}"


def _nth_day(m: re.Match[str]) -> str | None:
    if not (m["ev"] or m["of"] in ("every", "each")):
        return "SINGLE"
    return _month_day_rule(m["d"])


# (pattern, rule builder, part of day). Most specific first; the first pattern that matches wins.
_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None], str | None]] = [
    (
        re.compile(
            rf"{_EVERY}(?:\d+\s+|other\s+|few\s+|couple\s+of\s+|half\s+an?\s+)?"
            r"(?:hours?|hrs?|minutes?|mins?)\b|\bhourly\b|\bevery\s+\d+\s+(?:seconds?|secs?)\b"
        ),
        _too_fine,
        None,
    ),
    (re.compile(rf"{_EVERY}{_COUNT}\s+(?P<days>{_DAYS})"), _interval_weekdays, None),
    (
        re.compile(
            rf"{_EVERY}{_COUNT}\s+(?P<u>days?|weeks?|months?|years?)\b"
            rf"(?:\s+on\s+(?:(?P<days>{_DAYS})|the\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?\b))?"
        ),
        _interval_unit,
        None,
    ),
    (
        re.compile(r"\b(?:every|each)\s+fortnight\b|\bfortnightly\b"),
        lambda m: "FREQ=WEEKLY;INTERVAL=2",
        None,
    ),
    (
        re.compile(
            r"\b(?:on\s+)?(?:(?P<ev>every|each)\s+(?:the\s+)?|the\s+)"
            rf"(?P<ord>first|second|third|fourth|last|1st|2nd|3rd|4th)\s+(?P<day>{_DAY})\s+"
            r"of\s+(?P<of>every|each|the)\s+month\b"
        ),
        _nth_weekday,
        None,
    ),
    (
        re.compile(
            rf"\b(?:on\s+)?(?:(?P<ev>every|each)\s+(?:the\s+)?|the\s+){_DAY_OF_MONTH}\s+"
            r"(?:of\s+)?(?P<of>every|each|the)\s+month\b"
        ),
        _nth_day,
        None,
    ),
    (
        re.compile(rf"(?:{_EVERY}month|\bmonthly)\s+on\s+the\s+{_DAY_OF_MONTH}\b"),
        lambda m: _month_day_rule(m["d"]),
        None,
    ),
    (
        re.compile(
            rf"(?:{_EVERY}year\s+on\s+|\b(?:yearly|annually)\s+on\s+|{_EVERY})(?P<date>{_MONTH_DAY})"
            rf"|\b(?:on\s+)?(?P<date2>{_MONTH_DAY})\s+(?:every|each)\s+year\b"
        ),
        lambda m: _yearly_on_any(m),
        None,
    ),
    (
        re.compile(
            rf"{_EVERY}(?:week\s*day|work\s*day|working\s+day|business\s+day)\b|\b(?:on\s+)?weekdays\b"
        ),
        lambda m: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        None,
    ),
    (
        re.compile(rf"{_EVERY}weekend\b|\b(?:on\s+)?weekends\b"),
        lambda m: "FREQ=WEEKLY;BYDAY=SA,SU",
        None,
    ),
    (
        re.compile(
            rf"(?:{_EVERY}week\s+on\s+|\bweekly\s+on\s+|{_EVERY})(?P<days>{_DAYS})"
            rf"|\bon\s+(?P<days2>{_PLURAL_DAYS})"
        ),
        lambda m: f"FREQ=WEEKLY;BYDAY={_weekdays(m['days'] or m['days2'])}",
        None,
    ),
    (re.compile(rf"{_EVERY}(?:single\s+)?day\b|\bdaily\b"), lambda m: "FREQ=DAILY", None),
    (re.compile(rf"{_EVERY}morning\b"), lambda m: "FREQ=DAILY", "morning"),
    (re.compile(rf"{_EVERY}afternoon\b"), lambda m: "FREQ=DAILY", "afternoon"),
    (re.compile(rf"{_EVERY}evening\b"), lambda m: "FREQ=DAILY", "evening"),
    (re.compile(rf"{_EVERY}night\b|\bnightly\b"), lambda m: "FREQ=DAILY", "night"),
    (re.compile(rf"{_EVERY}month\b|\bmonthly\b"), lambda m: "FREQ=MONTHLY", None),
    (re.compile(rf"{_EVERY}year\b|\b(?:yearly|annually)\b"), lambda m: "FREQ=YEARLY", None),
    (re.compile(rf"{_EVERY}week\b|\bweekly\b"), lambda m: "FREQ=WEEKLY", None),
]


def _yearly_on_any(m: re.Match[str]) -> str:
    month, day = _month_day(m["date"] or m["date2"])
    return f"FREQ=YEARLY;BYMONTH={month};BYMONTHDAY={day}"


def find_recurrence(clause: str) -> RecurrenceMatch | None:
    """The "every …" phrase of a lower-cased clause, or None when it repeats nothing."""
    for pattern, build, part_of_day in _PATTERNS:
        for match in pattern.finditer(clause):
            rule = build(match)
            if rule == "SINGLE":
                continue  # a single date ("the 1st of the month"); the date finder reads it
            return RecurrenceMatch(match, rule, part_of_day)
    return None
