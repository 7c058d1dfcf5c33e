"""pyqtgraph plots of experiment curves; touched only on the GUI thread."""

from .curves import CurvePlot, strategy_color

__all__ = ["CurvePlot", "strategy_color"]
