"""Forges: where proposals (pull requests), reviews and statuses live. The registry talks to one
through the narrow `Forge` protocol (`protocol`); `local` keeps them inside the repository's
`.git` (the embedded default), `github` reaches GitHub through PyGithub, `choose` picks one for a
repository, and `github_setup` writes branch protection. May import `steward.gitio` and
`steward.entries`; not `steward.reading`.
"""
