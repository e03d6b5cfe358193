"""Stand-in for the package's rendered `_version.py` (not copied; see `__init__.py`)."""

__version__ = "0.0.0"
__spec_version__ = "0.0.0"
