"""A plot written to PNG or SVG, chosen by its file's extension."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (registers pg.exporters)
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator


def export_plot(plot: pg.PlotWidget, path: str | Path) -> Path:
    """Write the plot as PNG or SVG, chosen by the file's extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    item = plot.getPlotItem()
    if suffix == ".png":
        image = pg.exporters.ImageExporter(item).export(toBytes=True)
        if not image.save(str(path), "PNG"):
            raise OSError(f"{path}: cannot be written")
    elif suffix == ".svg":
        exporter = pg.exporters.SVGExporter(item)
        try:
            exporter.export(str(path))
        except ValueError:
            # pyqtgraph 0.14.0 cannot parse the closed paths ("... Z") that recent Qt (6.12 here) writes
            # (pyqtgraph issue #3495); draw the same item straight into Qt's SVG generator instead.
            _render_svg(plot, exporter, path)
    else:
        raise ValueError(f"{path.name}: a plot exports to .png or .svg, not {suffix or 'no extension'}")
    return path


def _render_svg(plot: pg.PlotWidget, exporter, path: Path) -> None:
    item = plot.getPlotItem()
    source = exporter.getSourceRect()
    target = QRectF(0, 0, source.width(), source.height())
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(source.size().toSize())
    generator.setViewBox(target)
    generator.setResolution(plot.logicalDpiX())  # axes replay QPictures, which rescale to a device of another dpi
    generator.setTitle(item.titleLabel.text or "plot")
    painter = QPainter(generator)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(target, plot.backgroundBrush())  # the view paints the background, not the scene
        exporter.setExportMode(True, {"painter": painter, "antialias": True, "background": None})
        item.scene().render(painter, target, source)
    finally:
        exporter.setExportMode(False)
        painter.end()
