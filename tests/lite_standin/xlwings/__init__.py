"""A stand-in for xlwings as xlwings Lite runs it (Pyodide), for running the Lite edition's main.py
under CPython.

xlwings' own runtime for custom functions (``xlwings/pro/udfs_officejs.py``: ``custom_functions_call``,
with ``to_scalar`` and the Office.js engine's ``clean_value_data`` in ``xlwings/pro/_xlofficejs.py``) is
in xlwings' ``pro`` subpackage, licensed under the PolyForm Noncommercial licence or a paid one and
refusing to import under CPython without a licence key, so the test suite of this project cannot run
it. This stand-in mirrors what those entry points do with the arguments (read there; not copied):

* the decorators record ``__xlfunc__`` with each argument's options and its default;
* Office.js sends every argument as a 2-D list, ``[[x]]`` for one cell; ``to_scalar`` turns a 1x1 list
  (or a one-item list) into its value, and a JavaScript ``null`` (Pyodide >= 0.28: ``JsNull``) into
  None; an argument that is then None takes the function's default (``arg_info["optional"]``);
* anything else is read by the converter: cells that are ``null``/``JsNull`` or ``""`` become None, an
  Office.js error value (``{"type": "Error", ...}``) becomes None; ``ndim=2`` keeps the 2-D list, and
  without it a single row or column becomes a flat list.

Not mirrored: the version handshake, type-hint converters (xlhedge's functions declare none),
varargs, streaming, object handles, the caller argument, the JavaScript side.
"""

import inspect

scripts = {}


class JsNull:
    """What Pyodide >= 0.28 hands Python for a JavaScript ``null`` (an empty cell, on Excel on the web)."""

    def __repr__(self):
        return "JsNull"


NULL = JsNull()


def func(f=None, **options):
    def inner(fn):
        if not hasattr(fn, "__xlfunc__"):
            params = list(inspect.signature(fn).parameters.values())
            fn.__xlfunc__ = {"name": fn.__name__, "options": options,
                             "args": {p.name: {"options": {}, "default": p.default} for p in params}}
        return fn

    return inner(f) if f is not None else inner


def arg(name, convert=None, **options):
    def inner(fn):
        info = func(fn).__xlfunc__["args"]
        if name not in info:
            raise Exception(f"Invalid argument name '{name}'.")
        options.pop("doc", None)
        info[name]["options"].update(options)
        return fn

    return inner


def ret(**options):
    return lambda fn: fn


def script(fn):
    scripts[fn.__name__] = fn
    return fn


class Book:  # only a type hint in main.py
    pass


def _is_null(value):
    return value is None or isinstance(value, JsNull)


def _to_scalar(value):
    """xlwings' to_scalar: a 1x1 (or one-item) list is its value; a JavaScript null is None."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0][0] if isinstance(value[0], (list, tuple)) and len(value[0]) == 1 else value[0]
    return None if _is_null(value) else value


def _clean(value):
    """The Office.js engine's cleaning of one cell: null and "" are empty, an error value is None."""
    if _is_null(value) or value == "":
        return None
    if isinstance(value, dict):
        return None if value.get("type") == "Error" else value.get("basicValue")
    return value


def _read(value, options):
    rows = value if isinstance(value, list) and value and isinstance(value[0], list) else [[value]]
    rows = [[_clean(v) for v in row] for row in rows]
    if len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0]
    if options.get("ndim") == 2:
        return rows
    if len(rows) == 1:
        return rows[0]
    if all(len(r) == 1 for r in rows):
        return [r[0] for r in rows]
    return rows


def call_like_lite(fn, *office_js_args):
    """Call a registered function as xlwings Lite does, with Office.js-shaped arguments."""
    info = fn.__xlfunc__["args"]
    names = list(info)
    values = []
    for name, value in zip(names, office_js_args, strict=False):  # trailing arguments left out
        scalar = _to_scalar(value)
        if scalar is None:  # an empty single cell: the function's default
            default = info[name]["default"]
            values.append(None if default is inspect.Parameter.empty else default)
        else:
            values.append(_read(value, info[name]["options"]))
    return fn(*values)
