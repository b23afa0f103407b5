"""Writing the index and keeping it: the only place that writes index folders.

``build`` turns paragraphs into Whoosh segments (``schema``, ``analysis``, ``textfield``,
``codec``), each with its ranking arrays (``rankarrays``); ``store`` and ``durable`` lock,
commit crash-safely and check; ``integrity`` records and verifies every committed file;
``safepickle`` unpickles index data through an allow-list; ``ledger``, ``vocabulary`` and
``dedup`` keep which files are in, the corpus's words and near-identical paragraphs;
``layout`` and ``wordterms`` say what an index on disk is and how words become terms, without
Whoosh, for the retrieval side."""
