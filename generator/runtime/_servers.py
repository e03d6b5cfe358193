"""Server URL templates from the spec, and how base URLs are built from them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import ConfigurationError

__all__ = [
    "ServerRouting",
    "ServerTemplate",
    "ServerVariable",
    "host_url",
    "match_server",
    "pick_server",
]

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class ServerVariable:
    name: str
    """The variable's name in the URL template, e.g. `tenantId`."""
    argument: str
    """The keyword argument of `Client(...)` that sets it, e.g. `tenant_id`."""
    default: str | None = None
    enum: tuple[str, ...] = ()
    description: str = ""
    required: bool = False
    """The spec's default is only a placeholder: a real value must be given."""
    env: str = ""
    """The environment variable read when the argument is absent ("" for none)."""


@dataclass(frozen=True)
class ServerTemplate:
    url: str
    description: str = ""
    variables: tuple[ServerVariable, ...] = field(default=())

    def resolve(self, values: Mapping[str, str | None]) -> str:
        """The URL with every `{variable}` filled from `values` (keyed by argument name) or its default."""
        resolved: dict[str, str] = {}
        for variable in self.variables:
            value = values.get(variable.argument)
            if value is None and not variable.required:
                value = variable.default
            if value is None or value == "":
                hint = f" or set {variable.env}" if variable.env else ""
                raise ConfigurationError(
                    f"server {self.url!r} needs {variable.argument}=...: pass it to the client{hint}"
                    " (or pass base_url=...)"
                )
            value = str(value)
            if variable.enum and value not in variable.enum:
                allowed = ", ".join(repr(v) for v in variable.enum)
                raise ConfigurationError(
                    f"{variable.argument}={value!r} is not allowed; choose one of {allowed}"
                )
            if not re.fullmatch(r"[A-Za-z0-9._~-]+", value):
                raise ConfigurationError(f"{variable.argument}={value!r} is not a valid URL part")
            resolved[variable.name] = value
        return _PLACEHOLDER.sub(lambda m: resolved.get(m.group(1), m.group(0)), self.url)

    def match(self, url: str) -> dict[str, str] | None:
        """The variable values (by argument name) when `url` was built from this template, else None."""
        names = {v.name: v.argument for v in self.variables}
        pattern = ""
        position = 0
        for placeholder in _PLACEHOLDER.finditer(self.url):
            pattern += re.escape(self.url[position : placeholder.start()])
            pattern += f"(?P<v{len(pattern)}>[^./?#]+)"
            position = placeholder.end()
        pattern += re.escape(self.url[position:].rstrip("/"))
        found = re.fullmatch(pattern, url.rstrip("/"), re.IGNORECASE)
        if found is None:
            return None
        values = dict(
            zip((m.group(1) for m in _PLACEHOLDER.finditer(self.url)), found.groups(), strict=True)
        )
        return {names[k]: v for k, v in values.items() if k in names}


def pick_server(server: int | str | None, servers: tuple[ServerTemplate, ...]) -> ServerTemplate:
    """A server by index or by description (case-insensitive); the first one by default."""
    if not servers:
        raise ConfigurationError("the spec lists no servers: pass base_url=...")
    if server is None:
        return servers[0]
    if isinstance(server, int):
        if not 0 <= server < len(servers):
            raise ConfigurationError(
                f"server={server} is out of range: there are {len(servers)} servers (see SERVERS)"
            )
        return servers[server]
    for candidate in servers:
        if candidate.description.lower() == server.lower() or candidate.url == server:
            return candidate
    known = ", ".join(repr(s.description) for s in servers)
    raise ConfigurationError(f"unknown server {server!r}; choose an index or one of {known}")


def match_server(
    url: str, servers: tuple[ServerTemplate, ...]
) -> tuple[ServerTemplate, dict[str, str]] | None:
    """Which server template `url` was built from, with the variable values read back from it."""
    for server in servers:
        values = server.match(url)
        if values is not None:
            return server, values
    return None


def host_url(value: str, template_url: str) -> str:
    """A base URL from a host (`home.mozu.com`) or a URL; a bare host gets https and the spec's path."""
    value = value.strip()
    if "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    if not parts.netloc:
        raise ConfigurationError(f"{value!r} is not a host or URL")
    if parts.path in ("", "/"):
        value = value.rstrip("/") + urlsplit(template_url).path
    return value.rstrip("/")


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


class ServerRouting:
    """Base URLs of operations that declare their own servers (e.g. an OAuth host).

    The operation's server whose description shares most words with the client's server wins
    (Kibo: "EURO Site Level Api" → "EURO HomePod Api"), the first one on a tie; `overrides` maps
    a server URL template to the base URL to use instead (e.g. `Client(auth_host=...)`).
    """

    def __init__(
        self,
        main: ServerTemplate | None,
        variables: Mapping[str, str | None],
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        self.main = main
        self.variables = dict(variables)
        self.overrides = dict(overrides or {})

    def pick(self, servers: tuple[ServerTemplate, ...]) -> ServerTemplate:
        if not servers:
            raise ConfigurationError("the operation lists no servers")
        if self.main is None:
            return servers[0]
        wanted = _words(self.main.description)
        return max(servers, key=lambda s: (len(_words(s.description) & wanted), -servers.index(s)))

    def base_url(self, servers: tuple[ServerTemplate, ...]) -> str:
        for server in servers:
            if server.url in self.overrides:
                return self.overrides[server.url].rstrip("/")
        return self.pick(servers).resolve(self.variables).rstrip("/")
