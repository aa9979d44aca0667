"""Promotion policy: the files in `policies/` and (later) their evaluation against a change."""
