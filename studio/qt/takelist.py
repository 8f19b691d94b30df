"""The Takes panel: every take with its favourite star, name, length and recipe; pick one to show it,
double-click (or F2) a name to rename it, click the star to keep it as a favourite, Delete to remove it.
Every edit goes through the undo history; the list follows the session's ``takes`` events, so edits
from the notebook or a script show here too."""

from __future__ import annotations

from PyQt6.QtCore import QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.core.errors import ChoreoError
from engine.session import Session

from .bridge import SessionBridge
from .undo import UndoHistory

STAR, NAME, LENGTH, RECIPE = range(4)


class TakeList(QWidget):
    """Takes of the session, newest last (see the module docstring)."""

    error = pyqtSignal(str)

    def __init__(self, session: Session, bridge: SessionBridge, history: UndoHistory,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.history = session, history
        self.tree = QTreeWidget()
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["★", "Take", "Length", "Recipe"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.tree.setColumnWidth(STAR, 28)
        self.tree.setColumnWidth(NAME, 110)
        self.tree.setColumnWidth(LENGTH, 70)
        self.tree.setToolTip("Click a take to show it; click ★ to keep it as a favourite; double-click or F2 "
                             "to rename; Delete removes it (Edit ▸ Undo brings it back)")
        self.favourite_btn = QPushButton("★ Favourite")
        self.favourite_btn.setCheckable(True)
        self.rename_btn = QPushButton("Rename")
        self.delete_btn = QPushButton("Delete")
        self.only_favourites = QCheckBox("Favourites only")
        buttons = QHBoxLayout()
        for w in (self.favourite_btn, self.rename_btn, self.delete_btn):
            buttons.addWidget(w)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tree, 1)
        lay.addLayout(buttons)
        lay.addWidget(self.only_favourites)

        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemChanged.connect(self._renamed)
        self.tree.currentItemChanged.connect(lambda item, _old: self._show(item))
        self.favourite_btn.clicked.connect(lambda on: self._edit(lambda n: history.set_favourite(n, on)))
        self.rename_btn.clicked.connect(self._start_rename)
        self.delete_btn.clicked.connect(lambda: self._edit(history.delete_take))
        self.only_favourites.toggled.connect(lambda _on: self.refresh())
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.tree)
        delete.activated.connect(lambda: self._edit(history.delete_take))
        bridge.connect(session.events.takes, lambda _t: self.refresh())
        bridge.connect(session.events.current_take, lambda _i: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        """Show the session's takes (keeps the row being renamed alone)."""
        s = self.session
        takes, current = s.takes, s.current_take
        with QSignalBlocker(self.tree):
            if self.tree.topLevelItemCount() != len(takes):
                self.tree.clear()
                self.tree.addTopLevelItems([QTreeWidgetItem() for _ in takes])
            for i, t in enumerate(takes):
                item = self.tree.topLevelItem(i)
                item.setData(NAME, Qt.ItemDataRole.UserRole, t.number)
                item.setText(STAR, "★" if t.favourite else "☆")
                if item.text(NAME) != t.title:  # only when it changed: an open name editor keeps its text
                    item.setText(NAME, t.title)
                seconds = t.params.frames / s.fps
                item.setText(LENGTH, f"{seconds:.1f} s ×{t.params.variations}" if t.params.variations > 1
                             else f"{seconds:.1f} s")
                status = "" if t.status == "done" else f" ({t.status})"
                item.setText(RECIPE, t.recipe.describe() + (" · live" if t.live else "") + status)
                item.setToolTip(RECIPE, t.recipe.describe())
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                item.setHidden(self.only_favourites.isChecked() and not t.favourite)
            if 0 <= current < len(takes):
                self.tree.setCurrentItem(self.tree.topLevelItem(current))
        take = s.takes[current] if 0 <= current < len(takes) else None
        for w in (self.favourite_btn, self.rename_btn, self.delete_btn):
            w.setEnabled(take is not None)
        with QSignalBlocker(self.favourite_btn):
            self.favourite_btn.setChecked(bool(take and take.favourite))

    def _number(self, item: QTreeWidgetItem | None) -> int | None:
        return None if item is None else item.data(NAME, Qt.ItemDataRole.UserRole)

    def _edit(self, action: object) -> None:
        number = self._number(self.tree.currentItem())
        if number is not None:
            try:
                action(number)  # type: ignore[operator]
            except ChoreoError as err:
                self.error.emit(str(err))

    def _show(self, item: QTreeWidgetItem | None) -> None:
        index = self.tree.indexOfTopLevelItem(item) if item is not None else -1
        if index >= 0 and index != self.session.current_take:
            try:
                self.session.select_take(index)
            except ChoreoError as err:
                self.error.emit(str(err))

    def _clicked(self, item: QTreeWidgetItem, column: int) -> None:
        number = self._number(item)
        if column == STAR and number is not None:
            self.history.set_favourite(number, item.text(STAR) != "★")

    def _renamed(self, item: QTreeWidgetItem, column: int) -> None:
        number = self._number(item)
        if column == NAME and number is not None:
            text = item.text(NAME).strip()
            default = f"take {number}"
            self.history.rename_take(number, "" if text in ("", default) else text)
            self.refresh()

    def _start_rename(self) -> None:
        item = self.tree.currentItem()
        if item is not None:
            self.tree.editItem(item, NAME)
