"""The version of Steward, in a module of its own so that any layer may read it without importing
the package's public API (`steward.register` reaches up to registration)."""

__version__ = "0.1.0"
