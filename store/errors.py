# SPDX-License-Identifier: MIT
"""Errors that carry their HTTP status, so one writer can turn any of them into the envelope."""

import sqlite3

import messages as msg


class AppError(Exception):
    """An expected failure whose message is safe to show to the client."""

    status = 400

    def __init__(self, message, status=None, headers=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = headers or {}


class ValidationError(AppError):
    status = 400


class Unauthorized(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    status = 409


class Gone(AppError):
    status = 410


class Locked(AppError):
    status = 423


class TooManyRequests(AppError):
    status = 429


class Unavailable(AppError):
    """The database cannot take a write now (locked by another process, no room left): retry later."""

    status = 503


# SQLite's primary result codes (the low byte of sqlite_errorcode): why a write could not be made.
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL = 5, 6, 13
BUSY_RETRY_SECONDS = 5  # about the busy timeout the write already waited
FULL_RETRY_SECONDS = 60  # someone has to free space first


def busy():
    return Unavailable(msg.DATABASE_BUSY, headers={"Retry-After": str(BUSY_RETRY_SECONDS)})


def full():
    return Unavailable(msg.DATABASE_FULL, headers={"Retry-After": str(FULL_RETRY_SECONDS)})


def unreachable():
    """The database server cannot be reached (down, restarting, refusing connections): retry shortly."""
    return Unavailable(msg.DATABASE_UNREACHABLE, headers={"Retry-After": str(BUSY_RETRY_SECONDS)})


class ConstraintError(Exception):
    """A write broke a constraint of the PostgreSQL schema; its text starts like SQLite's IntegrityError's
    (UNIQUE / FOREIGN KEY), so both map to the same envelope."""


# A write the schema refused, on either backend: the client's conflict (409/400), never a logged fault.
CONSTRAINT_ERRORS = (sqlite3.IntegrityError, ConstraintError)


def unavailable(error):
    """The 503 for an SQLite error that says the database is locked or full, else None (a real fault)."""
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return busy()
    if code == SQLITE_FULL:
        return full()
    return None
