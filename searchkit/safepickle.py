"""Unpickling that runs no code from the data: only the globals a stored document holds.

A stored document is a dict of strings, numbers, None and datetimes; pickle protocol 2 writes a
datetime as ``datetime.datetime`` applied to bytes made by ``_codecs.encode``. Any other global
(``os.system``, ``builtins.eval``, ...) is refused before it is looked up.
"""

import io
import pickle

_ALLOWED = frozenset({("datetime", "datetime"), ("datetime", "date"), ("_codecs", "encode")})


class UnsafePickle(pickle.UnpicklingError):
    """The data names a global that a stored document never holds."""


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise UnsafePickle(f"refused to load {module}.{name}")
        return super().find_class(module, name)


def loads(data: bytes):
    try:
        return _Unpickler(io.BytesIO(data)).load()
    except UnsafePickle:
        raise
    except Exception as error:  # truncated or garbled data raises assorted errors
        raise UnsafePickle(f"damaged data ({type(error).__name__})") from None
