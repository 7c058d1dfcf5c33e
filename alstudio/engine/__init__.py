"""The engine: data, models, strategies and the active-learning loop. No Qt here."""
