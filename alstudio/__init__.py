"""alstudio: a desktop workbench for active-learning experiments on Synbols."""

__version__ = "0.1.0"
