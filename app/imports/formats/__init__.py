"""One module per log format. Each has `NAME`, `sniff(text, filename) -> bool` and
`parse(text, filename, overrides) -> Parsed`; `app.imports.detect` tries them in order."""
