"""Puts the canvas together in the main window: panels, tool bar, menus, shortcuts, title and status."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QPointF, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu

from desktop.core.document import Change, Document, EditError
from desktop.core.edits import InvertMask, SetLayerVisibility, SetSelection, clear_mask, crop_canvas
from desktop.core.settings import Settings
from desktop.ui.canvas.document_controller import DocumentController
from desktop.ui.canvas.generate_gate import GenerateGate
from desktop.ui.canvas.history_panel import HistoryPanel
from desktop.ui.canvas.layers_panel import LayersPanel
from desktop.ui.canvas.tool_options import ToolOptionsBar
from desktop.ui.canvas.tool_strip import ToolStrip
from desktop.ui.canvas.tools import TOOL_LABELS
from desktop.ui.icons import set_tool_icon

TOOL_KEYS = {"brush": "B", "eraser": "E", "select": "M", "move": "V", "pan": "H"}


class CanvasWorkspace(QObject):
    """Builds the canvas's panels, tool bar and actions around the window and keeps them on one document."""

    def __init__(self, window, settings: Settings, settings_path: Path, recovery_dir: Path) -> None:
        super().__init__(window)
        self.window, self.canvas, self.panel = window, window.canvas, window.prompt_panel
        self.tools = self.canvas.tools
        self.document: Document | None = None
        self.documents = DocumentController(window, settings, settings_path, recovery_dir)
        self.layers = LayersPanel()
        self.history = HistoryPanel()
        self.layers_dock = window.add_dock("Layers", self.layers)
        self.history_dock = window.add_dock("History", self.history)
        self.options = ToolOptionsBar(self.tools, self.canvas.expand)
        window.add_canvas_bar(self.options)
        self.gate = GenerateGate(self.panel, self.documents, self)
        self.position_label = QLabel("")
        window.statusBar().addPermanentWidget(self.position_label)
        self.actions: dict[str, QAction] = {}
        self._build_file_menu()
        self._build_edit_menu()
        self._build_image_and_layer_menus()
        self._build_tools_menu()
        self.options.build()
        self.strip = ToolStrip([self.actions[f"tool-{t}"] for t in TOOL_KEYS],
                               [self.actions[k] for k in ("quick-mask", "invert-mask", "clear-mask")])
        window.add_canvas_bar(self.strip, beside=True)
        window.shortcuts.extend([
            ("Right-drag (brush)", "Erase what the brush paints (the layer, or the mask in Quick Mask)"),
            ("Shift+drag (select)", "Square selection"),
            ("Drag just outside an edge", "Expand the canvas there (for outpainting)"),
            ("Esc while dragging", "Cancel the stroke or drag"),
        ])
        for source in (self.canvas.message, self.layers.message, self.documents.error):
            source.connect(window.show_error)
        self.documents.status.connect(window.show_status)
        self.documents.document_changed.connect(self._on_document)
        self.canvas.files_dropped.connect(self.documents.drop_files)
        self.canvas.image_dropped.connect(self.documents.paste_image)
        self.canvas.cursor_moved.connect(self._show_position)
        self.canvas.zoom_changed.connect(lambda _zoom: self._show_position(None))
        self.canvas.canvas_expanded.connect(self._on_expanded)
        self.tools.changed.connect(self._on_tools_changed)
        self._on_document(None)
        self._on_tools_changed()

    # ------------------------------------------------------------------ menus
    def _add(self, key: str, menu: str, text: str, slot, shortcut: str | None = None, describe: str = "") -> QAction:
        action = self.window.add_action(menu, text, slot, shortcut, describe)
        self.actions[key] = action
        return action

    def _build_file_menu(self) -> None:
        docs = self.documents
        self._add("new", "&File", "&New…", lambda: docs.new_document(), "Ctrl+N", "New canvas")
        self._add("open", "&File", "&Open…", lambda: docs.open_path(), "Ctrl+O", "Open an image or project")
        self.recent_menu = QMenu("Open &Recent", self.window)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.window.menus["&File"].addMenu(self.recent_menu)
        self._add("save", "&File", "&Save", lambda: docs.save(), "Ctrl+S", "Save the project (.ora)")
        self._add("save-as", "&File", "Save &As…", lambda: docs.save_as(), "Ctrl+Shift+S", "Save the project under a new name")
        self._add("export", "&File", "&Export Image…", lambda: docs.export(), "Ctrl+Shift+E",
                  "Export the flattened image (PNG, JPEG, WebP)")
        self.window.menus["&File"].addSeparator()

    def _build_edit_menu(self) -> None:
        self._add("undo", "&Edit", "&Undo", self.undo, "Ctrl+Z")
        redo = self._add("redo", "&Edit", "&Redo", self.redo, "Ctrl+Shift+Z")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.window.menus["&Edit"].addSeparator()
        self._add("paste", "&Edit", "&Paste Image", lambda: self.documents.paste(), "Ctrl+V", "Paste an image as a new layer")
        self._add("select-all", "&Edit", "Select &All", lambda: self._select(True), "Ctrl+A")
        self._add("deselect", "&Edit", "&Deselect", lambda: self._select(False), "Ctrl+D")
        self.window.menus["&Edit"].addSeparator()
        quick = self._add("quick-mask", "&Edit", "&Quick Mask", self.tools.set_mask_mode, "Q",
                          "Quick mask: the brush and eraser paint the inpaint mask")
        quick.setCheckable(True)
        self._add("invert-mask", "&Edit", "&Invert Mask", lambda: self._edit(InvertMask()), "Ctrl+Shift+I")
        self._add("clear-mask", "&Edit", "&Clear Mask", lambda: self._edit(clear_mask(self.document)) if self.document else None)
        self.actions["quick-mask"].setToolTip("Quick mask: the brush and eraser paint the inpaint mask (Q)")
        self.actions["invert-mask"].setToolTip("Invert the inpaint mask (Ctrl+Shift+I)")
        self.actions["clear-mask"].setToolTip("Clear the inpaint mask")
        for key in ("quick-mask", "invert-mask", "clear-mask"):
            set_tool_icon(self.actions[key], key)
        show = self._add("show-mask", "&View", "Show &Mask", self._show_mask)
        show.setCheckable(True)
        show.setChecked(True)

    def _build_image_and_layer_menus(self) -> None:
        self.window.add_menu("&Image")
        self._add("expand-all", "&Image", "&Expand Canvas on All Sides", lambda: self.options.expand_side(None))
        self._add("crop", "&Image", "&Crop Canvas to Selection",
                  lambda: self._edit(crop_canvas(self.document.selection)) if self.document and self.document.selection
                  else self.window.show_error("Select an area first (M): the canvas is cropped to the selection"))
        self.window.add_menu("&Layer")
        layers = self.layers
        self._add("layer-new", "&Layer", "&New Layer", layers.add_layer, "Ctrl+Shift+N")
        self._add("layer-duplicate", "&Layer", "&Duplicate Layer", layers.duplicate_layer, "Ctrl+J")
        self._add("layer-delete", "&Layer", "De&lete Layer", layers.delete_layer)
        self._add("layer-rename", "&Layer", "&Rename Layer", layers.rename_active, "F2")
        self._add("layer-visible", "&Layer", "&Show/Hide Layer", self._toggle_visible)
        self._add("layer-up", "&Layer", "Raise Layer", lambda: layers.shift_layer(1), "Ctrl+]")
        self._add("layer-down", "&Layer", "Lower Layer", lambda: layers.shift_layer(-1), "Ctrl+[")
        self._add("merge-down", "&Layer", "&Merge Down", layers.merge_down, "Ctrl+E")

    def _build_tools_menu(self) -> None:
        self.window.add_menu("&Tools")
        group = QActionGroup(self)
        for tool, key in TOOL_KEYS.items():
            action = self._add(f"tool-{tool}", "&Tools", TOOL_LABELS[tool], lambda _c=False, t=tool: self.tools.set_tool(t), key)
            action.setCheckable(True)
            action.setToolTip(f"{TOOL_LABELS[tool]} ({key})")
            set_tool_icon(action, tool)
            group.addAction(action)
        self.window.menus["&Tools"].addSeparator()
        self._add("bigger", "&Tools", "Bigger Brush", self.tools.grow, "]")
        self._add("smaller", "&Tools", "Smaller Brush", self.tools.shrink, "[")
        self._add("harder", "&Tools", "Harder Brush", lambda: self.tools.set_hardness(self.tools.hardness + 0.1), "}",
                  "Harder brush (Shift+])")
        self._add("softer", "&Tools", "Softer Brush", lambda: self.tools.set_hardness(self.tools.hardness - 0.1), "{",
                  "Softer brush (Shift+[)")

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.documents.settings.recent_files
        for name in files:
            action = self.recent_menu.addAction(Path(name).name, lambda n=name: self.documents.open_path(n))
            action.setToolTip(name)
            action.setEnabled(Path(name).exists())
        if not files:
            self.recent_menu.addAction("No recent files").setEnabled(False)

    # ------------------------------------------------------------------ edits
    def _edit(self, command) -> bool:
        if self.document is None:
            self.window.show_error("Open or generate an image first")
            return False
        try:
            self.document.history.do(command)
        except EditError as error:
            self.window.show_error(str(error))
            return False
        return True

    def undo(self) -> None:
        if self.document is not None:
            self.canvas.cancel_gesture()
            label = self.document.history.undo()
            if label:
                self.window.show_status(f"Undid {label}")

    def redo(self) -> None:
        if self.document is not None:
            label = self.document.history.redo()
            if label:
                self.window.show_status(f"Redid {label}")

    def _select(self, everything: bool) -> None:
        if self.document is not None:
            rect = self.document.rect if everything else None
            if rect != self.document.selection:
                self._edit(SetSelection(rect))

    def _toggle_visible(self) -> None:
        layer = self.document.active_layer if self.document is not None else None
        if layer is not None:
            self._edit(SetLayerVisibility(layer.id, not layer.visible))

    def _show_mask(self, shown: bool) -> None:
        self.canvas.show_mask = shown
        self.canvas.update()

    # ------------------------------------------------------------------ keeping everything on one document
    def _on_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self._on_change)
            self.document.history.changed.disconnect(self._update_actions)
        self.document = document
        if document is not None:
            document.changed.connect(self._on_change)
            document.history.changed.connect(self._update_actions)
        self.canvas.set_document(document)
        self.layers.set_document(document)
        self.history.set_document(document)
        self._update_actions()

    def _on_change(self, change: Change) -> None:
        if change.kind in ("modified", "size", "selection"):
            self._update_actions()

    def _update_actions(self) -> None:
        document = self.document
        history = document.history if document is not None else None
        undo, redo = self.actions["undo"], self.actions["redo"]
        undo.setEnabled(bool(history and history.can_undo))
        redo.setEnabled(bool(history and history.can_redo))
        undo.setText(f"&Undo {history.undo_label}" if history and history.can_undo else "&Undo")
        redo.setText(f"&Redo {history.redo_label}" if history and history.can_redo else "&Redo")
        for key in ("save", "save-as", "export", "deselect", "select-all", "crop", "expand-all"):
            self.actions[key].setEnabled(document is not None)
        self.window.setWindowTitle(f"{document.title}[*] — Atelier" if document is not None else "Atelier")
        self.window.setWindowModified(bool(document is not None and document.modified))
        self._show_position(None)

    def _on_tools_changed(self) -> None:
        self.actions[f"tool-{self.tools.tool}"].setChecked(True)
        self.actions["quick-mask"].setChecked(self.tools.mask_mode)

    def _on_expanded(self) -> None:
        self.panel.model.mode = "outpaint"
        self.window.show_status("Canvas expanded: Generate (Outpaint) fills the new area from the picture around it")

    def _show_position(self, point: QPointF | None) -> None:
        document = self.document
        if document is None:
            self.position_label.setText("")
            return
        text = f"{document.width} × {document.height}  ·  {self.canvas.zoom * 100:.0f}%"
        if point is not None and 0 <= point.x() < document.width and 0 <= point.y() < document.height:
            text = f"{int(point.x())}, {int(point.y())}  ·  " + text
        self.position_label.setText(text)

    # ------------------------------------------------------------------ life
    def start(self) -> None:
        """After the first paint: offer to restore work a crash left behind."""
        self.documents.offer_restore()

    def shutdown(self) -> None:
        self.documents.shutdown()
