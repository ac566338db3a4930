"""Plain-Python heart of Atelier: data, rules, formats and stores. No Qt, no torch."""
