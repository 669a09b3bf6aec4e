"""Every error casework raises, each with the gRPC status a client can act on (by name, so the domain
imports no gRPC). The entrypoints turn them into that status with the message as its details."""

from __future__ import annotations


class CaseworkError(Exception):
    status = "INTERNAL"


class InvalidInput(CaseworkError, ValueError):
    """The request is malformed; the message names the field and says what is wrong."""

    status = "INVALID_ARGUMENT"


class NotFound(CaseworkError, LookupError):
    status = "NOT_FOUND"


class Refused(CaseworkError):
    """The change does not fit the case as it is now: a transition the workflow does not allow."""

    status = "FAILED_PRECONDITION"


class StaleVersion(Refused):
    """The case changed since the caller read it; read it again and retry."""

    status = "ABORTED"


class Unauthenticated(CaseworkError, PermissionError):
    status = "UNAUTHENTICATED"


class Forbidden(CaseworkError, PermissionError):
    status = "PERMISSION_DENIED"
