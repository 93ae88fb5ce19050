"""The client's version, as pyproject.toml names it."""

__version__ = "0.1.0"
