"""Runner log diagnostics: the pattern registry, extraction and terminal-state memory.

- ``patterns.toml`` / ``registry``: every recognised line, as data (validated on load)
- ``formats``: the runner wrapper's own message formats (one definition)
- ``text``: making untrusted log text inert
- ``readers``: every pasted log format (JSON, JSON lines, console entries, gcloud YAML,
  Terraform, console copies, kubectl) turned into lines for the one extractor
- ``extract``: ``diagnose(lines, status=...) -> Diagnosis``
- ``memory``: ``TerminalMemory``, diagnoses of terminal executions on disk
- ``cli``: ``python -m arr_actors diagnose``
"""
