"""JSON responses that can carry NaN and Infinity.

A stored history may hold NaN or infinite losses (they are evidence of divergence). Standard JSON
has no token for them; like Python's json module, which most training scripts post with, we write
`NaN`, `Infinity` and `-Infinity`, so what a client sent reads back identical. Serialization goes
through pydantic-core, which is much faster than the standard library on large histories.
"""

from typing import Any

import pydantic_core
from starlette.responses import JSONResponse as StarletteJSONResponse


def dumps(content: Any) -> bytes:
    return pydantic_core.to_json(content, inf_nan_mode="constants")


class JSONResponse(StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)
