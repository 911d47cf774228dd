"""The start screen: what the tool does, the five elements at a glance, and where to begin."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from guide.load import ElementLine
from guide.source import GuideError, shown_name
from guide.report.text import number_name, shorten, shown_title
from guide.tui.dialogs import AskDialog, Confirm, RenameDialog
from guide.tui.widgets import (QUOTED_WIDTH, KeyBar, ReadingScroll, SizedScreen, clean, palette_text, quoted_title,
                               show_content)

if TYPE_CHECKING:  # the library needs the models, which the start screen is painted without
    from guide.library import Design

# Cells of the screen's width that are not the designs list's: the start screen's padding, its scroll bar and
# the list's.
DESIGN_LIST_MARGIN = 6

INTRO = ("guide walks you through the interpretability framework of Wang et al. (IEEE Access, 2024): you describe "
         "the use case, users, goals, risks and constraints of a medical-imaging model, and it shows which elements "
         "of interpretability the model needs and why. It then ranks method families for those elements, plans how "
         "to evaluate them, and writes the design document.")


def file_name(design: Design) -> str:
    """A design's file name as `guide designs` shows it: a control character as its escape, not dropped, so that
    `ESC[31mred.yaml` does not look like `red.yaml`."""
    return clean(shown_name(design.path.name))


def design_title(design: Design) -> str:
    """A design's title as shown; a broken design's file name, as the title guide could not read may be wrong."""
    return shown_title(design.title) if design.kind != "broken" else file_name(design)


def design_facts(design: Design) -> str:
    """The file, state and time of last change of a design, under the list and in the palette."""
    return f"{file_name(design)} · {clean(design.state)} · changed {design.changed_text}"


class Glance(Static):
    """The heading and a line per element (one widget: every widget costs start-up time). A question too long
    for the line ends after a whole word, with an ellipsis."""

    def __init__(self, elements: tuple[ElementLine, ...]) -> None:
        super().__init__(self.lines(elements, 80), id="glance")
        self.elements = elements

    @staticmethod
    def lines(elements: tuple[ElementLine, ...], width: int) -> Content:
        rows = [Content.styled(f"The {number_name(len(elements))} elements", "bold")]
        for short, element_name, question in elements:
            name = f"{short} {clean(element_name)}  "
            rows.append(Content.assemble((name, "bold"), shorten(clean(question), width - len(name))))
        return Content("\n").join(rows)

    def on_resize(self) -> None:
        show_content(self, self.lines(self.elements, self.content_region.width))


class StartScreen(SizedScreen):
    VERTICAL_BREAKPOINTS = [(0, "-short"), (24, "-tall")]
    BINDINGS = [
        Binding("n", "app.new_design", "New"),
        # The design keys are on the key bar while there is a design to act on; they act on the highlighted one.
        Binding("r", "resume", "Resume"),
        Binding("t", "rename", "Rename"),
        Binding("d", "duplicate", "Duplicate"),
        Binding("x,delete", "delete", "Delete", key_display="x"),
        Binding("p", "app.presets", "Presets"),
        Binding("o", "app.open_file", "Open"),
        Binding("l", "app.learn", "Learn"),
        # The palette lists every design by its title (`design_commands`): typing a few of its words finds it.
        Binding("slash", "app.command_palette", "Find a design", show=False),
    ]

    def compose(self) -> ComposeResult:
        with ReadingScroll(id="start"):
            yield Static(Content.styled("guide: what should “interpretable” mean for your model?", "bold"),
                         id="start-title")
            yield Static(INTRO, id="start-intro")
            yield OptionList(id="menu")
            keys = (("⏎", "resume"), ("t", "rename"), ("d", "duplicate"), ("x", "delete"), ("/", "find"))
            if not self.app.offers_resume:  # a browser tab's one design: no library to change or search
                keys = keys[:1]
            yield Static(Content.assemble(("Designs:", "bold"), *(part for key, word in keys
                                                                for part in ((f" {key}", "bold"), f" {word}"))),
                         id="designs-title")
            yield OptionList(id="designs")
            yield Static(id="design-detail")
            yield Static(id="start-error")
            if not self.app.offers_resume:  # a browser tab: where its answers are kept, said as a note, not an error
                yield Static("In a browser this tab's answers are saved on the server for this tab only: reloading the "
                             "page offers them again here, but no other tab can resume them. Export the design "
                             "document to keep them (its front matter holds every answer).", id="browser-note")
            yield Glance(self.app.elements_at_a_glance)
        yield KeyBar()

    def __init__(self) -> None:
        super().__init__()
        self.designs: list[Design] = []
        self.entries_width = 0  # the width the designs' lines were last written for

    def on_mount(self) -> None:
        self.refresh_menu()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rename", "duplicate", "delete"):
            return bool(self.designs) and self.app.offers_resume
        return bool(self.designs) if action == "resume" else True

    def on_screen_resume(self) -> None:
        self.refresh_menu()

    def refresh_menu(self, highlight: Path | None = None) -> None:
        try:
            self.designs, problem = self.app.designs(), None
        except GuideError as error:  # a state folder that cannot be made: a new design still runs, and says so
            self.designs, problem = [], error
        self.refresh_bindings()
        entries = [("new", "n", "Start a new design"), ("presets", "p", "Open a preset case as a worked example")]
        if self.app.offers_resume:
            entries.append(("open", "o", "Open an answers file or design document"))
        entries += [("learn", "l", f"Learn the {number_name(len(self.app.elements_at_a_glance))} elements"),
                    ("help", "?", "Help: keys and the framework")]
        menu = self.query_one("#menu", OptionList)
        menu.set_options([Option(Content.assemble((key, "bold"), "  ", label), id=action) for action, key, label in entries])
        listing = self.query_one("#designs", OptionList)
        paths = [design.path for design in self.designs]
        self.show_entries(paths.index(highlight) if highlight in paths else 0 if paths else None)
        listing.display = self.query_one("#designs-title").display = bool(self.designs)
        self.query_one("#design-detail").display = bool(self.designs)
        if not self.designs:  # the menu has the keys: Enter acts on its first entry at once, as it shows
            menu.highlighted = 0
        (listing if self.designs else menu).focus()
        error = self.query_one("#start-error", Static)
        if problem:
            error.update(Content.assemble(("The saved designs cannot be listed: ", "bold"), clean(str(problem))))
        error.display = bool(problem)

    def show_entries(self, highlighted: int | None) -> None:
        """The designs' lines, written for the list's width, with `highlighted` highlighted."""
        listing = self.query_one("#designs", OptionList)
        titles = Counter(design.title for design in self.designs)
        width = self.entries_width = self.app.size.width - DESIGN_LIST_MARGIN
        listing.set_options([Option(self.entry(design, width, titles[design.title] > 1)) for design in self.designs])
        listing.highlighted = highlighted

    def on_resize(self) -> None:
        # SizedScreen.on_resize runs too: Textual calls each class's handler in turn, up the MRO.
        if self.designs and self.app.size.width - DESIGN_LIST_MARGIN != self.entries_width:
            self.show_entries(self.query_one("#designs", OptionList).highlighted)

    @staticmethod
    def entry(design: Design, width: int, title_shared: bool = False) -> Content:
        """A design's line, one line of `width` cells however long its title or state: they are cut after a whole
        word, with an ellipsis (the highlighted design is shown whole under the list), and the time of its last
        change keeps to the right end. When another design has the same title, its file name tells them apart."""
        style = {"finished": "bold", "broken": "bold $text-error"}.get(design.kind, "")
        title = design_title(design)
        file = f"  ({file_name(design)})" if title_shared and design.kind != "broken" else ""
        state, changed = clean(design.state), design.changed_text
        room = max(0, width - len(changed) - 4)  # for the title and the state, two spaces after each
        # The title takes what the state leaves, and at least half when both are long.
        title_room = min(len(title) + len(file), max(room // 2, room - len(state)))
        title = shorten(title, max(1, title_room - len(file)))
        state = shorten(state, max(1, room - len(title) - len(file)))
        gap = " " * max(2, width - len(title) - len(file) - len(state) - len(changed) - 2)
        return Content.assemble((title, "bold"), (file, "$text-muted"), "  ", (state, style), gap, changed)

    @on(OptionList.OptionHighlighted, "#designs")
    def _show_detail(self, event: OptionList.OptionHighlighted) -> None:
        design = self.designs[event.option_index]
        show_content(self.query_one("#design-detail", Static), Content.assemble(
            (design_title(design), "bold"), "\n", (design_facts(design), "$text-muted")))

    def design_commands(self) -> Iterator[SystemCommand]:
        """A command per design for the palette, which finds one by typing a few words of its title."""
        for design in self.designs:
            yield SystemCommand(f"Resume design: {palette_text(design_title(design))}", palette_text(design_facts(design)),
                                lambda design=design: self.app.action_resume(design))

    def highlighted_design(self) -> Design | None:
        index = self.query_one("#designs", OptionList).highlighted
        return self.designs[index] if self.designs and index is not None else None

    def action_resume(self) -> None:
        self.app.action_resume(self.highlighted_design())

    def action_rename(self) -> None:
        design = self.highlighted_design()
        if design is None:
            return
        from guide.library import refuse_unrenamable

        try:
            refuse_unrenamable(design)  # said before a title is asked for
        except GuideError as error:
            self.notify(clean(str(error)), title="Cannot rename", severity="warning")
            return

        def entered(dialog: AskDialog, value: str) -> None:
            from guide.library import rename_design

            try:
                rename_design(design, value, self.app.bank)
            except (ValueError, GuideError) as error:
                dialog.show_error(str(error))
                return
            dialog.dismiss(None)
            self.refresh_menu(design.path)
            self.notify(f"The design is now {quoted_title(value)}.", title="Renamed")

        self.app.push_screen(RenameDialog("The title heads the design document; the design's file keeps its name.",
                                          entered, design.title))

    def action_duplicate(self) -> None:
        design = self.highlighted_design()
        if design is None:
            return
        from guide.library import duplicate_design

        try:
            copy = duplicate_design(design)
        except GuideError as error:
            self.notify(clean(str(error)), title="Cannot duplicate", severity="error")
            return
        self.refresh_menu(copy)
        self.notify(f"Saved a copy of {quoted_title(design.title)} as {clean(copy.name)}, highlighted in the list: "
                    "x deletes it if you did not mean to copy it.", title="Duplicated", timeout=10)

    def action_delete(self) -> None:
        design = self.highlighted_design()
        if design is None:
            return
        from guide.library import refuse_undeletable

        try:
            refuse_undeletable(design)  # said before deleting is offered
        except GuideError as error:
            self.notify(clean(str(error)), title="Cannot delete", severity="warning")
            return

        def delete(agreed: bool | None) -> None:
            if not agreed:
                return
            from guide.library import delete_design

            try:
                delete_design(design)
            except GuideError as error:
                self.notify(clean(str(error)), title="Not deleted", severity="error")
                return
            self.refresh_menu()
            self.notify(f"Deleted {file_name(design)}.", title="Deleted")

        if design.kind == "broken":  # a file guide cannot read has no design document to export
            what, state = "broken file", design.problem_text
            keep = f"To keep it, copy {clean(str(design.path))} somewhere else first."
        else:
            what, state, keep = "design", design.state, "Export its design document first to keep it."
        state = shorten(clean(state), QUOTED_WIDTH)  # its start, as of a title: a YAML error can run to lines
        self.app.push_screen(Confirm(f"Delete {quoted_title(design.title)}?", f"The {what} {file_name(design)} is "
                                     f"deleted for good ({state}). {keep} → and Enter delete it.",
                                     yes="Delete it", yes_key=False), delete)

    @on(OptionList.OptionSelected, "#designs")
    def _design_chosen(self, event: OptionList.OptionSelected) -> None:
        self.app.action_resume(self.designs[event.option_index])

    @on(OptionList.OptionSelected, "#menu")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        actions = {"new": self.app.action_new_design, "presets": self.app.action_presets,
                   "open": self.app.action_open_file, "learn": self.app.action_learn, "help": self.app.action_help}
        actions[event.option.id]()
