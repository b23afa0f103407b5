"""Files on disk -> articles -> paragraphs, with their source and date.

Reading only: it imports neither Whoosh nor click, and never writes. ``corpus`` walks the
folders and reads each file through its format (``formats``), ``encoding`` turns bytes into
text, ``blocks`` and ``metadata`` split text into classified blocks and find the source and
date (``manifest`` for those given beside the files), ``passages`` splits long paragraphs,
``safeload`` reads JSON and YAML within bounds."""
