"""The `steward` command line: thin click commands over the core, and the one handler that maps
errors to exit codes. The only code that knows click. May import every other subpackage; nothing
in the core imports it.
"""
