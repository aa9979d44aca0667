"""The catalog site: the registry as static pages (`steward site`).

Built from a commit of the registry and its history, without a server: an index of the models
with client-side search, a page per model (versions, stage timeline, metric charts, lineage,
card, audit findings) and per dataset (its columns and the versions using each), and the open
proposals when a forge can be asked. Every page is HTML written here with every registry text
escaped, under a Content-Security-Policy that allows only the site's own stylesheet and script.

May import `governance`, `gate` and everything below them; only `demo` and `cli` import it.
"""
