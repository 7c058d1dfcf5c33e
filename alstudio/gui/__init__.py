"""The Qt workbench. Reads engine objects; the engine never imports this package."""
