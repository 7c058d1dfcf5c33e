"""A plot of one metric against the labeled count: per strategy a mean line, a band over seeds (the
95 % CI of the mean from three seeds on, else ± std: engine.results.curve_band), and each seed faintly
behind."""

from __future__ import annotations

import html
import math
import zlib

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetricsF
from PySide6.QtWidgets import QGraphicsGridLayout, QGraphicsSimpleTextItem

from ..engine.results import band_caption, curve_band

# Colour-blind-safe palette (Okabe & Ito, then Paul Tol's muted wine, indigo and teal for the
# fairness baselines), one colour per strategy in a fixed order.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000", "#999999",
           "#882255", "#332288", "#44AA99")
STRATEGY_ORDER = ("random", "bald", "entropy", "margin", "least_confidence", "batchbald", "power_bald",
                  "learning_loss", "coreset", "balanced_bald", "balanced_random", "representative_bald")
TITLE_SIZE = 4 / 3  # the title's size against the rest of a plot's text
_TITLE_ROW = 30  # pyqtgraph's title row height, kept while the title fits in it
_LEGEND_GAP = 8  # between the axes and a legend on their right
_LABEL_STEPS = 6  # a reference line's label may go at so many steps from the right end to the left


def strategy_color(strategy: str) -> QColor:
    # Any other name: a colour from a stable hash of it (str hashes differ from run to run).
    index = STRATEGY_ORDER.index(strategy) if strategy in STRATEGY_ORDER else zlib.crc32(strategy.encode())
    return QColor(PALETTE[index % len(PALETTE)])


def palette_colors(names) -> dict[str, str]:
    """A palette colour per curve name, in order: for compared experiments, whose strategies repeat."""
    return {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(names)}


def text_font(scale: float = 1.0, relative: float = 1.0) -> QFont:
    """The desktop's normal font times `scale` (lecture mode) and `relative` (a title). Plot text is
    sized from the desktop's font, not the application's, which lecture mode itself enlarges."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
    points = font.pointSizeF() if font.pointSizeF() > 0 else 9.0
    font.setPointSizeF(points * scale * relative)
    return font


def _with_alpha(color: QColor, alpha: int) -> QColor:
    faded = QColor(color)
    faded.setAlpha(alpha)
    return faded


def _elided(text: str, font: QFont, room: float) -> str:
    return QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, max(room, 24.0))


def _in_two_lines(text: str, font: QFont, room: float) -> list[str]:
    """An axis label on one line where it fits, else broken at the space that balances two lines
    best, each elided if still too long."""
    metrics = QFontMetricsF(font)
    words = text.split(" ")
    if metrics.horizontalAdvance(text) <= room or len(words) < 2:
        return [_elided(text, font, room)]
    halves = [(" ".join(words[:cut]), " ".join(words[cut:])) for cut in range(1, len(words))]
    first, second = min(halves, key=lambda pair: max(metrics.horizontalAdvance(part) for part in pair))
    return [_elided(first, font, room), _elided(second, font, room)]


class FlowLegend(pg.LegendItem):
    """pyqtgraph's legend with its entries laid out anew, in rows of `columnCount`, whenever that or
    the entries change: pyqtgraph re-uses its grid, whose rows and columns never shrink, so entries
    land after empty rows and columns."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.layout.setContentsMargins(0, 0, 0, 0)  # its row above the axes has a gap of its own

    def _addItemToLayout(self, sample, label) -> None:
        self._place(len(self.items) - 1, sample, label)  # addItem lays out the entry it has just appended

    def _place(self, index: int, sample, label) -> None:
        row, column = divmod(index, self.columnCount)
        self.layout.addItem(sample, row, 2 * column, alignment=Qt.AlignmentFlag.AlignVCenter)
        self.layout.addItem(label, row, 2 * column + 1)
        self.rowCount = row + 1

    def setColumnCount(self, columnCount: int) -> None:
        if columnCount != self.columnCount:
            self.columnCount = columnCount
            self._lay_out_again()

    def removeItem(self, item) -> None:
        super().removeItem(item)
        self._lay_out_again()

    def clear(self) -> None:
        super().clear()
        self._lay_out_again()

    def _lay_out_again(self) -> None:
        old = self.layout
        for index in reversed(range(old.count())):
            old.removeAt(index)
        self.layout = QGraphicsGridLayout()
        self.layout.setContentsMargins(*old.getContentsMargins())
        self.layout.setHorizontalSpacing(old.horizontalSpacing())
        self.layout.setVerticalSpacing(old.verticalSpacing())
        self.setLayout(self.layout)  # deletes the old grid, not the entries
        for index, (sample, label) in enumerate(self.items):
            self._place(index, sample, label)
        self.updateSize()


class CurvePlot(pg.PlotWidget):
    """Every text (title, axis labels, ticks, legend, line labels) is sized by `set_text_scale`, and
    the title and axis labels fit where the plot is small; the legend sits outside the axes, where it
    hides no curve; reference lines' labels avoid curves and each other; without data the axes show
    no numbers but a "no data yet" note. "{band}" in the title is replaced by what the band shows
    ("mean, 95 % CI over 5 seeds", engine.results.band_caption)."""

    def __init__(self, title: str, y_label: str, y_units: str | None = None, parent=None,
                 line_width: float = 2.5, colors: dict[str, str] | None = None):
        super().__init__(parent=parent, background="w")
        self.line_width = line_width
        self.text_scale = 1.0
        self.title_format = title
        self.title = title.replace("{band}", band_caption([]))
        self.colors = dict(colors or {})  # curve name -> colour, for curves that are not strategies
        self.plotItem.setLabel("bottom", "labeled images")
        self.plotItem.setLabel("left", y_label, units=y_units)
        self.legend = self.plotItem.legend = FlowLegend(labelTextColor="#222")  # named curves join it
        self.legend.setParentItem(self.plotItem)  # not the view box's: that clips its children
        self.legend_on_right = False
        self._right_margin = self.plotItem.layout.getContentsMargins()[2]
        self.plotItem.vb.sigResized.connect(self._place_legend)
        self.plotItem.vb.sigResized.connect(self._fit_texts)  # the left axis widens with its numbers
        self.plotItem.vb.sigRangeChanged.connect(self._place_line_labels)  # the curves move under them
        for axis in ("left", "bottom"):
            self.getAxis(axis).enableAutoSIPrefix(False)  # shares and accuracies read best as plain numbers
            self.getAxis(axis).setTextPen("#333")
            self.getAxis(axis).setPen("#666")
        self.empty_note = QGraphicsSimpleTextItem("no data yet", self.plotItem.vb)
        self.empty_note.setBrush(QColor("#777"))
        self.plotItem.vb.sigResized.connect(self._place_empty_note)
        self._items: dict[str, dict] = {}
        self._references: list = []
        self._ready = True
        self._apply_text_sizes()
        self._show_data(False)

    # -- text and layout -------------------------------------------------------------------------
    def set_text_scale(self, scale: float) -> None:
        """Every text of the plot at `scale` times its normal size (lecture mode: 1.5)."""
        self.text_scale = scale
        self._apply_text_sizes()

    def setLabel(self, *args, **kwargs) -> None:
        self.plotItem.setLabel(*args, **kwargs)
        self._fit_texts()  # the new label may need another line, or one less

    def _apply_text_sizes(self) -> None:
        text = text_font(self.text_scale)
        points = f"{text.pointSizeF():.4g}pt"
        for name in ("left", "bottom"):
            axis = self.getAxis(name)
            axis.setTickFont(text)
            axis.setLabel(axis.labelText, axis.labelUnits, axis.labelUnitPrefix,
                          **{**axis.labelStyle, "font-size": points})
        self.legend.setLabelTextSize(points)  # for entries to come: pyqtgraph 0.14 leaves those shown as they are
        for _, label in self.legend.items:
            label.setText(label.text, size=points)
        for line in self._references:
            line.label.setFont(text)
        self.empty_note.setFont(text)
        self._place_empty_note()
        self._fit_legend()
        self._fit_texts()

    def resizeEvent(self, event) -> None:
        if "_ready" in self.__dict__ and self.plotItem is not None:  # not while being built or closed
            self._fit_legend()
            self._fit_texts(self.size())
        super().resizeEvent(event)

    def _fit_texts(self, size=None) -> None:
        """The title elided and the axis labels in two lines (elided if need be) where the plot is too
        small for them: a longer title would push the axes out of the view, a longer axis label would
        be cut off."""
        if "_ready" not in self.__dict__:
            return
        size = size if isinstance(size, QSize) else self.size()
        left, bottom, box = self.getAxis("left"), self.getAxis("bottom"), self.plotItem.vb.geometry()
        font = text_font(self.text_scale, TITLE_SIZE)
        label = self.plotItem.titleLabel
        right_margin = self.plotItem.layout.getContentsMargins()[2]
        shown = _elided(self.title, font, size.width() - left.width() - right_margin - 16)
        if label.text != shown or label.opts.get("size") != f"{font.pointSizeF():.4g}pt":
            self.setTitle(shown, color="#222", size=f"{font.pointSizeF():.4g}pt")
            height = max(_TITLE_ROW, math.ceil(label.item.boundingRect().height()))
            label.setMaximumHeight(height)
            self.plotItem.layout.setRowFixedHeight(0, height)
        text = text_font(self.text_scale)
        for axis, room in ((bottom, min(box.width(), size.width() - left.width())), (left, box.height())):
            axis.label.setHtml(axis.labelString())
            full = axis.label.toPlainText().strip()
            lines = _in_two_lines(full, text, room - 10)
            if lines != [full]:
                style = ";".join(f"{key}: {value}" for key, value in axis.labelStyle.items())
                axis.label.setHtml(f"<p align='center' style='{style}'>"
                                   f"{'<br>'.join(html.escape(line) for line in lines)}</p>")
            axis.showLabel(bool(axis.labelText or axis.labelUnits))  # room for its lines
            axis.resizeEvent()  # centres it
        self._place_line_labels()
        if self.plotItem.geometry().width() > size.width() + 0.5:
            # Grown while an axis widened, before the title was elided again: back into the view.
            self.plotItem.setGeometry(QRectF(0, 0, size.width(), size.height()))

    def _fit_legend(self) -> None:
        """The legend outside the axes, where it covers no curve: in a row of its own above them,
        its entries in as many columns as fit, or in a column on their right where that leaves the
        curves more room (a short, wide plot)."""
        if "_ready" not in self.__dict__:
            return
        legend, layout = self.legend, self.plotItem.layout
        widths, height = [], 0.0
        for sample, label in legend.items:
            label.updateMin()
            widths.append(sample.boundingRect().width() + label.minimumWidth() + 2 * legend.layout.horizontalSpacing())
            height = max(height, sample.boundingRect().height(), label.minimumHeight())
        room = self.width() - self.getAxis("left").width() - self._right_margin - 8
        columns = len(widths)
        while columns > 1 and sum(max(widths[j::columns]) for j in range(columns)) > room:
            columns -= 1
        axes_height = self.height() - layout.rowMaximumHeight(0) - self.getAxis("bottom").height() - 8
        above = room * (axes_height - math.ceil(len(widths) / max(columns, 1)) * height - 4)
        right = (room - max(widths, default=0) - _LEGEND_GAP) * axes_height
        self.legend_on_right = bool(widths) and right > above and len(widths) * height <= axes_height
        legend.setColumnCount(1 if self.legend_on_right else max(columns, 1))
        legend.layout.activate()  # its entries' sizes, for its own
        legend.updateSize()
        size = legend.boundingRect()
        left, top, _, bottom = layout.getContentsMargins()
        layout.setContentsMargins(left, top, self._right_margin + (size.width() + _LEGEND_GAP
                                                                   if self.legend_on_right else 0), bottom)
        layout.setRowFixedHeight(1, size.height() + 4 if widths and not self.legend_on_right else 0)
        self._place_legend()

    def _place_legend(self) -> None:
        """Right-aligned just above the axes' box, or at its top right beside it."""
        box, size = self.plotItem.vb.geometry(), self.legend.boundingRect()
        if self.legend_on_right:
            self.legend.setPos(box.right() + _LEGEND_GAP, box.top())
        else:
            self.legend.setPos(box.right() - size.width(), box.top() - size.height() - 2)

    # -- empty state -----------------------------------------------------------------------------
    def _data_items(self) -> list[pg.PlotDataItem]:
        return [items["mean"] for items in self._items.values()]

    def has_data(self) -> bool:
        return any(item.xData is not None and len(item.xData) for item in self._data_items())

    def _show_data_state(self) -> None:
        self._show_data(self.has_data())

    def _show_data(self, has_data: bool) -> None:
        """Ticks, numbers and a grid only with data: an empty plot's 0-1 axes would mean nothing."""
        for name in ("left", "bottom"):
            self.getAxis(name).setTicks(None if has_data else [])  # None: pyqtgraph's own ticks
        self.showGrid(x=has_data, y=has_data, alpha=0.25)
        self.empty_note.setVisible(not has_data)

    def _place_empty_note(self) -> None:
        """Centred, at the first height clear of every reference line and its label (a 50 % base rate
        runs through the middle); left-aligned at the clearest height if there is none."""
        box, note = self.plotItem.vb.rect(), self.empty_note.boundingRect()
        clearance = note.height() / 2 + QFontMetricsF(text_font(self.text_scale)).height() + 4
        lines = [self.plotItem.vb.mapFromView(QPointF(0, line.value())).y() for line in self._references]

        def gap(y: float) -> float:
            return min((abs(y - line) for line in lines), default=math.inf)

        heights = [box.top() + box.height() * share for share in (1 / 3, 2 / 3, 1 / 6, 5 / 6, 1 / 2)]
        clear = [y for y in heights if gap(y) >= clearance]
        y = clear[0] if clear else max(heights, key=gap)
        x = box.center().x() - note.width() / 2 if clear else box.left() + 8
        self.empty_note.setPos(x, y - note.height() / 2)

    # -- curves ----------------------------------------------------------------------------------
    def set_curves(self, curves: dict[str, dict]) -> None:
        """`curves` as from engine.results.curves: strategy -> x, mean, std, n, ci_low, ci_high, seeds
        [S, len(x)] (a curve without n and the CI gets them from its seeds)."""
        for strategy, data in curves.items():
            items = self._items.get(strategy) or self._create(strategy)
            items["data"] = data
            x, mean = data["x"], data["mean"]
            finite = np.isfinite(mean)
            items["mean"].setData(x[finite], mean[finite])
            low, high, _ = curve_band(data)
            items["low"].setData(x[finite], low[finite])
            items["high"].setData(x[finite], high[finite])
            seeds = data["seeds"]
            while len(items["seeds"]) < len(seeds):
                line = self.plot(pen=pg.mkPen(_with_alpha(self.color(strategy), 70), width=1))
                line.setZValue(-5)
                items["seeds"].append(line)
            for line, row in zip(items["seeds"], seeds):
                ok = np.isfinite(row)
                line.setData(x[ok], row[ok])
        self.show_band_caption(items["data"] for items in self._items.values() if "data" in items)
        self._show_data_state()
        self._place_line_labels()

    def show_band_caption(self, curves) -> None:
        """The title says which band the curves (curves() entries) are drawn with."""
        title = self.title_format.replace("{band}", band_caption(curves))
        if title != self.title:
            self.title = title
            self._fit_texts()

    def color(self, name: str) -> QColor:
        return QColor(self.colors[name]) if name in self.colors else strategy_color(name)

    def _create(self, strategy: str) -> dict:
        color = self.color(strategy)
        low = pg.PlotDataItem(pen=pg.mkPen(None))
        high = pg.PlotDataItem(pen=pg.mkPen(None))
        band = pg.FillBetweenItem(low, high, brush=pg.mkBrush(_with_alpha(color, 50)))
        band.setZValue(-10)
        self.addItem(band)
        mean = self.plot(name=strategy, pen=pg.mkPen(color, width=self.line_width),
                         symbol="o", symbolSize=5, symbolBrush=color, symbolPen=None)
        items = {"mean": mean, "low": low, "high": high, "band": band, "seeds": []}
        self._items[strategy] = items
        self._fit_legend()
        return items

    def set_line_width(self, width: float) -> None:
        """Thicker mean lines for a projector (lecture mode)."""
        self.line_width = width
        for strategy, items in self._items.items():
            items["mean"].setPen(pg.mkPen(self.color(strategy), width=width))

    def add_reference(self, value: float, label: str, short: str | None = None) -> pg.InfiniteLine:
        """A dashed horizontal line, e.g. the pool's base rate of a group, labeled where no curve and
        no other label runs (see _place_line_labels); `short` is the label where `label` does not fit."""
        line = pg.InfiniteLine(pos=value, angle=0, movable=False,
                               pen=pg.mkPen("#555", width=1.5, style=Qt.PenStyle.DashLine), label=label,
                               labelOpts={"position": 0.97, "color": "#333",
                                          # readable where no free spot is left and a curve runs under it
                                          "fill": (255, 255, 255, 210), "anchors": [(1, 1), (1, 1)]})
        line.label.setFont(text_font(self.text_scale))
        line.setZValue(-20)
        line.label_texts = (label, short or label)
        self.addItem(line)
        self._references.append(line)
        self._fit_texts()
        return line

    def _place_line_labels(self) -> None:
        """Each reference line's label at the spot along it, above or below, that overlaps no other
        label, crosses no other reference line and covers the fewest curve points; of equals the
        rightmost (the newest points are what a room looks at), above before below, the full label
        before the short one."""
        view = self.plotItem.vb
        box = view.mapRectToScene(view.rect())
        if not self._references or box.width() < 1 or box.height() < 1:
            return
        points = self._curve_points_in_scene()
        heights = {line: view.mapViewToScene(QPointF(0, line.value())).y() for line in self._references}
        margin = self.line_width / 2 + 1
        placed: list[QRectF] = []
        for line in sorted(self._references, key=lambda line: -line.value()):
            # Worked out here rather than read back: pyqtgraph moves a label only when it next paints.
            label, y, spots = line.label, heights[line], []
            for shortness, text in enumerate(dict.fromkeys(line.label_texts)):
                label.setFormat(text)
                blank = label.textItem.document().documentMargin()
                size = label.textItem.boundingRect().size()
                slack = box.width() - size.width() - 8
                for step in range(_LABEL_STEPS + 1):
                    right = box.right() - 4 - max(slack, 0) * step / _LABEL_STEPS
                    for above in (True, False):
                        rect = QRectF(right - size.width(), y - size.height() if above else y,
                                      size.width(), size.height())
                        spots.append((shortness, text, (right - box.left()) / box.width(),
                                      (1, 1) if above else (1, 0), rect.adjusted(blank, blank, -blank, -blank)))

            reach = max(spot[4].height() for spot in spots) + margin + 8
            near = [point for point in points if abs(point.y() - y) <= reach]  # all a label here can cover

            def cost(spot, line=line, near=near):
                text = spot[4]
                return (not box.contains(text),
                        sum(text.adjusted(-4, 0, 4, 0).intersects(other) for other in placed),
                        sum(text.top() <= other_y <= text.bottom() for other, other_y in heights.items()
                            if other is not line),
                        sum(text.adjusted(-margin, -margin, margin, margin).contains(point) for point in near),
                        spot[0])

            _, text, position, anchor, rect = min(spots, key=cost)
            label.setFormat(text)
            label.anchors = [anchor, anchor]
            label.setPosition(position)
            placed.append(rect)

    def _curve_points_in_scene(self, step: float = 3.0) -> list[QPointF]:
        """Points every `step` pixels along every curve shown."""
        view, points = self.plotItem.vb, []
        for item in self._data_items():
            if not item.isVisible() or item.xData is None or not len(item.xData):
                continue
            corners = [view.mapViewToScene(QPointF(x, y)) for x, y in zip(item.xData, item.yData)]
            points.append(corners[0])
            for start, end in zip(corners, corners[1:]):
                steps = max(1, math.ceil(math.hypot(end.x() - start.x(), end.y() - start.y()) / step))
                points.extend(start + (end - start) * (k / steps) for k in range(1, steps + 1))
        return points

    def clear_curves(self) -> None:
        """Remove every curve (its line, band and seeds) and its legend entry."""
        for items in self._items.values():
            for item in (items["mean"], items["low"], items["high"], items["band"], *items["seeds"]):
                self.removeItem(item)
        self.legend.clear()
        self._items.clear()
        self.show_band_caption([])
        self._fit_legend()
        self._show_data_state()

    def curve_names(self) -> list[str]:
        return list(self._items)

    def point_count(self, strategy: str) -> int:
        items = self._items.get(strategy)
        return 0 if items is None else len(items["mean"].xData if items["mean"].xData is not None else [])
