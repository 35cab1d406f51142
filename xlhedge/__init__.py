"""xlhedge: insure spot crypto holdings with short perpetual futures.

The pure maths lives in :mod:`xlhedge.engine`, exchange data in
:mod:`xlhedge.market`, the Excel functions in :mod:`xlhedge.udfs` and the
workbook template builder in :mod:`xlhedge.workbook`.
"""

__version__ = "0.1.0"
