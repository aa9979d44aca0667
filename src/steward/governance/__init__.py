"""What governance reads: lineage and impact, model cards, audit reports, OpenLineage and catalog
exports, and their renderers (one Markdown text module). Read-only over the registry and its
history. May import `steward.aftermerge` and everything below it, not `steward.gate`.
"""
