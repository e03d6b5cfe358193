"""Stand-in for the package's rendered `_config.py` (not copied; see `__init__.py`).

The rendered one (`templates/_config.py.jinja`) has the same names, with the spec's values.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import httpx

from ._servers import ServerTemplate

__all__ = [
    "HTTP_LIBRARY",
    "PACKAGE_NAME",
    "SECRET_WIRE_NAMES",
    "SERVERS",
    "USER_AGENT_PRODUCT",
    "ErrorModel",
    "httpx",
]

PACKAGE_NAME = "runtime"
HTTP_LIBRARY = "httpx"
USER_AGENT_PRODUCT = "runtime-python"
SECRET_WIRE_NAMES: tuple[str, ...] = ("authorization", "password")
SERVERS: tuple[ServerTemplate, ...] = ()
ErrorModel: TypeAlias = Any
