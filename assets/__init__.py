"""Data shipped with Choreo Studio: demo models and their rebuild script live here."""
