"""Schemathesis hooks for the API test against openapi.yaml (SchemathesisTests.swift).

Load with SCHEMATHESIS_HOOKS=PATH. Two hooks adapt schemathesis 4.32 to this API:

before_call: a request with watch=true gets a stream of server-sent events
that only ends when the client closes it, so schemathesis would wait until its
request timeout. The hook sends watch=false instead; HTTPAPITests.swift tests
the event streams.

filter_failure: the unsupported_method check expects 405 for a method that the
specification does not list, and accepts 404 and 401 in its place. The server
checks the collection name and ID in the path first, so an invalid name gets
400 whatever the method. The hook drops only that case: a 400 to an unlisted
method on a path with an invalid name. Every other failure still fails the run.
"""

from __future__ import annotations

import re
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure
from schemathesis.core.transport import Response
from schemathesis.openapi.checks import UnsupportedMethodResponse

# Collection names and document IDs, as DocumentID.validate in the server accepts them.
VALID_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")


def _without_stream(value: Any) -> Any:
    if value == "true":
        return "false"
    if isinstance(value, list):
        return [_without_stream(item) for item in value]
    return value


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    if case.query and "watch" in case.query:
        case.query["watch"] = _without_stream(case.query["watch"])


def _has_invalid_name(case: schemathesis.Case) -> bool:
    return any(
        not (isinstance(value, str) and VALID_NAME.fullmatch(value))
        for value in (case.path_parameters or {}).values()
    )


@schemathesis.hook
def filter_failure(
    context: schemathesis.HookContext, failure: Failure, case: schemathesis.Case, response: Response
) -> bool:
    is_invalid_name_first = (
        isinstance(failure, UnsupportedMethodResponse)
        and failure.status_code == 400
        and _has_invalid_name(case)
    )
    return not is_invalid_name_first
