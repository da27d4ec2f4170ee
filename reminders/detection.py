"""Detect a reminder in a memory's text: "remind me tomorrow at 9am to call Bob".

Two stages, so that ordinary prose never makes a reminder (issue 15):

1. a trigger ("remind me", "reminder:", "don't forget" / "do not forget") outside quotes,
   Markdown blockquotes and code;
2. a parser on the clause after that trigger only (up to the end of its sentence). Known
   time expressions are found there with small regexes and each matched span is read on its
   own (dateparser for calendar dates and day offsets, a small grammar for times of day,
   weekdays and "every …" recurrences). dateparser never sees the whole note: run over prose
   it finds dates in words like "May" or "Do".

Pure text parsing: no model, no network, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dateparser
from dateutil.relativedelta import relativedelta

from reminders.recurrence import to_utc, validate_recurrence
from reminders.recurrence_grammar import RecurrenceMatch, find_recurrence

# A clause longer than this is prose, not a reminder; it also bounds the regex work.
MAX_CLAUSE_CHARS = 240

# Parts of the day, as wall-clock hours; "tonight at 8" reads 8 as 20:00.
PART_OF_DAY_HOURS = {"morning": 9, "afternoon": 15, "evening": 18, "night": 20, "tonight": 20}
_PM_PARTS = {"afternoon", "evening", "night", "tonight"}

_DATEPARSER_LANGUAGES = ["en"]
# "in 1000 days" is a joke or a typo; anything larger also risks overflowing the calendar.
MAX_RELATIVE_AMOUNT = 999

_MASKED = re.compile(
    r"```.*?(?:```|\Z)"  # fenced code (an unclosed fence runs to the end)
    r"|~~~.*?(?:~~~|\Z)"
    r"|`[^`\n]*`"  # inline code
    r"|\"[^\"\n]*\""  # "quoted"
    r"|“[^”]*”"  # “quoted”
    r"|^[ \t]*>[^\n]*",  # > a Markdown blockquote: someone else's words
    re.DOTALL | re.MULTILINE,
)
_TRIGGER = re.compile(
    r"\bremind\s+me\b|\breminder\s*:|\b(?:don['\u2019]?t|do\s+not)\s+forget\b", re.IGNORECASE
)
# A sentence ends at a newline or at . ! ? before a space, except after "a.m"/"p.m" and a
# few abbreviations ("Dr. Smith").
_SENTENCE_END = re.compile(
    r"\n|[!?](?=\s|$)"
    r"|(?<![ap]\.m)(?<!\bdr)(?<!\bmr)(?<!\bmrs)(?<!\bms)(?<!\bst)(?<!\bvs)(?<!\bno)\.(?=\s|$)",
    re.IGNORECASE,
)

WEEKDAY_NUMBERS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
WEEKDAY = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)"
)
MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)"
)
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "ninety": 90,
    "a couple of": 2, "couple of": 2,
}  # fmt: skip
NUMBER = (
    r"(?:\d+(?:\.\d+)?|a\s+couple\s+of|couple\s+of|forty-five|"
    + "|".join(
        sorted((w for w in _NUMBER_WORDS if " " not in w and "-" not in w), key=len, reverse=True)
    )
    + ")"
)

_PAST = re.compile(
    rf"\b(?:yesterday|last\s+(?:night|week|month|year|{WEEKDAY})|\w+\s+\w+\s+ago|earlier\s+today)\b"
)
_RELATIVE = re.compile(
    rf"\bin\s+(?:(?P<half>half\s+an?)\s+|(?P<n>{NUMBER})\s+(?P<and_half>and\s+a\s+half\s+)?)"
    r"(?P<unit>minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\b"
    r"(?P<and_half_after>\s+and\s+a\s+half)?"
)
_MONTH_DAY = re.compile(
    rf"\b(?:on\s+)?(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m>{MONTH})\b\.?"
    r"(?:,?\s+(?P<y>\d{4})\b)?"
    rf"|\b(?:on\s+)?(?P<m2>{MONTH})\.?\s+(?:the\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b(?![:.]\d)"
    r"(?:,?\s+(?P<y2>\d{4})\b)?"
)
_ISO_DATE = re.compile(r"(?<![\d./-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d-])")
_DOTTED_DATE = re.compile(r"(?<![\d.])(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})(?![\d])")
_SLASH_DATE = re.compile(
    r"(?<![\d/.$€£])(?P<pre>\b(?:on|by|before|until|due)\s+)?"
    r"(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?(?![\d/])"
)
_DAY_OF_MONTH = re.compile(r"\b(?:on\s+)?the\s+(?P<d>\d{1,2})(?:st|nd|rd|th)\b")
_TODAY = re.compile(
    r"\b(?:(?P<today>today|later\s+today)|(?P<tonight>tonight)"
    r"|this\s+(?P<part>morning|afternoon|evening))\b"
)
_TOMORROW = re.compile(
    r"\b(?P<k>(?:the\s+)?day\s+after\s+tomorrow|tomorrow|tmrw)"
    r"(?:\s+(?P<part>morning|afternoon|evening|night))?\b"
)
_WEEKDAY = re.compile(
    rf"\b(?:(?P<pre>on|next|this|coming|this\s+coming)\s+)?(?P<day>{WEEKDAY})\b\.?(?!['\u2019]s)"
    r"(?:\s+(?P<part>morning|afternoon|evening|night))?"
)
_NEXT_PERIOD = re.compile(
    r"\b(?P<k>next\s+week|next\s+month|next\s+year|this\s+weekend|(?:on\s+)?the\s+weekend)\b"
)

_TIME_PREFIX = r"(?P<pre>\b(?:at|by|around|before|until|from)\s+|@\s*)"
_TIME_AMPM = re.compile(
    rf"(?<![\d:.$€£]){_TIME_PREFIX}?\b(?P<h>\d{{1,2}})(?:[:.](?P<m>[0-5]\d))?\s*"
    r"(?P<ap>[ap])\.?m\b\.?"
)
_TIME_24 = re.compile(
    rf"(?<![\d:.$€£]){_TIME_PREFIX}?(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?![\d:])"
)
_TIME_AT = re.compile(
    rf"{_TIME_PREFIX}(?P<h>[01]?\d|2[0-3])(?:\s*o['\u2019]?clock)?(?![\d:.,/-]?\d)(?!\s*%)"
    r"|\b(?P<h2>[01]?\d|2[0-3])\s*o['\u2019]?clock"
)
_TIME_NAMED = re.compile(r"\b(?:(?:at|by|around)\s+)?(?:12\s+)?(?P<w>noon|midday|midnight)\b")


@dataclass(frozen=True)
class DetectedReminder:
    """A reminder found in text; `local_time` is what the user asked for on their clock."""

    remind_at: datetime  # aware, UTC: the first occurrence
    local_time: datetime  # naive wall-clock time in the user's zone it was set for
    recurrence: str | None  # an RFC 5545 RRULE without DTSTART (None: once)
    phrase: str  # the text that made it: trigger + the time clause, as written


@dataclass
class _DatePart:
    """The date a clause names, and how to move it forward if it is already past."""

    day: date
    start: int
    end: int
    roll: relativedelta | None = None  # None: a pinned date, past means no reminder
    part_of_day: str | None = None
    exact: datetime | None = None  # "in 2 hours": an aware instant, not a date
    past: bool = False  # "yesterday", "last week", "two days ago"


@dataclass
class _Clause:
    """The lower-cased, masked clause; matched spans are blanked so they match only once."""

    text: str
    spans: list[tuple[int, int]] = field(default_factory=list)

    def take(self, match: re.Match[str]) -> None:
        start, end = match.span()
        self.text = self.text[:start] + " " * (end - start) + self.text[end:]
        self.spans.append((start, end))


def mentions_reminder(text: str) -> bool:
    """Whether `text` has a trigger at all (one regex, no parsing): the save path asks this
    before it queues detection."""
    return _TRIGGER.search(text) is not None


def detect_reminder(
    text: str, *, created_at: datetime, time_zone: ZoneInfo, default_hour: int = 9
) -> DetectedReminder | None:
    """The reminder a memory's text asks for, or None.

    Times are read relative to `created_at` (aware) on the wall clock of `time_zone`; a date
    without a time of day gets `default_hour`:00. Only the clause after a trigger is parsed.
    """
    if created_at.tzinfo is None:
        raise ValueError("detect_reminder expects an aware created_at")
    masked = _MASKED.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    for trigger in _TRIGGER.finditer(masked):
        end = _clause_end(masked, trigger.end())
        clause = masked[trigger.end() : end]
        if len(clause) > MAX_CLAUSE_CHARS:
            clause = clause[:MAX_CLAUSE_CHARS]
        found = _parse_clause(
            clause.lower(), created_at=created_at, time_zone=time_zone, default_hour=default_hour
        )
        if found is not None:
            remind_at, local_time, recurrence = found
            phrase = text[trigger.start() : trigger.end() + len(clause)].strip(" \t,;:-")
            return DetectedReminder(remind_at, local_time, recurrence, phrase)
    return None


def _clause_end(masked: str, start: int) -> int:
    match = _SENTENCE_END.search(masked, start)
    return match.start() if match else len(masked)


def _parse_clause(
    clause: str, *, created_at: datetime, time_zone: ZoneInfo, default_hour: int
) -> tuple[datetime, datetime, str | None] | None:
    # Minutes are the finest grain a user sets; seconds of the save time would only surprise.
    now_utc = created_at.astimezone(UTC).replace(second=0, microsecond=0)
    now = now_utc.astimezone(time_zone).replace(tzinfo=None)
    state = _Clause(clause)

    recurrence: RecurrenceMatch | None = find_recurrence(state.text)
    if recurrence is not None:
        if recurrence.rule is None:
            return None  # "every hour": finer than a reminder may repeat
        state.take(recurrence.match)
    date_part = _find_date(state, now, now_utc)
    if date_part is not None and date_part.past:
        return None  # "remind me yesterday": a past date, not a reminder
    if date_part is not None and date_part.exact is not None:
        if recurrence is not None:
            return None  # "every week in 2 hours" says two things at once
        local_exact = date_part.exact.astimezone(time_zone).replace(tzinfo=None)
        return date_part.exact, local_exact, None
    part_of_day = (date_part.part_of_day if date_part else None) or (
        recurrence.part_of_day if recurrence else None
    )
    time_of_day = _find_time(state, part_of_day, date_part)
    if recurrence is None and date_part is None and time_of_day is None:
        return None
    if time_of_day is None:
        time_of_day = time(PART_OF_DAY_HOURS.get(part_of_day or "", default_hour))

    if recurrence is not None and recurrence.rule is not None:
        try:
            rule = validate_recurrence(recurrence.rule)
        except ValueError:
            return None  # "every 0 weeks": nothing a reminder can repeat on
        not_before = max(now, datetime.combine(date_part.day, time())) if date_part else now
        local = recurrence.first_after(not_before, time_of_day)
        if local is None:
            return None
        return to_utc(local, time_zone), local, rule

    local = datetime.combine(date_part.day if date_part else now.date(), time_of_day)
    if date_part is None:
        roll: relativedelta | None = relativedelta(days=1)
    else:
        roll = date_part.roll
    if local <= now:
        if roll is None:
            return None  # a pinned date that has passed ("on 2025-01-01", "today at 9")
        while local <= now:
            local += roll
    return to_utc(local, time_zone), local, None


def _dateparser(text: str, now: datetime) -> datetime | None:
    """dateparser on one matched span, with the settings issue 15 asks for."""
    return dateparser.parse(
        text,
        languages=_DATEPARSER_LANGUAGES,
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": now,
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )


def _number(word: str) -> float:
    word = re.sub(r"\s+", " ", word)
    return _NUMBER_WORDS[word] if word in _NUMBER_WORDS else float(word)


def _find_date(state: _Clause, now: datetime, now_utc: datetime) -> _DatePart | None:
    """The first date expression of the clause (by position), with its span blanked."""
    candidates: list[tuple[re.Match[str], _DatePart]] = []
    today = now.date()
    text = state.text

    for match in _PAST.finditer(text):
        candidates.append((match, _DatePart(today, *match.span(), past=True)))

    for match in _RELATIVE.finditer(text):
        amount = 0.5 if match["half"] else _number(match["n"])
        if match["and_half"] or match["and_half_after"]:
            amount += 0.5
        unit = match["unit"]
        if not 0 < amount <= MAX_RELATIVE_AMOUNT:
            continue  # "in 0 days" is not ahead; "in 100000 years" overflows the calendar
        if unit.startswith(("min", "h")):
            # Minutes and hours are real elapsed time, so they are counted in UTC (DST-safe).
            minutes = amount * (1 if unit.startswith("min") else 60)
            part = _DatePart(today, *match.span())
            part.exact = now_utc + timedelta(minutes=minutes)
            candidates.append((match, part))
            continue
        if amount != int(amount):
            continue
        unit_word = unit.rstrip("s")
        parsed = _dateparser(f"in {int(amount)} {unit_word}s", now)
        if parsed is not None:
            candidates.append((match, _DatePart(parsed.date(), *match.span())))

    for match in _MONTH_DAY.finditer(text):
        day, month, year = (
            match["d"] or match["d2"],
            match["m"] or match["m2"],
            match["y"] or match["y2"],
        )
        parsed = _dateparser(f"{day} {month} {year or today.year}", now)
        if parsed is None:
            continue
        found = parsed.date()
        if year is None:
            roll = relativedelta(years=1)
            if found < today:
                found += roll
            candidates.append((match, _DatePart(found, *match.span(), roll=roll)))
        else:
            candidates.append((match, _DatePart(found, *match.span())))

    for match in _ISO_DATE.finditer(text):
        found_date = _safe_date(int(match["y"]), int(match["m"]), int(match["d"]))
        if found_date:
            candidates.append((match, _DatePart(found_date, *match.span())))
    for match in _DOTTED_DATE.finditer(text):
        found_date = _safe_date(int(match["y"]), int(match["m"]), int(match["d"]))
        if found_date:
            candidates.append((match, _DatePart(found_date, *match.span())))
    for match in _SLASH_DATE.finditer(text):
        at_clause_start = not text[: match.start()].strip()
        if not (match["pre"] or match["y"] or at_clause_start):
            continue  # "3/4" in prose is a fraction more often than a date
        first, second = int(match["a"]), int(match["b"])
        month, day = (second, first) if first > 12 else (first, second)  # US order unless D > 12
        if match["y"]:
            year = int(match["y"]) + (2000 if len(match["y"]) == 2 else 0)
            found_date = _safe_date(year, month, day)
            if found_date:
                candidates.append((match, _DatePart(found_date, *match.span())))
        else:
            found_date = _safe_date(today.year, month, day)
            if found_date:
                roll = relativedelta(years=1)
                if found_date < today:
                    found_date += roll
                candidates.append((match, _DatePart(found_date, *match.span(), roll=roll)))

    for match in _TODAY.finditer(text):
        named_part = "tonight" if match["tonight"] else match["part"]
        candidates.append((match, _DatePart(today, *match.span(), part_of_day=named_part)))
    for match in _TOMORROW.finditer(text):
        parsed = _dateparser(re.sub(r"^the\s+", "", match["k"]).replace("tmrw", "tomorrow"), now)
        if parsed is not None:
            part_of_day = match["part"]
            candidates.append(
                (match, _DatePart(parsed.date(), *match.span(), part_of_day=part_of_day))
            )
    for match in _WEEKDAY.finditer(text):
        prefix, name = match["pre"], match["day"]
        if prefix is None and name not in (
            "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        ):  # fmt: skip
            continue  # "sat", "wed", "sun" alone are words more often than days
        ahead = (WEEKDAY_NUMBERS[name] - today.weekday()) % 7
        if ahead == 0 and prefix != "this":
            ahead = 7  # "on Thursday" said on a Thursday means next week's
        found_date = today + timedelta(days=ahead)
        candidates.append(
            (
                match,
                _DatePart(
                    found_date,
                    *match.span(),
                    roll=relativedelta(weeks=1),
                    part_of_day=match["part"],
                ),
            )
        )
    for match in _NEXT_PERIOD.finditer(text):
        kind = re.sub(r"\s+", " ", match["k"])
        if kind == "next week":
            found_date = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
        elif kind == "next month":
            found_date = today + relativedelta(months=1)
        elif kind == "next year":
            found_date = today + relativedelta(years=1)
        else:  # this weekend / the weekend: the coming Saturday (today on a weekend)
            found_date = today + timedelta(days=max(0, 5 - today.weekday()))
        candidates.append((match, _DatePart(found_date, *match.span())))
    for match in _DAY_OF_MONTH.finditer(text):
        day_number = int(match["d"])
        found_date = _safe_date(today.year, today.month, day_number)
        probe = today.replace(day=1)
        while found_date is None or found_date < today:
            probe += relativedelta(months=1)
            found_date = _safe_date(probe.year, probe.month, day_number)
            if probe.year > today.year + 1:
                break
        if found_date is not None and day_number <= 31:
            roll = relativedelta(months=1)
            candidates.append((match, _DatePart(found_date, *match.span(), roll=roll)))

    if not candidates:
        return None
    match, part = min(candidates, key=lambda item: (item[0].start(), -item[0].end()))
    state.take(match)
    return part


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _find_time(state: _Clause, part_of_day: str | None, date_part: _DatePart | None) -> time | None:
    """The time of day the clause names ("at 9", "5pm", "17:30", "noon"), or None: the first
    one said, but a bare H:MM beside the date gives way to one said with "at" or am/pm ("John
    3:16 tomorrow at 18:30" is 18:30)."""
    text = state.text
    candidates: list[tuple[bool, re.Match[str], time]] = []  # (bare, match, time)
    for match in _TIME_AMPM.finditer(text):
        hour, minute = int(match["h"]), int(match["m"] or 0)
        if not 1 <= hour <= 12:
            continue
        hour = hour % 12 + (12 if match["ap"] == "p" else 0)
        candidates.append((False, match, time(hour, minute)))
    for match in _TIME_24.finditer(text):
        bare = not match["pre"]
        if bare and not _next_to_date(text, match, date_part):
            continue  # "John 3:16", "ratio 16:9": a bare H:MM needs "at" or a date beside it
        found = _hour_in_context(match["h"], int(match["m"]), part_of_day)
        candidates.append((bare, match, found))
    for match in _TIME_AT.finditer(text):
        hour_text = match["h"] or match["h2"]
        candidates.append((False, match, _hour_in_context(hour_text, 0, part_of_day)))
    for match in _TIME_NAMED.finditer(text):
        candidates.append((False, match, time(0) if match["w"] == "midnight" else time(12)))
    if not candidates:
        return None
    _, match, found = min(candidates, key=lambda item: (item[0], item[1].start(), -item[1].end()))
    state.take(match)
    return found


def _hour_in_context(hour_text: str, minute: int, part_of_day: str | None) -> time:
    """An hour without am/pm: "tonight at 8" is 20:00; a bare "at 5" is 17:00, "at 9" 09:00."""
    hour = int(hour_text)
    if part_of_day in _PM_PARTS and 1 <= hour <= 11:
        hour += 12
    elif part_of_day is None and 1 <= hour <= 6 and not hour_text.startswith("0"):
        hour += 12  # nobody sets a reminder for 5 in the morning without saying "am"
    return time(hour, minute)


def _next_to_date(text: str, match: re.Match[str], date_part: _DatePart | None) -> bool:
    if date_part is None:
        return False
    between = (
        text[date_part.end : match.start()]
        if date_part.end <= match.start()
        else text[match.end() : date_part.start]
    )
    return re.fullmatch(r"[\s,]*(?:at\s*)?", between) is not None
