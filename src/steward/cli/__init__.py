"""The `steward` command line: thin click commands over the core."""
