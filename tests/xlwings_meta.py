"""Apply xlwings' real Windows UDF decorators to xlhedge.udfs, headlessly.

On Linux ``xlwings.func/arg/ret`` are no-ops; the real ones live in
``xlwings.udfs``, which imports pywin32. Run as a script (in its own process,
so the stubs never leak into other tests), this stubs the three pywin32
modules, swaps the decorators in, imports ``xlhedge.udfs`` and prints JSON:
each function's ``__xlfunc__`` metadata and the VBA wrapper xlwings would
write into the workbook on "Import Functions".
"""

import io
import json
import sys
import types


def main() -> None:
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["pythoncom"].CoInitialize = lambda: None
    sys.modules["win32com.client"].Dispatch = lambda *a, **k: None
    sys.modules["win32com"].client = sys.modules["win32com.client"]

    import xlwings
    import xlwings.udfs as real

    xlwings.func, xlwings.arg, xlwings.ret = real.xlfunc, real.xlarg, real.xlret
    import xlhedge.udfs as module

    class Book:
        Name = "xlhedge.xlsm"

    vba = io.StringIO()
    real.generate_vba_wrapper("xlhedge.udfs", module, vba, Book())
    meta = {}
    for name, func in module.UDFS.items():
        info = func.__xlfunc__
        meta[name] = {
            "category": info["category"],
            "doc": info["ret"]["doc"],
            "args": [
                {
                    "name": a["name"],
                    "doc": a["doc"],
                    "optional": "optional" in a,
                    "default": a.get("optional"),
                    "options": {k: v for k, v in a["options"].items() if k != "convert"},
                }
                for a in info["args"]
            ],
        }
    json.dump({"functions": meta, "vba": vba.getvalue()}, sys.stdout, default=str)


if __name__ == "__main__":
    main()
