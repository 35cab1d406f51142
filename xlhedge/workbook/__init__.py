"""The workbook template: layout contract, XlsxWriter builder, headless evaluation."""
