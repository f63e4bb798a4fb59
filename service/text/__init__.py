"""Text helpers: language tags (and, with search, Arabic normalisation)."""
