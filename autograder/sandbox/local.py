"""Running trusted code in this process behind the same interface as the sandbox.

``InProcessStudent`` wraps a module imported here (the reference, a second
implementation, a mutant) so hidden tests can run on it without a worker:
values make the same round trip through the codec, objects stay behind
handles (``LocalObject``), and exceptions arrive as ``StudentException``.
Never use it for untrusted code.
"""

from autograder.sandbox.errors import StudentException
from autograder.sandbox.runtime import codec


class _LocalTable:
    """In-process stand-in for the worker's handle table."""

    def __init__(self):
        self.objects: dict[int, object] = {}

    def register(self, obj) -> int:
        self.objects[len(self.objects) + 1] = obj
        return len(self.objects)

    def call(self, fn, args, kwargs):
        """``fn(*args, **kwargs)`` with arguments and result copied through the codec."""
        args, kwargs = codec.decode_bytes(codec.encode((list(args), kwargs)),
                                          resolve=lambda h: self.objects[h.handle_id])
        try:
            value = fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - mirror the worker: any raise is the student's
            raise StudentException(type(e).__name__, str(e), mro=[c.__name__ for c in type(e).__mro__]) from e
        return codec.decode_bytes(codec.encode(value, self.register),
                                  resolve=lambda h: LocalObject(self, h.handle_id, h.type_name))


class LocalObject(codec.Handle):
    """``RemoteObject``'s in-process twin."""

    __slots__ = ("_table",)

    def __init__(self, table: _LocalTable, handle_id: int, type_name: str):
        super().__init__(handle_id, type_name)
        self._table = table

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        target = self._table.objects[self.handle_id]
        return lambda *args, **kwargs: self._table.call(getattr(target, name), args, kwargs)

    def __call__(self, *args, **kwargs):
        return self._table.call(self._table.objects[self.handle_id], args, kwargs)

    def attr(self, name: str):
        target = self._table.objects[self.handle_id]
        return self._table.call(lambda: getattr(target, name), (), {})


class InProcessStudent:
    """The same interface over a module imported in this process (reference, tests, baselines).

    Values make the same round trip through the codec as they would from a worker, so
    the hidden tests see identical inputs either way; objects stay behind handles.
    """

    def __init__(self, module):
        self._module = module
        self._table = _LocalTable()

    def _construct(self, module: str, name: str, *args, **kwargs):
        """``Worker.construct``'s twin: build an object of a provided package behind a handle."""
        import importlib

        if module == "_diffgrade_testmodels":  # the worker's private name for runtime/testmodels.py
            module = "autograder.sandbox.runtime.testmodels"
        return self._table.call(getattr(importlib.import_module(module), name), args, kwargs)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        fn = getattr(self._module, name)

        def call(*args, _timeout=None, **kwargs):
            return self._table.call(fn, args, kwargs)

        call.__name__ = name
        return call
