"""Git and DVC plumbing: `git` subprocesses (one place that runs them), the registry's files at a
revision or in the working tree (`tree`), the change set between two trees, the first-parent
change index that history reads, and DVC's repository API imported quietly. May import
`steward.entries`.
"""
