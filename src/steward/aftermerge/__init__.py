"""What happens once a change lands: `apply` records each registration and stage change as a GTO
tag with who proposed, approved and merged it and runs the policy's hooks; `records` is the
format of those records; `history` reads them back with the commits. May import
`steward.artifacts` and everything below it.
"""
