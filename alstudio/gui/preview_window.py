"""The first window of the workbench: pick a preset and see its biased dataset."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from ..engine import config as configs
from ..engine.data.preview import preview_image
from .dataset_loader import DatasetLoader


def to_pixmap(image) -> QPixmap:
    """A PIL RGB image as a QPixmap (the bytes are copied)."""
    data = image.tobytes()
    qimage = QImage(data, image.width, image.height, 3 * image.width, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(qimage.copy())


class FittedImage(QLabel):
    """Shows a pixmap scaled to the label's size, keeping its aspect ratio."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._source: QPixmap | None = None
        self.setMinimumSize(200, 150)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def set_source(self, pixmap: QPixmap) -> None:
        self._source = pixmap
        self._fit()

    def source(self) -> QPixmap | None:
        return self._source

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._source is not None:
            self.setPixmap(self._source.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation))


class PreviewWindow(QMainWindow):
    def __init__(self, config: configs.ExperimentConfig, preset: str | None = None, workers: int | None = None):
        super().__init__()
        self.setWindowTitle("alstudio — dataset preview")
        self.setObjectName("previewWindow")
        self.config = config
        self.loader = DatasetLoader(self, workers)
        self.loader.progress.connect(self._on_progress)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)

        self.preset_box = QComboBox(objectName="presetBox")
        self.preset_box.setAccessibleName("Preset")
        self.preset_box.addItem("(config file)" if preset is None else preset)
        for name in configs.preset_names():
            if name != preset:
                self.preset_box.addItem(name)
        self.preset_box.setToolTip("Built-in presets; the dataset is generated (or loaded from the cache)")
        self.preset_box.currentTextChanged.connect(self._on_preset)
        self.progress_bar = QProgressBar(objectName="progressBar")
        self.progress_bar.setAccessibleName("Generation progress")
        self.status = QLabel(objectName="statusLabel")
        self.image = FittedImage(objectName="previewImage")
        self.image.setAccessibleName("Dataset preview")

        top = QHBoxLayout()
        top.addWidget(QLabel("Preset:"))
        top.addWidget(self.preset_box, 1)
        top.addWidget(self.progress_bar, 1)
        layout = QVBoxLayout()
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.image, 1)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)
        self.resize(1000, 820)
        QShortcut(QKeySequence.StandardKey.Quit, self, self.close)
        self.generate()

    def generate(self) -> None:
        d = self.config.dataset
        self.status.setText(f"Generating {d.pool_size} pool and {d.test_size} test images "
                            f"({d.bias} bias on {d.sensitive_attribute}, strength {d.bias_strength:g})…")
        self.progress_bar.setValue(0)
        self.loader.start(d)

    def _on_preset(self, name: str) -> None:
        if name in configs.preset_names():
            self.config = configs.load_preset(name)
            self.generate()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress_bar.setMaximum(total)
        self.progress_bar.setValue(done)

    def _on_loaded(self, dataset, cached: bool) -> None:
        self.dataset = dataset
        self.progress_bar.setValue(self.progress_bar.maximum())
        source = "loaded from the cache" if cached else "generated"
        self.status.setText(f"{len(dataset.pool)} pool and {len(dataset.test)} test images, {source}. "
                            "Each block is one group; its size is the group's share of the pool.")
        self.image.set_source(to_pixmap(preview_image(dataset, "pool", columns=20, rows=10)))

    def _on_failed(self, message: str, details: str) -> None:
        self.status.setText("Generation failed.")
        box = QMessageBox(QMessageBox.Icon.Critical, "Dataset generation failed", message, parent=self)
        box.setDetailedText(details)
        box.open()

    def closeEvent(self, event) -> None:
        self.loader.stop()
        super().closeEvent(event)
