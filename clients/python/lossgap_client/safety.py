"""Reporting must never break training: a hook that fails logs the error and returns."""

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger("lossgap_client")
F = TypeVar("F", bound=Callable[..., Any])


def never_raises(hook: F) -> F:
    @functools.wraps(hook)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return hook(*args, **kwargs)
        except Exception:
            log.exception("lossgap: %s failed; training goes on without it", hook.__qualname__)
            return None

    return guarded  # type: ignore[return-value]
