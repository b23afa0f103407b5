"""One module per input format: text and Markdown with front matter, HTML pages, JSON lines."""
