"""Where each cell of a sweep stands: runs done, running, failed and pending, and its time left."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from ...engine.progress import eta_text
from ...engine.sweep import CellStatus, SweepStatus

COLUMNS = (("Cell", "The cell's folder under cells/ (its axis values)"),
           ("Done", "Runs finished"),
           ("Running", "Runs a driver is running now"),
           ("Failed", "Runs that failed every attempt (failures.json has their errors)"),
           ("Pending", "Runs not started yet, or stopped and waiting to be resumed"),
           ("Time left", "Measured by the driver running in this window; a sweep run elsewhere shows none"))


def time_left(cell: CellStatus) -> str:
    if cell.done + cell.failed >= cell.runs:
        return "done" if not cell.failed else "ended"
    return eta_text(cell.eta_seconds).removesuffix(" left").removeprefix("about ") or "—"


class CellStatusTable(QTableWidget):
    """One row per cell, in the grid's order; `show_status` refreshes the counts in place."""

    def __init__(self, cells: list[str], parent: QWidget | None = None):
        super().__init__(len(cells), len(COLUMNS), parent)
        self.setObjectName("sweepCellStatus")
        self.setAccessibleName("Runs per cell")
        self.setToolTip("Where each cell stands; Enter or a double-click opens the cell's plots")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        for column, (title, tip) in enumerate(COLUMNS):
            header = QTableWidgetItem(title)
            header.setToolTip(tip)
            self.setHorizontalHeaderItem(column, header)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for row, cell in enumerate(cells):
            self.setItem(row, 0, QTableWidgetItem(cell))
            for column in range(1, len(COLUMNS)):
                item = QTableWidgetItem("")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, column, item)
        self.resizeColumnsToContents()

    def show_status(self, status: SweepStatus) -> None:
        for row, cell in enumerate(status.cells[:self.rowCount()]):
            values = (cell.done, cell.running, cell.failed, cell.pending)
            for column, value in enumerate(values, start=1):
                self.item(row, column).setText(f"{value}/{cell.runs}" if column == 1 else str(value))
            self.item(row, 5).setText(time_left(cell))

    def cell_at(self, row: int) -> str:
        return self.item(row, 0).text()
