"""The generated packages' spec-independent modules, as plain Python: `render.py` copies each of them
byte for byte into a package (after a constant header) and never formats them. Every package gets
the modules of `render.RUNTIME_MODULES`; `oauth.py` and the `kibo/` subpackage only where the spec
has what they serve (`wiring.Wiring.runtime_modules`). What they need from the spec they read from
the package's rendered `_config.py`.

`_config.py` and `_version.py` here are stand-ins with the same names and types, so that ruff, mypy
and `tests/runtime/` check and run these modules where they live; they are not copied.
"""
