"""The notebook's Direct panel: keyframes, kept joints, part temperatures and a floor path, as simple
ipywidgets over the same :class:`engine.session.Session` (issue 16).

The plain API is the main road from a notebook; the panel shows and edits the same session fields
(``session.keyframes``, ``keep``, ``path``, ``part_temperatures``) and follows their change events,
so a change made in code shows in the panel and the next take's recipe holds it::

    session.add_keyframe(60, source="clip", source_frame=250)  # be in the clip's pose of frame 250 at frame 60
    session.keep_joints("arms")                                # the arms follow the clip, the rest is invented
    session.set_part_temperature("legs", 0.5)                  # calmer legs (1 removes it)
    session.load_path("path.svg")                              # the centre walks a drawing seen from above
    take = session.generate()                                  # take.params holds all of it

Groups are those of ``session.body_parts()`` (upper, lower, left, right, arms, legs, left_arm ...);
the group boxes also take joint names or indices, comma-separated. The floor path comes from a file
(typed, or uploaded) or from a shape (circle, line, figure-eight, square) of a size in body heights:
ipywidgets has no drawing surface and ``ipycanvas`` is not a dependency, so there is no free-hand
drawing here (the desktop studio draws on the floor; code can pass any points to ``session.draw_path``).
"""

from __future__ import annotations

import html
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as W
import numpy as np

from engine.core.errors import ChoreoError
from engine.dance.parts import GROUPS
from engine.session import Session

from .floor import SHAPES, draw_shape, floor_of, floor_png

NARROW = {"description_width": "90px"}
SOURCES = [("clip under the playhead", "playhead"), ("clip frame", "clip"), ("take frame", "take")]


def _box(width: str) -> W.Layout:
    return W.Layout(width=width)


class DirectPanel(W.VBox):
    """Keyframes, kept joints, part temperatures, the floor path and Clear all, over one session.

    ``call(fn, *args)`` runs a session action and turns a ChoreoError into a message (the studio
    widget's); ``resolve(path)`` resolves a typed path.
    """

    def __init__(self, session: Session, call: Callable[..., Any], resolve: Callable[[str], Path],
                 floor_size: tuple[int, int] = (300, 300)) -> None:
        self.session, self._call, self._resolve, self.floor_size = session, call, resolve, floor_size
        self._floor_key: tuple | None = None
        self._build()
        super().__init__(children=self._layout())
        self._slots = [(session.events.keyframes, self.show_keyframes), (session.events.keep, self.show_keep),
                       (session.events.part_temperatures, self.show_parts), (session.events.path, self.show_path),
                       (session.events.motion, self.show_body), (session.events.model, self.show_body),
                       (session.events.current_take, self.show_floor), (session.events.takes, self.show_floor),
                       (session.events.seed_frame, self.show_floor),
                       (session.events.continue_from_playhead, self.show_floor),
                       (session.events.duration, self.show_keyframes), (session.events.duration, self.show_path)]
        for signal, slot in self._slots:
            signal.connect(slot, thread="main", check_nargs=False)
        self.show_body()

    # -- building -----------------------------------------------------------------------

    def _build(self) -> None:
        # keyframes
        self.kf_frame = W.BoundedIntText(value=30, min=0, max=10**7, description="at take frame", style=NARROW,
                                         layout=_box("190px"))
        self.kf_source = W.Dropdown(options=SOURCES, value="playhead", description="pose of",
                                    style={"description_width": "50px"}, layout=_box("250px"))
        self.kf_source_frame = W.BoundedIntText(value=0, min=0, max=10**7, description="frame",
                                                style={"description_width": "40px"}, layout=_box("130px"),
                                                disabled=True)
        self.kf_add = W.Button(description="Add keyframe", icon="plus")
        self.kf_list = W.Select(options=[], rows=4, layout=_box("420px"))
        self.kf_move_to = W.BoundedIntText(value=0, min=0, max=10**7, description="move to",
                                           style={"description_width": "55px"}, layout=_box("150px"))
        self.kf_move = W.Button(description="Move", icon="arrows-h", layout=_box("80px"))
        self.kf_remove = W.Button(description="Remove", icon="trash", layout=_box("90px"))
        self.kf_source.observe(lambda c: setattr(self.kf_source_frame, "disabled", c["new"] == "playhead"), "value")
        self.kf_list.observe(self._on_kf_chosen, "value")
        self.kf_add.on_click(lambda _: self.add_keyframe())
        self.kf_move.on_click(lambda _: self._on_selected(self.kf_list, self.session.move_keyframe,
                                                          int(self.kf_move_to.value)))
        self.kf_remove.on_click(lambda _: self._on_selected(self.kf_list, self.session.remove_keyframe))

        # kept joints
        self.keep_group = W.Combobox(options=list(GROUPS), value="arms", ensure_option=False, description="keep",
                                     placeholder="group, or joints: l_elbow,r_elbow",
                                     style={"description_width": "40px"}, layout=_box("260px"))
        self.keep_source = W.ToggleButtons(options=["clip", "take"], value="clip", style={"button_width": "55px"})
        self.keep_add = W.Button(description="Keep", icon="lock")
        self.keep_list = W.Select(options=[], rows=3, layout=_box("420px"))
        self.keep_remove = W.Button(description="Remove", icon="trash", layout=_box("90px"))
        self.keep_add.on_click(lambda _: self._call(self.session.keep_joints, self.keep_group.value,
                                                    self.keep_source.value))
        self.keep_remove.on_click(lambda _: self._on_selected(self.keep_list, self._drop, "keep"))

        # part temperatures
        self.part_group = W.Combobox(options=list(GROUPS), value="legs", ensure_option=False, description="part",
                                     placeholder="group, or joints", style={"description_width": "40px"},
                                     layout=_box("260px"))
        self.part_temperature = W.FloatSlider(value=0.5, min=0.0, max=3.0, step=0.05, readout_format=".2f",
                                              description="temperature", style=NARROW, continuous_update=False,
                                              tooltip="above 1 livelier, below 1 calmer; 1 removes it")
        self.part_set = W.Button(description="Set", icon="thermometer-half", layout=_box("80px"))
        self.part_list = W.Select(options=[], rows=3, layout=_box("420px"))
        self.part_remove = W.Button(description="Remove", icon="trash", layout=_box("90px"))
        self.part_set.on_click(lambda _: self._call(self.session.set_part_temperature, self.part_group.value,
                                                    float(self.part_temperature.value)))
        self.part_list.observe(self._on_part_chosen, "value")
        self.part_remove.on_click(lambda _: self._on_selected(self.part_list, self._drop, "part_temperatures"))

        # the floor path
        self.path_file = W.Text(placeholder="path.svg | path.npy", description="path file", style=NARROW,
                                layout=_box("300px"))
        self.path_load = W.Button(description="Load path", icon="folder-open")
        self.path_upload = W.FileUpload(accept=".npy,.svg", multiple=False, description="Upload")
        self.path_shape = W.Dropdown(options=SHAPES, value="circle", description="or walk a", style=NARROW,
                                     layout=_box("220px"))
        self.path_size = W.BoundedFloatText(value=1.0, min=0.05, max=100.0, step=0.5, description="body heights",
                                            style=NARROW, layout=_box("170px"),
                                            tooltip="how far across the shape is, in body heights")
        self.path_draw = W.Button(description="Walk it", icon="pencil")
        self.path_clear = W.Button(description="No path", icon="times")
        self.path_info = W.HTML()
        self.floor = W.Image(format="png", width=self.floor_size[0], height=self.floor_size[1])
        self.path_load.on_click(lambda _: self.load_path())
        self.path_upload.observe(self._on_upload, "value")
        self.path_draw.on_click(lambda _: self._call(draw_shape, self.session, self.path_shape.value,
                                                     float(self.path_size.value)))
        self.path_clear.on_click(lambda _: self._call(setattr, self.session, "path", ()))

        self.clear_button = W.Button(description="Clear all directions", icon="eraser", button_style="warning")
        self.clear_button.on_click(lambda _: self._call(self.session.clear_direction))
        self.summary = W.HTML()

    def _layout(self) -> list[W.Widget]:
        def head(text: str) -> W.HTML:
            return W.HTML(f"<b>{text}</b>")

        left = W.VBox([
            head("Keyframes: be in this pose at this take frame"),
            W.HBox([self.kf_frame, self.kf_source, self.kf_source_frame, self.kf_add]),
            self.kf_list, W.HBox([self.kf_move_to, self.kf_move, self.kf_remove]),
            head("Keep joints: they follow the clip (or the take), the rest is invented"),
            W.HBox([self.keep_group, self.keep_source, self.keep_add]),
            W.HBox([self.keep_list, self.keep_remove]),
            head("Temperature per body part"),
            W.HBox([self.part_group, self.part_temperature, self.part_set]),
            W.HBox([self.part_list, self.part_remove]),
            head("Floor path for the body's centre"),
            W.HBox([self.path_file, self.path_load, self.path_upload]),
            W.HBox([self.path_shape, self.path_size, self.path_draw, self.path_clear]),
            self.path_info,
            W.HBox([self.clear_button, self.summary]),
        ])
        return [W.HTML("<b>Direct the dancer</b>"), W.HBox([left, self.floor])]

    # -- actions ----------------------------------------------------------------------------

    def add_keyframe(self) -> None:
        """Add a keyframe from the boxes: the pose of the chosen source at the typed take frame."""
        source = self.kf_source.value
        source_frame = None if source == "playhead" else int(self.kf_source_frame.value)
        self._call(self.session.add_keyframe, int(self.kf_frame.value), source=source, source_frame=source_frame)

    def load_path(self, path: str | Path | None = None) -> None:
        """Load a floor path from ``path`` (default: the path box), ``.npy`` or ``.svg``."""
        target = str(path or self.path_file.value).strip()
        if not target:
            self._call(self._refuse, "type a .npy or .svg file in the path box first")
            return
        self._call(self.session.load_path, self._resolve(target))

    @staticmethod
    def _refuse(text: str) -> None:
        raise ChoreoError(text)

    def _on_upload(self, change: dict) -> None:
        files = change["new"]
        if not files:
            return
        f = files[0]
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / Path(f["name"]).name  # the file's own name: its type and the messages name it
            target.write_bytes(bytes(f["content"]))
            self._call(self.session.load_path, target)
        self.path_upload.value = ()  # the same file uploaded again is a change again

    def _on_selected(self, select: W.Select, action: Callable[..., Any], *args: Any) -> None:
        if select.value is None:
            self._call(self._refuse, "choose an entry in the list first")
        else:
            self._call(action, select.value, *args)

    def _drop(self, index: int, field: str) -> None:
        values = list(getattr(self.session, field))
        values.pop(index)
        setattr(self.session, field, tuple(values))

    def _on_kf_chosen(self, change: dict) -> None:
        if change["new"] is not None:
            self.kf_move_to.value = self.session.keyframes[change["new"]].frame

    def _on_part_chosen(self, change: dict) -> None:
        if change["new"] is not None:
            p = self.session.part_temperatures[change["new"]]
            self.part_group.value = p.label
            self.part_temperature.value = p.temperature

    # -- session events ----------------------------------------------------------------------

    @staticmethod
    def _fill(select: W.Select, labels: list[str]) -> None:
        keep = select.value
        select.options = [(label, i) for i, label in enumerate(labels)]
        select.value = keep if keep is not None and keep < len(labels) else None

    def show_body(self, *_: Any) -> None:
        """The groups of the body takes are danced with (the boxes also take joint names)."""
        try:
            parts = self.session.body_parts()
        except ChoreoError:
            groups: list[str] = list(GROUPS)
        else:
            groups = [g for g in GROUPS if parts.groups.get(g)]
        for box in (self.keep_group, self.part_group):
            box.options = groups
        self.show_keyframes()
        self.show_keep()
        self.show_parts()
        self.show_path()

    def show_keyframes(self, *_: Any) -> None:
        frames = self.session.frames
        labels = []
        for k in self.session.keyframes:
            src = "a pose given in code" if k.source in ("", "pose") else k.source
            at = "" if k.source_frame is None else f" frame {k.source_frame}"
            late = f" (past this take's {frames} frames: waits)" if k.frame >= frames else ""
            labels.append(f"take frame {k.frame} ← {src}{at}{late}")
        self._fill(self.kf_list, labels)
        self._summarise()

    def show_keep(self, *_: Any) -> None:
        labels = []
        for k in self.session.keep:
            src = "the clip" if not k.source else k.source.replace("take:", "take #")
            start = "" if k.start is None else f" from its frame {k.start}"
            labels.append(f"{k.label or len(k.joints)} ({len(k.joints)} joints) follow {src}{start}")
        self._fill(self.keep_list, labels)
        self._summarise()

    def show_parts(self, *_: Any) -> None:
        self._fill(self.part_list, [f"{p.label or len(p.joints)} ({len(p.joints)} joints): temperature "
                                    f"{p.temperature:g}" for p in self.session.part_temperatures])
        self._summarise()

    def show_path(self, *_: Any) -> None:
        path = self.session.path
        if path:
            p = np.asarray(path)
            length = float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum())
            frames = self.session.frames
            part = f"; a take of {frames} frames walks its first part" if frames < len(p) else ""
            self.path_info.value = (f"path of {len(p)} frames ({len(p) / self.session.fps:.1f} s), "
                                    f"{length:.3g} long in the clip's units{part}")
        else:
            self.path_info.value = '<span style="color:#777">no path: the model decides where to go</span>'
        self.show_floor()
        self._summarise()

    def show_floor(self, *_: Any) -> None:
        """Redraw the floor picture when the clip, the path or the shown (finished) take changed."""
        try:
            floor = floor_of(self.session)
        except ChoreoError:
            self.floor.layout.display = "none"
            return
        takes, i = self.session.takes, self.session.current_take
        take = takes[i] if takes and 0 <= i < len(takes) and takes[i].status == "done" else None
        key = (id(self.session.seed_clip()), self.session.path, None if take is None else (take.id, take.frames_ready),
               tuple(floor.start))
        if key == self._floor_key:
            return
        self._floor_key = key
        path = np.asarray(self.session.path) if self.session.path else None
        centre = floor.of(take.positions[0]) if take is not None else None
        self.floor.value = floor_png(floor, path, centre, self.floor_size)
        self.floor.layout.display = ""

    def _summarise(self) -> None:
        s = self.session
        parts = []
        if s.keyframes:
            parts.append(f"{len(s.keyframes)} keyframe(s)")
        if s.keep:
            parts.append("kept: " + ", ".join(k.label for k in s.keep))
        if s.part_temperatures:
            parts.append(f"{len(s.part_temperatures)} part temperature(s)")
        if s.path:
            parts.append("a floor path")
        text = " · ".join(parts) if parts else "no directions: the model alone decides"
        self.summary.value = f'<span style="color:#555">{html.escape(text)}</span>'
        self.clear_button.disabled = not parts

    def close(self) -> None:
        for signal, slot in self._slots:
            signal.disconnect(slot, missing_ok=True)
        super().close()
