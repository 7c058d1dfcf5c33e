"""The workbench's plots, built on alstudio.plotting's shared widgets; touched only on the GUI thread."""

from .acquisition import AcquisitionPlot
from .fairness import FairnessPlot
from .gallery import GalleryItem, QueryGallery
from .learning import LearningCurvePlot

__all__ = ["AcquisitionPlot", "FairnessPlot", "GalleryItem", "QueryGallery", "LearningCurvePlot"]
