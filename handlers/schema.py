# SPDX-License-Identifier: MIT
"""Request schemas as attrs classes: the field rules validate input and feed the OpenAPI document.

Each field carries a `Rule` in its metadata; `parse` checks every field, collects every
message (SPEC §5 wording) and builds the instance. Fields left out stay UNSET, so partial
updates write only what the client sent; unknown fields are dropped.
"""

import datetime
import re

import attrs

import messages as msg
from security import emails
from store.errors import ValidationError

UNSET = type("Unset", (), {"__repr__": lambda self: "UNSET", "__bool__": lambda self: False})()
DIGITS = re.compile(r"^[0-9]{1,18}$")
MAX_INT = 2**53 - 1
PASSWORD_MAX_BYTES = 72  # bcrypt reads no further: bytes past it would be silently ignored (SPEC §10)


@attrs.frozen
class Rule:
    kind: str  # string | email | number | flag | instant
    required: bool = True
    min_len: int | str | None = None  # a str names a setting (e.g. password_min_length)
    max_len: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    pattern: object = None
    nullable: bool = False
    strip: bool = True
    description: str = ""
    max_bytes: int | None = None  # in UTF-8
    blank: bool = True  # False: at least one character that is not whitespace


def _field(rule):
    return attrs.field(default=UNSET, metadata={"rule": rule})


def text(min_len=None, max_len=None, required=True, pattern=None, nullable=False, strip=True, description=""):
    return _field(
        Rule(
            "string",
            required,
            min_len,
            max_len,
            pattern=pattern,
            nullable=nullable,
            strip=strip,
            description=description,
        )
    )


def email_address(required=True, pattern=True):
    """An email (SPEC §10): trimmed, NFC-normalized, no control or zero-width characters; `pattern` also
    requires the address shape (not at login, where anything that is not an account is just a 401)."""
    return _field(Rule("email", required, max_len=100, pattern=emails.PATTERN if pattern else None))


# A new password: password_min_length to 100 characters, at most 72 bytes, not blank; never trimmed.
NEW_PASSWORD = Rule("string", True, "password_min_length", 100, strip=False, max_bytes=PASSWORD_MAX_BYTES, blank=False)


def new_password(required=True):
    return _field(attrs.evolve(NEW_PASSWORD, required=required))


def number(minimum=1, maximum=MAX_INT, required=True, description=""):
    return _field(Rule("number", required, minimum=minimum, maximum=maximum, description=description))


def flag(required=True, description=""):
    """0/1 or true/false, stored as 0/1 (isActive)."""
    return _field(Rule("flag", required, description=description))


def instant(required=False, description=""):
    """A moment in ISO 8601 with its UTC offset (`2025-03-01T00:00:00Z`, `…+01:00`), turned into the form SEAM
    stores timestamps in, so that comparing the texts compares the moments."""
    return _field(Rule("instant", required, max_len=40, description=description))


def rules(cls):
    return {f.name: f.metadata["rule"] for f in attrs.fields(cls)}


def given(instance):
    """The fields the client actually sent."""
    return {k: v for k, v in attrs.asdict(instance).items() if v is not UNSET}


def _check_string(name, rule, value, limits):
    if not isinstance(value, str):
        return None, msg.FIELD_TYPE.format(field=name, type="string")
    if rule.max_len is not None and len(value) > rule.max_len:  # what was sent, as the OpenAPI maxLength says
        return None, msg.FIELD_MAX_LENGTH.format(field=name, n=rule.max_len)
    if rule.strip:
        value = value.strip()
    if rule.kind == "email":
        value = emails.normalize(value)
    min_len = limits[rule.min_len] if isinstance(rule.min_len, str) else rule.min_len
    if min_len is not None and len(value) < min_len:  # what is kept: blanks are not content
        return None, msg.FIELD_MIN_LENGTH.format(field=name, n=min_len)
    if not rule.blank and not value.strip():
        return None, msg.FIELD_BLANK.format(field=name)
    if rule.max_bytes is not None and len(value.encode("utf-8", "surrogatepass")) > rule.max_bytes:
        return None, msg.FIELD_MAX_BYTES.format(field=name, n=rule.max_bytes)
    if rule.pattern is not None and not rule.pattern.fullmatch(value):
        return None, msg.FIELD_FORMAT.format(field=name)
    if "\x00" in value or (rule.kind == "email" and emails.has_invisible(value)):
        return None, msg.FIELD_FORMAT.format(field=name)
    return value, None


def _check_number(name, rule, value, from_query):
    if from_query and isinstance(value, str):
        if not DIGITS.match(value):
            return None, msg.FIELD_TYPE.format(field=name, type="number")
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, msg.FIELD_TYPE.format(field=name, type="number")
    if isinstance(value, float):
        if not value.is_integer():
            return None, msg.FIELD_FORMAT.format(field=name)
        value = int(value)
    if rule.minimum is not None and value < rule.minimum:
        return None, msg.FIELD_MIN.format(field=name, n=rule.minimum)
    if rule.maximum is not None and value > rule.maximum:
        return None, msg.FIELD_MAX.format(field=name, n=rule.maximum)
    return value, None


def _check_instant(name, rule, value):
    if not isinstance(value, str):
        return None, msg.FIELD_TYPE.format(field=name, type="string")
    if len(value) > rule.max_len:
        return None, msg.FIELD_MAX_LENGTH.format(field=name, n=rule.max_len)
    try:
        moment = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        return None, msg.FIELD_FORMAT.format(field=name)
    if moment.tzinfo is None:  # a wall-clock time without its offset names no single moment
        return None, msg.FIELD_FORMAT.format(field=name)
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"), None


def _check_flag(name, value):
    if value is True or value is False:
        return int(value), None
    if isinstance(value, int) and value in (0, 1):
        return value, None
    return None, msg.FIELD_TYPE.format(field=name, type="boolean")


def check(name, rule, value, from_query=False, limits=None):
    """(clean value, None) or (None, message) for one present, non-null value."""
    if rule.kind in ("string", "email"):
        return _check_string(name, rule, value, limits or {})
    if rule.kind == "number":
        return _check_number(name, rule, value, from_query)
    if rule.kind == "instant":
        return _check_instant(name, rule, value)
    return _check_flag(name, value)


def parse(cls, source, from_query=False, limits=None):
    """Validate `source` (a dict) against `cls`; raise one ValidationError listing every problem."""
    values, errors = {}, []
    for name, rule in rules(cls).items():
        if name not in source or (source[name] is None and not rule.nullable):
            if rule.required:
                errors.append(msg.FIELD_REQUIRED.format(field=name))
            continue
        if source[name] is None:
            values[name] = None
            continue
        value, error = check(name, rule, source[name], from_query, limits)
        if error:
            errors.append(error)
        else:
            values[name] = value
    if errors:
        raise ValidationError(". ".join(errors))
    return cls(**values)
