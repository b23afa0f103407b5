"""Imports Whoosh's search side without three modules that a search never uses (~0.1 s of a
cold ``searchkit search`` on a busy machine). Every searchkit module that imports Whoosh
imports this first.

- ``whoosh.reading`` imports the ``cached_property`` package for one property, and it imports
  asyncio; the standard ``functools.cached_property`` does the same job (caches the value in
  the instance's ``__dict__`` under the same name).
- ``whoosh.compat`` imports ``urllib.request`` (with http, ssl and email) for a download helper;
  it gets one that imports urllib.request when called.
- ``whoosh.query.terms`` imports ``whoosh.lang.morph_en`` (hundreds of regular expressions)
  for the ``Variations`` query, which searchkit does not use; it gets a ``variations`` that
  imports the real one when called.

The stand-ins are in ``sys.modules`` only while Whoosh is first imported (never when those
modules are already imported), so that any later import gets the real module.
"""

import functools
import sys
import types


def _deferred(module: str, name: str):
    """A function that imports ``module`` and calls its ``name`` when called."""

    def call(*args, **kwargs):
        return getattr(__import__(module, fromlist=[name]), name)(*args, **kwargs)

    call.__name__ = name
    return call


def _import_whoosh() -> None:
    if "whoosh.query" in sys.modules:
        return
    stand_ins = {
        "cached_property": {"cached_property": functools.cached_property},
        "urllib.request": {"urlretrieve": _deferred("urllib.request", "urlretrieve")},
        "whoosh.lang.morph_en": {"variations": _deferred("whoosh.lang.morph_en", "variations")},
    }
    placed = {}
    for name, attributes in stand_ins.items():
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__dict__.update(attributes)
            placed[name] = sys.modules[name] = module
    try:
        import whoosh.query  # noqa: F401  (imports whoosh.reading, whoosh.compat)
    finally:
        for name, module in placed.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


_import_whoosh()
