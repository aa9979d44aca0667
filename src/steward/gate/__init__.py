"""The judge and the proposals it judges: the pure evaluation of a change set against the base
policy (`evaluate`), the judge that reads the trees, forge and remote for it (`judge`), the
problems a change brings (`scoped_problems`), the verdict's text and Markdown (`report`), the
GitHub Actions entry point (`actions`), and the proposals themselves: promotion, rollback and
monitoring. May import `steward.aftermerge` and everything below it, not `steward.governance`.
"""
