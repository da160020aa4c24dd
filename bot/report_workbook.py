"""`sipas report --format xlsx`: the printable workbook of a period's report.

`build_workbook` lays out the `ReportData` that `bot.report_output.collect` gathers as one
sheet per level — "Cơ quan" (`AGENCY_SHEET`), "Thủ tục" (`PROCEDURE_SHEET`), "Công chức"
(`OFFICER_SHEET`) — then "Theo kênh" (`CHANNEL_SHEET`) and "Tin nhắn tính phí" (`PAID_SHEET`)
when the period has such figures, with Vietnamese headers, styled for printing (landscape, fit
to width, the header repeated on every page); text cells stay text, never formulas.
`write_xlsx` saves it through a temporary file; `default_xlsx_name` and `period_text` name the
file and the period. The channel and paid sheets' columns live in `bot.report_output`, since
they also define the frames the CSV tables print. openpyxl is imported only when a workbook is
built.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from bot.report_output import CHANNEL_SHEET, PAID_SHEET, Column, ReportData, missing_value
from scoring.sipas import SIPAS, N

FACTOR_NAMES = {
    1: "Tiếp cận dịch vụ",
    2: "Thủ tục hành chính",
    3: "Công chức",
    4: "Kết quả",
    5: "Phản ánh, kiến nghị",
}

_FACTOR_COLUMNS = [
    Column(f"factor_{f}", f"Yếu tố {f}: {name} (%)", 14, "pct") for f, name in FACTOR_NAMES.items()
]
AGENCY_SHEET = [
    Column("MaCoQuan", "Mã cơ quan", 18, "text"),
    Column("name", "Tên cơ quan", 40, "text"),
    Column("responses", "Số phiếu khảo sát", 11, "int"),
    Column("sipas", "SIPAS (%)", 10, "pct"),
    *_FACTOR_COLUMNS,
    Column("cases", "Hồ sơ tiếp nhận", 11, "int"),
    Column("on_time_rate", "Tỷ lệ đúng hạn (%)", 11, "pct"),
    Column("late", "Hồ sơ trễ hạn", 10, "int"),
    Column("overdue_open", "Đang xử lý quá hạn", 11, "int"),
]
PROCEDURE_SHEET = [
    Column("procedure_code", "Mã thủ tục", 16, "text"),
    Column("name", "Tên thủ tục", 50, "text"),
    Column(N, "Số câu trả lời", 11, "int"),
    Column(SIPAS, "SIPAS (%)", 10, "pct"),
    *_FACTOR_COLUMNS,
]
OFFICER_SHEET = [
    Column("agency_code", "Mã cơ quan", 18, "text"),
    Column("agency_name", "Cơ quan", 32, "text"),
    Column("officer_name", "Công chức", 26, "text"),
    Column(N, "Số câu trả lời", 11, "int"),
    Column(SIPAS, "SIPAS (%)", 10, "pct"),
    *_FACTOR_COLUMNS,
]


def default_xlsx_name(start: date, end: date) -> str:
    return f"sipas-report-{start.isoformat()}-{end.isoformat()}.xlsx"


def period_text(start: date, end: date) -> str:
    return f"từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}"


def _sheet(
    book: Any, title: str, heading: str, columns: Sequence[Column], frame: pd.DataFrame
) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    sheet = book.create_sheet(title)
    last = get_column_letter(len(columns))
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    sheet["A1"] = heading
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A1"].alignment = Alignment(horizontal="left", vertical="center")
    sheet.merge_cells(f"A1:{last}1")
    sheet.row_dimensions[1].height = 24

    fill = PatternFill(fill_type="solid", start_color="FFD9E1F2", end_color="FFD9E1F2")
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=2, column=index, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.row_dimensions[2].height = 48

    for offset, record in enumerate(frame.to_dict("records")):
        row = 3 + offset
        for index, column in enumerate(columns, start=1):
            value = record.get(column.key)
            cell = sheet.cell(row=row, column=index)
            cell.border = border
            if missing_value(value):
                continue
            if column.kind == "pct":
                cell.value = float(value)
                cell.number_format = "0.0"
            elif column.kind == "int":
                cell.value = int(value)
                cell.number_format = "0"
            else:
                cell.value = str(value)
                # openpyxl takes a string starting with "=" as a formula; this one is text.
                cell.data_type = "s"
                cell.alignment = Alignment(wrap_text=True, vertical="top")

    sheet.freeze_panes = "A3"
    if len(frame):
        sheet.auto_filter.ref = f"A2:{last}{2 + len(frame)}"
    sheet.print_title_rows = "1:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = "Trang &P / &N"


def build_workbook(data: ReportData) -> Any:
    """The workbook: sheets "Cơ quan", "Thủ tục", "Công chức", then "Theo kênh" and "Tin
    nhắn tính phí" when the period has such figures (no empty page to print otherwise)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    period = period_text(data.start, data.end)
    _sheet(
        book,
        "Cơ quan",
        f"Chỉ số hài lòng (SIPAS) và tiến độ giải quyết hồ sơ theo cơ quan, {period}",
        AGENCY_SHEET,
        data.agencies,
    )
    _sheet(
        book,
        "Thủ tục",
        f"Chỉ số hài lòng (SIPAS) theo thủ tục, {period}",
        PROCEDURE_SHEET,
        data.procedures,
    )
    _sheet(
        book,
        "Công chức",
        f"Chỉ số hài lòng (SIPAS) theo công chức, {period}",
        OFFICER_SHEET,
        data.officers,
    )
    if len(data.channels):
        heading = f"Tỷ lệ trả lời khảo sát theo kênh (phiếu mời trong kỳ), {period}"
        _sheet(book, "Theo kênh", heading, CHANNEL_SHEET, data.channels)
    if len(data.paid):
        months = f"các tháng {data.start:%m/%Y} – {data.end:%m/%Y}"
        heading = f"Tin nhắn cơ quan trả phí (ZNS, Zalo OA sau 48 giờ) theo tháng, {months}"
        _sheet(book, "Tin nhắn tính phí", heading, PAID_SHEET, data.paid)
    return book


def write_xlsx(data: ReportData, path: Path) -> Path:
    """Write the workbook to `path` (through a temporary file, so no half-written report)."""
    book = build_workbook(data)
    target = path.resolve()
    handle, temporary = tempfile.mkstemp(prefix=".sipas-report-", suffix=".xlsx", dir=target.parent)
    os.close(handle)
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)  # mkstemp makes it private; a report is not
        book.save(temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


__all__ = [
    "AGENCY_SHEET",
    "OFFICER_SHEET",
    "PROCEDURE_SHEET",
    "build_workbook",
    "default_xlsx_name",
    "write_xlsx",
]
