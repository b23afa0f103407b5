"""Reading the index: the Searcher facade and what answers a query.

``searcher`` is the facade the library and the CLI use; ``plan`` turns text without syntax
into the engine's query tree (and holds the query's shape, limits and notes), ``syntax``
reads query syntax with Whoosh's parser; ``engine`` scores BM25F over the ranking arrays;
``storedfields`` and ``snippets`` make the shown hits; ``batch`` runs query files. A search
without query syntax imports no Whoosh."""
