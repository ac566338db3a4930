"""The canvas in the window: rendering and editing a Document, its panels, files and generation."""
