"""xlhedge: insure spot crypto holdings with short perpetual futures.

The pure maths lives in :mod:`xlhedge.engine`, exchange data in
:mod:`xlhedge.market`, the Excel functions in :mod:`xlhedge.udfs` and the
workbook template builder in :mod:`xlhedge.workbook`.
"""

__version__ = "0.1.0"


def main() -> None:
    """What the workbook's "Refresh market data" button runs.

    The button calls xlwings' ``SampleCall`` macro, which runs
    ``import <workbook name>; <workbook name>.main()``: for the template,
    ``xlhedge.xlsm``, that is this function. Renamed workbooks reach the same
    refresh through :mod:`xlhedge.bridge`.
    """
    from xlhedge.refresh import refresh_caller

    refresh_caller()
