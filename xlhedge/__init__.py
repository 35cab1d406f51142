"""xlhedge: insure spot crypto holdings with short perpetual futures.

The pure maths lives in :mod:`xlhedge.engine`, exchange data in
:mod:`xlhedge.market`, the Excel functions in :mod:`xlhedge.udfs` and the
workbook template builder in :mod:`xlhedge.workbook`.
"""

from xlhedge.version import __version__

__all__ = ["__version__", "main"]


def main() -> None:
    """What the workbook's buttons run ("Refresh market data", and "Run backtest" on the Backtest sheet).

    The buttons call xlwings' ``SampleCall`` macro, which runs
    ``import <workbook name>; <workbook name>.main()``: for the template,
    ``xlhedge.xlsm``, that is this function. Renamed workbooks reach the same
    dispatch (:func:`xlhedge.buttons.clicked`) through :mod:`xlhedge.bridge`.
    """
    from xlhedge.buttons import clicked

    clicked()
