"""Structured arguments: what srcgrad takes apart into leaves and puts back together.

Contract. ``flatten(value)`` gives ``(structure, leaves)``; ``unflatten(structure,
leaves, like)`` is its inverse, building new containers and objects shaped like
``like`` (the value that was flattened) around new leaves (gradients, tangents,
cotangents). The kinds of structure, and their descriptions (hashable, compared
with ``==``: a derivative is built per structure, ``build._Entry``):

- ``None``: a leaf (a number, an array; or, directly in a tuple, list or dict,
  anything else: None and strings there are constant leaves, as they always were);
- ``("tuple" | "list", children)``, ``("dict", ((key, child), ...))``;
- ``("namedtuple", cls, ((field, child), ...))``: a ``typing.NamedTuple``
  (``_fields``); rebuilt with ``cls._make``;
- ``("object", cls, ((field, child), ...))``: a dataclass (``dataclasses.fields``),
  a class given to ``register_class`` (its ``fields``), or a plain object (its
  ``vars()``) where one is taken: the ``self`` parameter, and objects held by a
  structure. Rebuilt by the registered ``rebuild(obj, values)``, else by
  ``copy.copy`` and ``object.__setattr__`` (so frozen and slots classes work);
- ``("static", Static(value))``: a field of a namedtuple or object (or an entry of
  a container held by one) whose value is not differentiable: int, bool, str,
  None, a function, an integer or boolean array (an index), another object. It is
  part of the structure, compared by
  value for numbers and strings and by identity otherwise (``Static``), so a
  derivative built for one value is never run for another; the function reads
  it as a constant, and ``unflatten`` puts the template's value back.

Leaves are in depth-first order of the fields/entries, which is the order of the
generated code's parameters and of ``hessian``'s rows for a structured argument.
A Dask or CuPy array is a leaf as a NumPy array is (``arrays``), never an object
taken apart. This module imports nothing of srcgrad but ``errors`` and ``arrays``.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import linecache
import numbers
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import arrays
from .errors import Loc, UsageError

__all__ = ["Flat", "Static", "by_value", "constant_argument", "flatten", "unflatten",
           "register_class", "registered", "leaf_paths", "leaf_steps", "strip_static",
           "is_structured"]


@dataclasses.dataclass(frozen=True)
class _Registered:
    fields: tuple[str, ...]
    rebuild: Callable[[Any, dict[str, Any]], Any] | None


_REGISTERED: dict[type, _Registered] = {}


def register_class(cls: type, fields: tuple[str, ...] | list[str],
                   rebuild: Callable[[Any, dict[str, Any]], Any] | None = None) -> type:
    """Let srcgrad take objects of ``cls`` apart: ``fields`` are the attributes holding
    the differentiable parts (arrays, floats, or structures of them; a field holding an
    int, a str... is a constant of the structure). ``rebuild(obj, values)`` makes a new
    object like ``obj`` with the fields set to ``values`` (a dict), for gradients
    returned as objects of ``cls``; by default a copy of ``obj`` with the fields set by
    ``object.__setattr__``. Returns ``cls`` (usable as a decorator via
    ``functools.partial``)."""
    hint = "srcgrad.register_class(Layer, fields=(\"W\", \"b\"))"
    if not isinstance(cls, type):
        raise UsageError(f"register_class takes a class, not {cls!r}", _caller(), hint)
    if isinstance(fields, str) or not all(isinstance(f, str) and f.isidentifier()
                                          for f in fields) or not fields:
        raise UsageError(f"register_class({cls.__name__}): fields must be a tuple of "
                         f"attribute names, not {fields!r}", _caller(), hint)
    if rebuild is not None and not callable(rebuild):
        raise UsageError(f"register_class({cls.__name__}): rebuild must be a function "
                         "rebuild(obj, values) or None", _caller(), hint)
    _REGISTERED[cls] = _Registered(tuple(fields), rebuild)
    return cls


def _caller() -> Loc:
    """Where register_class was called (the frame above it)."""
    frame = sys._getframe(2)
    line = frame.f_lineno
    return Loc(frame.f_code.co_filename, line, 0,
               linecache.getline(frame.f_code.co_filename, line))


def registered(cls: type) -> bool:
    """Whether ``cls`` was given to ``register_class``."""
    return cls in _REGISTERED


class Static:
    """A non-differentiable part of a structure: equal to another for an equal number
    or string (of the same type), else for the same object."""

    __slots__ = ("value", "_key")

    def __init__(self, value: object):
        self.value = value
        self._key = (type(value), value) if by_value(value) else (type(value), id(value))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Static) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return f"Static({self.value!r:.40})"


def by_value(value: object) -> bool:
    """A number, string, None, or a tuple of them: compared by value."""
    if isinstance(value, tuple):
        return all(map(by_value, value))
    return value is None or isinstance(value, (numbers.Number, str, bytes, np.generic))


# Classes whose objects are not taken apart by their vars() (they are static, by
# identity): the standard library's, NumPy's, SciPy's, srcgrad's.
_NOT_PLAIN = frozenset(("numpy", "scipy", "srcgrad", *sys.stdlib_module_names))


def _plain(value: object) -> bool:
    """An instance of the user's own class (not the standard library's, NumPy's...),
    taken apart by its ``vars()``."""
    if isinstance(value, (type, types.ModuleType, types.FunctionType, types.MethodType,
                          types.BuiltinFunctionType, functools.partial)) or \
            arrays.library(value) is not None or arrays.unsupported(value):
        return False  # (an array of another library: a leaf, or refused by checks)
    module = (getattr(type(value), "__module__", None) or "builtins").split(".")[0]
    return module not in _NOT_PLAIN and hasattr(value, "__dict__")


def _namedtuple(value: object) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def fields_of(value: object, plain: bool) -> tuple[str, ...] | None:
    """The fields of an object srcgrad takes apart (None: not one); ``plain``: a plain
    object counts (its ``vars()``)."""
    reg = _REGISTERED.get(type(value))
    if reg is not None:
        return reg.fields
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(f.name for f in dataclasses.fields(value))
    if plain and _plain(value):
        return tuple(vars(value))
    return None


def _differentiable(value: object) -> bool:
    """A leaf inside an object: floats and arrays of floats (complex ones too, for
    ``checks`` to refuse); an integer or boolean array there is static (an index)."""
    if isinstance(value, (np.ndarray, np.generic)) or arrays.library(value) is not None:
        return value.dtype.kind in "fc"  # type: ignore[attr-defined]
    return isinstance(value, (float, complex)) or arrays.unsupported(value)  # (refused)


def is_structured(value: object, self_param: bool = False) -> bool:
    """Whether ``value`` is taken apart (``self_param``: it is passed as ``self``)."""
    return isinstance(value, (tuple, list, dict)) or fields_of(value, self_param) is not None


def constant_argument(value: object) -> bool:
    """A function (or a class, another callable) passed as an argument: a constant of
    every derivative, known while lowering (``Flat`` makes it a static structure)."""
    return callable(value) and not isinstance(value, (np.ndarray, np.generic,
                                                      numbers.Number)) and \
        not is_structured(value)


def flatten(value: object, self_param: bool = False) -> tuple[object, list[object]]:
    """(structure, leaves) of ``value`` (see the module docstring); ``self_param``: a
    plain object at the top is taken apart too."""
    leaves: list[object] = []
    return _flatten(value, leaves, False, self_param, ()), leaves


def _flatten(value: object, leaves: list, inside: bool, plain: bool, seen: tuple) -> object:
    if id(value) in seen:  # a cycle (a back reference): the object is a constant there
        return ("static", Static(value))
    if isinstance(value, dict):
        seen = (*seen, id(value))
        return ("dict", tuple((k, _flatten(v, leaves, inside, inside, seen))
                              for k, v in value.items()))
    if _namedtuple(value):
        names: tuple[str, ...] = type(value)._fields  # type: ignore[attr-defined]
        return ("namedtuple", type(value), tuple(
            (name, _flatten(v, leaves, True, True, (*seen, id(value))))
            for name, v in zip(names, value)))  # type: ignore[call-overload]
    if isinstance(value, (tuple, list)):
        seen = (*seen, id(value))
        return ("tuple" if isinstance(value, tuple) else "list",
                tuple(_flatten(v, leaves, inside, inside, seen) for v in value))
    fields = fields_of(value, plain or inside)
    if fields is not None:
        seen = (*seen, id(value))
        return ("object", type(value), tuple(
            (name, _flatten(_field(value, name), leaves, True, True, seen)) for name in fields))
    if inside and not _differentiable(value):
        return ("static", Static(value))
    leaves.append(value)
    return None


def _field(value: object, name: str) -> object:
    try:
        return getattr(value, name)
    except AttributeError:
        raise UsageError(f"{type(value).__name__} object has no attribute {name!r}, which "
                         "srcgrad.register_class named as a field", None,
                         "Set every field in the object, or register the class again "
                         "with the fields it has.") from None


def unflatten(structure: object, leaves: list[object] | Iterator[object], like: object
              ) -> object:
    """The value of ``like``'s structure holding ``leaves`` (in ``flatten``'s order)."""
    return _unflatten(structure, iter(leaves), like)


def _unflatten(structure: object, leaves: Iterator[object], like: object) -> object:
    if structure is None:
        return next(leaves)
    kind = structure[0]  # type: ignore[index]
    if kind == "static":
        return structure[1].value  # type: ignore[index]
    if kind == "dict":
        return {k: _unflatten(s, leaves, like[k])  # type: ignore[index]
                for k, s in structure[1]}  # type: ignore[index]
    if kind in ("tuple", "list"):
        items = [_unflatten(s, leaves, x) for s, x in zip(structure[1], like)]  # type: ignore
        return tuple(items) if kind == "tuple" else items
    cls, children = structure[1], structure[2]  # type: ignore[index]
    values = {name: _unflatten(s, leaves, getattr(like, name)) for name, s in children}
    if kind == "namedtuple":
        return cls._make(values[name] for name, _ in children)
    reg = _REGISTERED.get(cls)
    if reg is not None and reg.rebuild is not None:
        return reg.rebuild(like, values)
    new = copy.copy(like)
    for name, v in values.items():
        object.__setattr__(new, name, v)
    return new


def strip_static(structure: object) -> object:
    """``structure`` with its static parts' values left out (to compare a tangent's
    structure with its primal's)."""
    if structure is None:
        return None
    kind = structure[0]  # type: ignore[index]
    if kind == "static":
        return ("static",)
    if kind in ("tuple", "list"):
        return (kind, tuple(map(strip_static, structure[1])))  # type: ignore[index]
    if kind == "dict":
        return (kind, tuple((k, strip_static(s)) for k, s in structure[1]))  # type: ignore
    return (kind, structure[1], tuple((k, strip_static(s))  # type: ignore[index]
                                      for k, s in structure[2]))  # type: ignore[index]


def leaf_steps(structure: object) -> list[tuple[tuple[object, str], ...]]:
    """For each leaf (static fields have none), in order, the steps from the root to it:
    (selector, spelling) pairs, the selector a dict's key, a position in a tuple, list
    or NamedTuple, or an object's field name; the spelling as the user reads the step
    (``['W']``, ``[0]``, ``.W``)."""
    out: list[tuple[tuple[object, str], ...]] = []

    def walk(s: object, path: tuple) -> None:
        if s is None:
            out.append(path)
            return
        kind = s[0]  # type: ignore[index]
        if kind == "static":
            return
        if kind == "dict":
            for k, c in s[1]:  # type: ignore[index]
                walk(c, (*path, (k, f"[{k!r}]")))
        elif kind in ("tuple", "list"):
            for i, c in enumerate(s[1]):  # type: ignore[index]
                walk(c, (*path, (i, f"[{i}]")))
        else:  # a NamedTuple by position, an object by field
            for i, (k, c) in enumerate(s[2]):  # type: ignore[index]
                walk(c, (*path, (i if kind == "namedtuple" else k, f".{k}")))

    walk(structure, ())
    return out


def leaf_paths(structure: object, leaves: list[object], name: str
               ) -> list[tuple[str, object]]:
    """(path, leaf) for each leaf, the path spelled as the user reads it: ``p.W``,
    ``layers[0].b``, ``params['W']``."""
    return [(name + "".join(spelled for _, spelled in steps), leaf)
            for steps, leaf in zip(leaf_steps(structure), leaves)]


class Flat:
    """A call's arguments taken apart: per argument (structure, leaves); ``structures``,
    the key of the lowered function (parameter -> structure, structured ones only);
    ``leaves``, every leaf in order; ``starts[i]``, the index of argument i's first."""

    def __init__(self, names: list[str], args: tuple):
        self.names = names
        self.args = args
        self.parts = [(("static", Static(a)), []) if constant_argument(a) and n != "self"
                      else flatten(a, n == "self") for n, a in zip(names, args)]
        self.structures = tuple((n, s) for n, (s, _) in zip(names, self.parts)
                                if s is not None)
        self.leaves = [x for _, ls in self.parts for x in ls]
        self.starts = [0]
        for _, ls in self.parts:
            self.starts.append(self.starts[-1] + len(ls))

    def indices(self, i: int) -> range:
        """The leaf indices of argument ``i``."""
        return range(self.starts[i], self.starts[i + 1])

    def rebuild(self, i: int, leaves: list[object]) -> object:
        """Argument ``i``'s structure holding ``leaves`` (None for a function passed as
        an argument: it has no derivative)."""
        if self.parts[i][0] is not None and self.parts[i][0][0] == "static":  # type: ignore
            return None
        return unflatten(self.parts[i][0], leaves, self.args[i])
