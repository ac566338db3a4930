"""The layers panel: the document's layers top first, with visibility, names, order, opacity and blend mode."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QModelIndex, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.blending import MODES as BLEND_MODES
from desktop.core.blending import label as blend_label
from desktop.core.document import Change, Document, EditError, Layer
from desktop.core.edits import (
    AddLayer,
    DeleteLayer,
    DuplicateLayer,
    MergeDown,
    MoveLayer,
    RenameLayer,
    SetLayerBlend,
    SetLayerOpacity,
    SetLayerVisibility,
)
from desktop.core.history import Command
from desktop.core.steering import ControlSpec, ReferenceSpec, describe
from desktop.ui.canvas.raster import thumbnail

THUMB = 32  # px: a 330 px tall panel lists six layers
ID_ROLE = Qt.ItemDataRole.UserRole
_gestures = itertools.count(1)


class LayersPanel(QWidget):
    """Lists and edits the open document's layers; every edit goes through its history."""

    message = Signal(str)  # an edit was refused: the reason

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layers-panel")
        self.document: Document | None = None
        self.list = QListWidget()
        self.list.setObjectName("layers")
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.setToolTip("Drag to reorder · tick to show · double-click to rename")
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setWordWrap(False)
        self.opacity = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, value=100)
        self.opacity.setObjectName("layer-opacity")
        self.opacity_label = QLabel("100%")
        self.opacity_label.setMinimumWidth(36)
        # the compositor's own table, in its order; it shares the Opacity row so the list keeps its height
        self.blend = QComboBox(toolTip="Blend mode: how the layer mixes with the layers below it")
        self.blend.setObjectName("layer-blend")
        self.blend.setAccessibleName("Blend")
        for mode in BLEND_MODES.values():
            self.blend.addItem(mode.label, mode.op)
        self.blend.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.blend.setMinimumContentsLength(8)  # the dock is narrow; the open list shows the long names whole
        self.blend.view().setMinimumWidth(self.blend.view().sizeHintForColumn(0) + 24)
        self.buttons = {}
        row = QHBoxLayout()
        row.setSpacing(2)
        for key, text, tip, slot in (
            ("add", "New", "New layer (Ctrl+Shift+N)", self.add_layer),
            ("duplicate", "Copy", "Duplicate layer (Ctrl+J)", self.duplicate_layer),
            ("up", "▲", "Move the layer up (Ctrl+])", lambda: self.shift_layer(1)),
            ("down", "▼", "Move the layer down (Ctrl+[)", lambda: self.shift_layer(-1)),
            ("merge", "Merge", "Merge down (Ctrl+E)", self.merge_down),
            ("delete", "Delete", "Delete layer", self.delete_layer),
        ):
            button = QToolButton(text=text, toolTip=tip)
            button.setObjectName(f"layer-{key}")
            button.clicked.connect(slot)
            self.buttons[key] = button
            row.addWidget(button)
        # the steering roles (desktop/ui/canvas/steering_feature.py fills this menu)
        self.steer_menu = QMenu("&Steer", self)
        self.steer_menu.setObjectName("steer-menu")
        steer = QToolButton(text="Steer ▾", toolTip="Use the layer as a control layer, reference image or region")
        steer.setObjectName("layer-steer")
        # the style's own arrow is drawn over the last letters of a button this narrow: the text says it instead
        steer.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")
        steer.setMenu(self.steer_menu)
        steer.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.buttons["steer"] = steer
        row.addWidget(steer)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._on_context_menu)
        row.addStretch(1)
        opacity = QHBoxLayout()
        opacity.addWidget(QLabel("Opacity"))
        opacity.addWidget(self.opacity, 1)
        opacity.addWidget(self.opacity_label)
        opacity.addWidget(self.blend)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(opacity)
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        self._icons: dict[str, tuple[int, QIcon]] = {}  # layer id -> (id of its pixels, icon)
        self._stale: set[str] = set()
        self._thumb_timer = QTimer(self, singleShot=True, interval=400)
        self._thumb_timer.timeout.connect(self._refresh_thumbnails)
        self._opacity_gesture = None
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.currentRowChanged.connect(self._on_current_row)
        self.list.model().rowsMoved.connect(self._on_rows_moved)
        self.opacity.sliderPressed.connect(self._start_opacity_gesture)
        self.opacity.sliderReleased.connect(self._end_opacity_gesture)
        self.opacity.valueChanged.connect(self._on_opacity)
        self.blend.currentIndexChanged.connect(self._on_blend)
        self.rebuild()

    def set_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self._on_change)
        self.document = document
        self._icons.clear()
        if document is not None:
            document.changed.connect(self._on_change)
        self.rebuild()

    # ------------------------------------------------------------------ edits
    def _do(self, command: Command) -> bool:
        if self.document is None:
            self.message.emit("Open or generate an image first: there are no layers yet")
            return False
        try:
            self.document.history.do(command)
        except EditError as error:
            self.message.emit(str(error))
            return False
        return True

    def _active_id(self) -> str | None:
        layer = self.document.active_layer if self.document is not None else None
        return layer.id if layer is not None else None

    def add_layer(self) -> bool:
        if self.document is None:
            return self._do(None)
        names = {layer.name for layer in self.document.layers}
        number = next(n for n in itertools.count(len(names) + 1) if f"Layer {n}" not in names)
        return self._do(AddLayer(Layer.blank(f"Layer {number}", self.document.width, self.document.height)))

    def duplicate_layer(self) -> bool:
        layer_id = self._active_id()
        return self._do(DuplicateLayer(layer_id)) if layer_id else self._nothing()

    def delete_layer(self) -> bool:
        layer_id = self._active_id()
        return self._do(DeleteLayer(layer_id)) if layer_id else self._nothing()

    def merge_down(self) -> bool:
        layer_id = self._active_id()
        return self._do(MergeDown(layer_id)) if layer_id else self._nothing()

    def shift_layer(self, steps: int) -> bool:
        """Move the active layer up (positive) or down the stack."""
        layer_id = self._active_id()
        if not layer_id:
            return self._nothing()
        index = self.document.index_of(layer_id) + steps
        if not 0 <= index < len(self.document.layers):
            self.message.emit("The layer is already at the " + ("top" if steps > 0 else "bottom"))
            return False
        return self._do(MoveLayer(layer_id, index))

    def rename_active(self) -> None:
        """F2: edit the active layer's name in place."""
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _nothing(self) -> bool:
        self.message.emit("Select a layer first" if self.document is not None else "Open or generate an image first")
        return False

    # ------------------------------------------------------------------ list events
    def _on_item_changed(self, item: QListWidgetItem) -> None:
        layer_id = item.data(ID_ROLE)
        layer = self.document.layer(layer_id)
        visible = item.checkState() == Qt.CheckState.Checked
        if visible != layer.visible:
            self._do(SetLayerVisibility(layer_id, visible))
        elif item.text() != layer.name and not self._do(RenameLayer(layer_id, item.text())):
            self.rebuild()  # a refused name goes back to the old one

    def _on_current_row(self, row: int) -> None:
        item = self.list.item(row)
        if item is not None and self.document is not None:
            self.document.set_active_layer(item.data(ID_ROLE))

    def _on_rows_moved(self, _parent: QModelIndex, start: int, _end: int, _destination: QModelIndex, row: int) -> None:
        final = row if row < start else row - 1
        item = self.list.item(final)
        if item is None or self.document is None:
            return
        index = len(self.document.layers) - 1 - final  # the list shows the top layer first
        # after the view has finished its drop: the rebuild that the edit causes replaces the items
        QTimer.singleShot(0, lambda: self._do(MoveLayer(item.data(ID_ROLE), index)) or self.rebuild())

    def _on_context_menu(self, point: QPoint) -> None:
        item = self.list.itemAt(point)
        if item is not None and self.document is not None:
            self.document.set_active_layer(item.data(ID_ROLE))
        self.steer_menu.popup(self.list.viewport().mapToGlobal(point))

    def _start_opacity_gesture(self) -> None:
        self._opacity_gesture = ("opacity", next(_gestures))

    def _end_opacity_gesture(self) -> None:
        self._opacity_gesture = None

    def _on_opacity(self, value: int) -> None:
        self.opacity_label.setText(f"{value}%")
        layer_id = self._active_id()
        if layer_id and round(self.document.layer(layer_id).opacity * 100) != value:
            self._do(SetLayerOpacity(layer_id, value / 100, self._opacity_gesture))

    def _on_blend(self, index: int) -> None:
        op = self.blend.itemData(index)
        layer_id = self._active_id()
        if layer_id and op and self.document.layer(layer_id).blend != op and not self._do(SetLayerBlend(layer_id, op)):
            self.rebuild()  # refused: show the layer's mode again

    # ------------------------------------------------------------------ showing the document
    def _on_change(self, change: Change) -> None:
        if change.kind in ("layers", "active", "size"):
            self.rebuild()
        elif change.kind == "pixels" and change.layer_id:
            self._stale.add(change.layer_id)
            self._thumb_timer.start()

    def rebuild(self) -> None:
        document = self.document
        self.list.blockSignals(True)
        self.list.model().blockSignals(True)
        self.list.clear()
        self.list.model().blockSignals(False)
        active = self._active_id()
        if document is not None:
            for layer in reversed(document.layers):
                item = QListWidgetItem(self._icon(layer), layer.name)
                item.setData(ID_ROLE, layer.id)
                item.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsEditable
                              | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled)
                item.setCheckState(Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked)
                tip = f"{layer.width} × {layer.height} at ({layer.x}, {layer.y}), blend mode {blend_label(layer.blend)}"
                if layer.groups:
                    tip += "\nin group " + " › ".join(group.name for group in layer.groups)
                if layer.steering is not None:
                    tip += f"\n{describe(layer.steering)}"
                item.setToolTip(f"{layer.name}\n{tip}" + (f"\n\n{layer.parameters}" if layer.parameters else ""))
                self.list.addItem(item)
                if layer.id == active:
                    self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        has_layer = active is not None
        for key, button in self.buttons.items():
            button.setEnabled(document is not None and (key == "add" or has_layer))
        self.opacity.setEnabled(has_layer)
        value = round(document.layer(active).opacity * 100) if has_layer else 100
        self.opacity.blockSignals(True)
        self.opacity.setValue(value)
        self.opacity.blockSignals(False)
        self.opacity_label.setText(f"{value}%")
        self._show_blend(document.layer(active).blend if has_layer else None)

    def _show_blend(self, op: str | None) -> None:
        """Select the active layer's mode; one the compositor does not know (a Krita-only mode) is listed
        after the table while that layer is active, so it shows and choosing it again changes nothing."""
        self.blend.blockSignals(True)
        while self.blend.count() > len(BLEND_MODES):
            self.blend.removeItem(self.blend.count() - 1)
        self.blend.setEnabled(op is not None)
        if op is not None and op not in BLEND_MODES:
            self.blend.addItem(blend_label(op), op)
        self.blend.setCurrentIndex(max(0, self.blend.findData(op)) if op is not None else 0)
        self.blend.blockSignals(False)

    def _icon(self, layer: Layer) -> QIcon:
        cached = self._icons.get(layer.id)
        key = (id(layer.pixels), layer.steering)
        if cached is None or cached[0] != key or layer.id in self._stale:
            self._stale.discard(layer.id)
            cached = (key, QIcon(_with_badge(thumbnail(layer.pixels, THUMB), layer.steering)))
            self._icons[layer.id] = cached
        return cached[1]

    def _refresh_thumbnails(self) -> None:
        self.list.blockSignals(True)  # a new icon is an itemChanged too; it is not an edit
        for row in range(self.list.count()):
            item = self.list.item(row)
            layer_id = item.data(ID_ROLE)
            if layer_id in self._stale and self.document is not None:
                item.setIcon(self._icon(self.document.layer(layer_id)))
        self.list.blockSignals(False)
        self._stale.clear()



BADGES = {ControlSpec: ("C", QColor(40, 150, 255)), ReferenceSpec: ("I", QColor(230, 150, 30))}
REGION_BADGE = ("R", QColor(60, 190, 90))


def _with_badge(pixmap: QPixmap, spec) -> QPixmap:
    """A layer's thumbnail with its steering role in a corner: C control, I reference image, R region (grey: off)."""
    if spec is None:
        return pixmap
    letter, color = BADGES.get(type(spec), REGION_BADGE)
    if not spec.enabled:
        color = QColor(130, 130, 130)
    badged = QPixmap(pixmap)
    painter = QPainter(badged)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    side = max(12, badged.width() // 2)
    painter.setBrush(color)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(badged.width() - side, badged.height() - side, side, side)
    painter.setPen(QColor("white"))
    font = painter.font()
    font.setBold(True)
    font.setPixelSize(int(side * 0.7))
    painter.setFont(font)
    painter.drawText(badged.width() - side, badged.height() - side, side, side, Qt.AlignmentFlag.AlignCenter, letter)
    painter.end()
    return badged
