"""The registry read at a commit or in the working tree: `steward check` and its per-file records
and cache, listings and queries (list, show, which), the whole contents with the policy, the
versions of the working tree (`catalog`), and the first files written (`scaffold` for init,
`create` for a model). May import `steward.gitio` and `steward.entries`; not `steward.forge`
(reading needs no proposals).
"""
