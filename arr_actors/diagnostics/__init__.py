"""Runner log diagnostics: the pattern registry, extraction and terminal-state memory."""
