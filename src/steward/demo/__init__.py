"""`steward quickstart`: the whole story, offline, narrated in a temporary registry, and the toy
model it trains. May import every subpackage but `steward.cli`.
"""
