"""A stand-in for xlwings as xlwings Lite runs it (Pyodide), for running the Lite edition's main.py
under CPython. It records what the decorators declare, as xlwings' Office.js decorators do
(``__xlfunc__`` with each argument's options), and :func:`call_like_lite` passes arguments the way the
add-in does: Office.js sends every argument as a 2-D list ([[x]] for one cell, "" for an empty cell);
xlwings turns a 1x1 list into its value and reads the rest with the argument's options (ndim=2 keeps
the 2-D list; without it a single row or column becomes a flat list), empty cells as None.
(Read from xlwings/pro/udfs_officejs.py: to_scalar and conversion.read; not copied.)
"""

import inspect

scripts = {}


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


def _clean(value):
    return None if value == "" else value


def _read(value, options):
    rows = [[_clean(v) for v in row] for row in value]
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
        read = _read(value, info[name]["options"])
        values.append(read)
    return fn(*values)


