"""kibo-codegen: turn an OpenAPI 3 document into a typed, vendorable Python client."""

__version__ = "0.1.0"
