"""pyqtgraph plots of experiment curves; touched only on the GUI thread."""

from .acquisition import AcquisitionPlot
from .curves import CurvePlot, strategy_color
from .fairness import FairnessPlot, export_plot
from .gallery import GalleryItem, QueryGallery
from .learning import LearningCurvePlot

__all__ = ["CurvePlot", "strategy_color", "AcquisitionPlot", "FairnessPlot",
           "export_plot", "GalleryItem", "QueryGallery", "LearningCurvePlot"]
