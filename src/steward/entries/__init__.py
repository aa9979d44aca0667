"""How a registry is written down: the strict YAML loader and writer, names and versions, the
entry models of `model.yaml`, version and dataset files and of the policy files, where each file
lives (layout), problems and their field paths, the JSON Schemas exported from the models, DVC
pointer files and `.dvc/config`, the classification rules, which card sections are filled,
CODEOWNERS as text, and the one Markdown escaper every report and proposal body uses. Pure: no
git, no DVC, no network. May import only `steward.errors` and libraries; everything else in
Steward builds on it.
"""
