"""Two-way bindings between a PromptModel field and a Qt widget: one line per field.

    bind(model, "steps", steps_spin_box)
    bind(model, "seed", seed_line_edit, parse=lambda text: parse_number("seed", text, int))
    bind(model, "hires_scale", my_widget)   # any widget with value(), set_value(v) and a value_changed signal

The widget shows the model's value and writes what the user enters back; a value the widget cannot
turn into one (a seed of "banana") becomes the model's error for that field, so Generate is refused
with the reason instead of running with a stale value.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import (QAbstractButton, QComboBox, QDoubleSpinBox, QLineEdit, QPlainTextEdit, QSpinBox,
                               QWidget)


class Binding:
    """Keeps one model field and one widget equal; ends when the widget is destroyed."""

    def __init__(self, model, name: str, widget: QWidget, parse: Callable[[Any], Any] | None = None,
                 show: Callable[[Any], Any] | None = None) -> None:
        if name not in model.fields:
            raise AttributeError(f"PromptModel has no field {name!r}")
        self.model, self.name, self.widget = model, name, widget
        self.parse = parse or (lambda value: value)
        self.show = show or (lambda value: value)
        self._writing = False  # the model is being written from the widget: do not echo it back
        getter, setter, signal = _accessors(widget)
        self._get, self._set = getter, setter
        signal.connect(self._on_widget_changed)
        model.changed.connect(self._on_model_changed)
        widget.destroyed.connect(self._on_destroyed)
        self._on_model_changed(name, model.get(name))

    def _on_widget_changed(self, *_args) -> None:
        if self._writing:
            return
        self._writing = True
        try:
            value = self.parse(self._get())
        except ValueError as error:  # ParamError is one
            self.model.set_error(self.name, str(error))
        else:
            self.model.set(self.name, value)
        finally:
            self._writing = False

    def _on_model_changed(self, name: str, value: Any) -> None:
        if name != self.name or self._writing:
            return
        shown = self.show(value)
        if self._get() == shown:
            return
        self._writing = True
        try:
            self._set(shown)
        finally:
            self._writing = False

    def _on_destroyed(self, *_args) -> None:
        self.model.changed.disconnect(self._on_model_changed)


def _accessors(widget: QWidget):
    """(read the widget, write the widget, the signal that says the user changed it)."""
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText, widget.setPlainText, widget.textChanged
    if isinstance(widget, QLineEdit):
        return widget.text, widget.setText, widget.textChanged
    if isinstance(widget, QDoubleSpinBox):
        return (lambda: round(widget.value(), widget.decimals())), widget.setValue, widget.valueChanged
    if isinstance(widget, QSpinBox):
        return widget.value, widget.setValue, widget.valueChanged
    if isinstance(widget, QComboBox):  # the items' data are the values
        def select(value) -> None:  # compared in Python: Qt's own lookup cannot compare Python objects
            index = next((i for i in range(widget.count()) if widget.itemData(i) == value), -1)
            widget.setCurrentIndex(index)
        return widget.currentData, select, widget.currentIndexChanged
    if isinstance(widget, QAbstractButton) and widget.isCheckable():
        return widget.isChecked, widget.setChecked, widget.toggled
    if all(hasattr(widget, attr) for attr in ("value", "set_value", "value_changed")):
        return widget.value, widget.set_value, widget.value_changed
    raise TypeError(f"cannot bind a {type(widget).__name__}: give it value(), set_value() and value_changed")


def bind(model, name: str, widget: QWidget, parse: Callable[[Any], Any] | None = None,
         show: Callable[[Any], Any] | None = None) -> Binding:
    """Bind `model.<name>` to `widget` both ways; `parse` turns the widget's value into the field's
    (raising ValueError for what is no value), `show` the field's value into the widget's."""
    binding = Binding(model, name, widget, parse, show)
    widget.setProperty("bound_field", name)  # so a test or a designer tool can find what shows a field
    _keep(widget, binding)
    return binding


def _keep(widget: QWidget, binding: Binding) -> None:
    bindings = getattr(widget, "_bindings", None)
    if bindings is None:
        bindings = []
        widget._bindings = bindings
    bindings.append(binding)
