"""Text the stores and the JSON responses can hold: valid UTF-8 (no lone surrogates, which a
JSON `\\udfff` escape produces), no NUL (Postgres text refuses it), and a config nested no deeper
than MAX_DEPTH (responses are serialized recursively). Checked at the door, so a request either
fails with a 422 naming the field or is stored and read back whole."""

from typing import Any

MAX_DEPTH = 32


def problem(text: str) -> str | None:
    """Why `text` cannot be stored, or None."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape)"
    return None


def checked(text: str) -> str:
    """For `AfterValidator`: the text, or a ValueError saying what is wrong with it."""
    why = problem(text)
    if why is not None:
        raise ValueError(f"the text {why}")
    return text


def check_tree(value: Any, depth: int = 0) -> None:
    """A JSON value (config): every key and string storable, nesting at most MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise ValueError(f"is nested more than {MAX_DEPTH} levels deep; flatten it")
    if isinstance(value, str):
        checked(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            checked(str(key))
            check_tree(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_tree(item, depth + 1)
