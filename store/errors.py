"""Errors that carry their HTTP status, so one writer can turn any of them into the envelope."""


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
