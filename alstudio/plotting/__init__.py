"""Qt + pyqtgraph plot widgets shared by the workbench (alstudio.gui) and `alstudio report`: curves with
their mean and band over seeds, the palette, plot fonts, PNG/SVG export. No workbench state here, so
the report draws without the GUI package (import-linter contract in pyproject.toml)."""

from .curves import CurvePlot, palette_colors, strategy_color, text_font
from .export import export_plot

__all__ = ["CurvePlot", "palette_colors", "strategy_color", "text_font", "export_plot"]
