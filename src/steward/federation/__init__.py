"""One view across registries: the federation file, the local mirrors `steward federation sync`
keeps of each registry, and the answers (`list`, `show`, `which`, `impact`, `lineage`, `export`)
read across those mirrors, each row naming its registry and datasets matched by URI.

May import `governance` (impact, lineage and the catalog exports it federates), `gate` and
everything below them; only `site`, `demo` and `cli` import it.
"""
