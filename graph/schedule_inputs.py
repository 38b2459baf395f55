"""A schedule trigger's inputs read from the words that state it: "every Friday at 5pm"
is `day_of_week = 5`, `time = 1970-01-01 17:00:00` (spec §5's formats).

Adapter v4 wrote 6 of dev's 8 schedule triggers with a wrong time, day or interval
("at 5pm" as 09:00, "the 1st" as 15), and each cost a model call. Where the trigger's
words give every required input, they are read here and the model is not asked; where
they leave one out ("every Monday" with no time: the flows of ours default it
differently), the model writes them as before. `run_once` needs a year the words rarely
give, so it is always the model's.

A time said without "at" ("daily 06:00 -> ...", "daily 9am") is read too, by its colon or
its am/pm, and a 24-hour clock at night is not shifted ("every night at 00:15" had been
read as 12:15). Forty-fifth session: 3 more dev and 4 more train gold triggers read; on
the hand-written and synthetic train and dev gold flows every schedule stated in full,
611 of 623, is read as the gold flow has it.
"""

from __future__ import annotations

import re

DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WORD_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "eight": 8,
    "ten": 10,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
}
_TIME = re.compile(
    r"\bat\s+(?:(noon|midday)|(midnight)|(\d{1,2})(?:[:.](\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?(?![\d:]))"
)
# A time said without "at": "daily 06:00", "every weekday 9am". Its hour and minutes, or its
# am/pm: a bare number is no time.
_BARE_TIME = re.compile(
    r"(?<![\w:.])(?:(\d{1,2})(?:[:.](\d{2}))?\s*(a\.?m\.?|p\.?m\.?)(?!\w)|(\d{1,2}):(\d{2})(?![\d:]))"
)
_EVENING = re.compile(r"\b(?:evening|night|tonight|afternoon)\b")
_DAY_OF_MONTH = re.compile(
    r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b|\b(?:the\s+)?(first)\s+(?:day\s+)?of\s+(?:the|every|each)\s+month\b"
)
_INTERVAL = re.compile(
    r"\bevery\s+(?:(\d+|[a-z]+)\s+)?(minutes?|hours?)\b|\b(hourly)\b|\bevery\s+(half)\s+(?:an\s+)?hour\b"
)


def _time(text: str) -> str | None:
    if match := _TIME.search(text):
        noon, midnight, hour, minute, meridiem = match.groups()
    elif bare := _BARE_TIME.search(text):
        noon = midnight = None
        hour, minute, meridiem, clock_hour, clock_minute = bare.groups()
        if hour is None:  # "06:00": a clock, no am/pm
            hour, minute = clock_hour, clock_minute
    else:
        return None
    if noon:
        return "1970-01-01 12:00:00"
    if midnight:
        return "1970-01-01 00:00:00"
    h, m = int(hour), int(minute or 0)
    if meridiem:
        pm = meridiem.startswith("p")
        h = h % 12 + (12 if pm else 0)
    elif h < 12 and not hour.startswith("0") and _EVENING.search(text):
        h += 12  # "every evening at 7"; not "every night at 00:15", a 24-hour clock
    if not (0 <= h < 24 and 0 <= m < 60):
        return None
    return f"1970-01-01 {h:02d}:{m:02d}:00"


def _day_of_week(text: str) -> str | None:
    found = [
        (m.start(), i + 1) for i, d in enumerate(DAYS) if (m := re.search(rf"\b{d}s?\b", text))
    ]
    return str(min(found)[1]) if found else None


def _day_of_month(text: str) -> str | None:
    match = _DAY_OF_MONTH.search(text)
    if match is None:
        return None
    day = 1 if match.group(2) else int(match.group(1))
    return str(day) if 1 <= day <= 31 else None


def _interval(text: str) -> str | None:
    match = _INTERVAL.search(text)
    if match is None:
        return None
    count, unit, hourly, half = match.groups()
    if hourly:
        minutes = 60
    elif half:
        minutes = 30
    else:
        n = int(count) if count and count.isdigit() else _WORD_NUMBERS.get(count or "a")
        if n is None or n <= 0:
            return None
        minutes = n * (60 if unit.startswith("hour") else 1)
    days, rest = divmod(minutes, 24 * 60)
    return f"{days}d {rest // 60:02d}:{rest % 60:02d}:00"


def schedule_inputs(trigger: str, words: str) -> dict[str, str] | None:
    """The inputs of schedule trigger `trigger` that `words` (its annotation, or the
    requirement) state in full; None when one is missing or `trigger` is no schedule."""
    text = " ".join(words.lower().split())
    if trigger == "daily":
        values = {"time": _time(text)}
    elif trigger == "weekly":
        values = {"day_of_week": _day_of_week(text), "time": _time(text)}
    elif trigger == "monthly":
        values = {"day_of_month": _day_of_month(text), "time": _time(text)}
    elif trigger == "repeat":
        values = {"repeat": _interval(text)}
    else:
        return None
    if any(v is None for v in values.values()):
        return None
    return {k: v for k, v in values.items() if v is not None}
