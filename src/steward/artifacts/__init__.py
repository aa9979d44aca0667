"""Artifacts and the DVC store: hashing files in one streaming pass, the DVC cache and remote
(`store`), registering a version (`registration`, with the environment it was trained in),
pulling and verifying files (`retrieve`) and retention (`retention`, `steward gc`). May import
`steward.reading`, `steward.forge`, `steward.gitio` and `steward.entries`.
"""
