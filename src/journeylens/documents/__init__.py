"""Map and workspace files on disk: lossless YAML, positioned errors, schema, Mermaid."""
