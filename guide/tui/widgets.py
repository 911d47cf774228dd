"""Widgets of the walk-through. They display what the engine derived and report what the user did;
they decide nothing about the framework."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual import events
from textual._context import active_app
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Region, Size
from textual.markup import escape
from textual.message import Message
from textual.reactive import Reactive
from textual.screen import ModalScreen, Screen
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.visual import Padding, Visual, VisualType
from textual.widget import Widget, _RenderCache
from textual.widgets import Input, OptionList, RadioButton, Static, TextArea
from textual.widgets.option_list import Option

from guide.report.text import inert as clean
from guide.report.text import shorten, shown_title

if TYPE_CHECKING:  # the start screen uses these widgets, and paints before the models are imported
    from guide.bank import Bank
    from guide.model import ElementResult, Question

NUMBER_KEYS = "1234567890"
CHOICE_LEAD = len("1 ( ) ")  # the cells before a choice's label: its key and its mark
BAR_WIDTH = 10  # and one more cell for the overflow mark
EVIDENCE_INDENT = 3  # the reason under each piece of evidence


def walk_label(element: ElementResult, settled: bool) -> str:
    """An element's level as the walk shows it: while questions remain and no answer has moved the element,
    "Nothing yet", since "Not needed" would read as a conclusion drawn from nothing."""
    return element.level_label if element.evidence or settled else "Nothing yet"


def level_bar(bank: Bank, score: float) -> str:
    """A score as a bar whose full width is twice the top level's threshold, so that level starts half way.
    A score past the full width shows ▸ after it: 9 and 13 look different, and 13 and 30 say they overflow."""
    top = next(level.min_score for level in bank.meta.levels if level.min_score is not None)
    scale = 2 * top
    # Halves round up, not to even: the important threshold (3 of 12) is 2.5 cells and must not draw like 2.
    filled = int(max(0.0, min(1.0, score / scale)) * BAR_WIDTH + 0.5)
    return "█" * filled + "░" * (BAR_WIDTH - filled) + ("▸" if score > scale else " ")


QUOTED_WIDTH = 60  # characters of a title or a problem that a notice or dialog quotes; the library shows them whole


def quoted_title(title: str) -> str:
    """A design's title quoted in a notice: its start only, so that a 300-character title does not fill the corner
    of the screen (the library shows the highlighted design's title whole)."""
    return f"“{shorten(shown_title(title), QUOTED_WIDTH)}”"


def palette_text(text: str) -> str:
    """Bank or user text for a command palette entry, which Textual reads as markup: "[/b]" in a title ended the
    app (MarkupError) as the palette showed it."""
    return escape(clean(text))


def listing(texts: list[str]) -> str:
    """Prompts or sentences one under another, each after a bullet: run together with "; " they would
    end up as "apply.;" where a prompt ends with a full stop."""
    return "".join(f"\n• {clean(text)}" for text in texts)


def looks(content: Content) -> tuple:
    """What a piece of content shows: its text and styles."""
    return content.plain, tuple(content.spans)


def show_content(static: Static, content: Content) -> None:
    """Update a Static only when its text or styles differ: every update lays out the whole screen again,
    and the highlight messages that follow an answer ask for the same content a second time."""
    current = static.content
    if isinstance(current, Content) and looks(current) == looks(content):
        return
    static.update(content)


class SizedScreen(Screen):
    """A screen whose breakpoint classes are set from the terminal's size before it is first styled.
    Textual sets them on the first resize event, after every widget has been styled, and the new
    classes then restyle and lay out the whole screen a second time.

    Below MINIMUM_SIZE (columns, rows) a question and its choices do not fit: the screen is covered by
    TooSmall, which says so, until the terminal is large enough again."""

    MINIMUM_SIZE = (40, 12)

    def __init__(self) -> None:
        super().__init__()
        try:
            width, height = active_app.get().size
        except LookupError:  # built outside a running app: the first resize event sets them
            return
        self.add_class(*self._get_breakpoint_classes(width, self.HORIZONTAL_BREAKPOINTS or []),
                       *self._get_breakpoint_classes(height, self.VERTICAL_BREAKPOINTS or []), update=False)

    def on_resize(self) -> None:
        self._cover_if_too_small()

    def on_screen_resume(self) -> None:
        self._cover_if_too_small()

    def _cover_if_too_small(self) -> None:
        if self.is_current and not TooSmall.fits(self.app.size, self.MINIMUM_SIZE):
            self.app.push_screen(TooSmall(self.MINIMUM_SIZE))


class TooSmall(ModalScreen):
    """Over a screen the terminal is too small to show: says so and the size needed. Keys reach nothing beneath
    (an answer the user cannot see is not taken, and nothing there changes); large enough again, it goes.
    Notices wait under it (one would cover these few words); those still due show again when it goes."""

    DEFAULT_CSS = """
    TooSmall { align: center middle; background: $background; }
    TooSmall Toast { visibility: hidden; }
    TooSmall Static { width: 100%; height: auto; text-align: center; }
    """

    def __init__(self, needed: tuple[int, int]) -> None:
        super().__init__()
        self.needed = needed

    @staticmethod
    def fits(size: Size, needed: tuple[int, int]) -> bool:
        return size.width >= needed[0] and size.height >= needed[1]

    def compose(self) -> ComposeResult:
        yield Static(id="too-small")

    def on_mount(self) -> None:
        self.on_resize()

    def on_resize(self) -> None:
        size = self.app.size
        if self.fits(size, self.needed):
            if self.is_current:  # a second resize can come before the first one's dismissal is done
                self.dismiss()
            return
        self.query_one(Static).update(f"The terminal is {size.width}×{size.height}: too small. Make it at least "
                                      f"{self.needed[0]}×{self.needed[1]}; nothing you typed is lost.")


class ReadingScroll(VerticalScroll):
    """A scroll around text to read. A click on the text leaves the focus where it was, so the keys go on acting
    on the menu, the choices or the box they acted on: a browser user clicks the page to type into it, and took
    the focus off them. Tab still reaches it, to scroll by keys; the mouse wheel scrolls it anyway."""

    FOCUS_ON_CLICK = False


class TextBlock(Static):
    """A Static for text that changes with every answer. Textual lays the whole screen out a second time after
    a layout that changed the size of a widget, as if what it holds might scroll; text does not scroll, so that
    second layout (after the answer's frame, changing no cell) is not asked for.

    Its text can be prepared while the user reads (`prepare`): wrapped, measured and drawn at the present width
    and styles, so that showing it after the answer takes the lines drawn. Lines drawn for another width or
    theme are never used: the width and the style are in the key."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0))
    KEPT = 4  # the text shown and the next questions' (one per route), drawn

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # (text's looks, width, style) -> the text (its height measured at that width) and its lines drawn
        self.drawn: LRUCache[tuple, tuple[Content, list[Strip]]] = LRUCache(self.KEPT)

    def prepare(self, content: Content) -> None:
        """Draw `content` now, as it would be drawn in place of the text shown (nothing while hidden)."""
        width = self.size.width
        if not width or not self.display or not self._drawn_plainly():
            return
        if self._key(content, width) not in self.drawn:
            content.get_height(self.styles, width)  # kept by the text itself, where the layout looks for it
            self._lines(content, width)

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        # A text drawn ahead is shown from what was prepared: its height is measured and its lines are drawn.
        super().update(self.prepared_content(content) if isinstance(content, Content) else content, layout=layout)

    def prepared_content(self, content: Content) -> Content:
        """The prepared text that looks like `content` (its height already measured), or `content` itself."""
        drawn = self.drawn.get(self._key(content, self.size.width))
        return content if drawn is None else drawn[0]

    def _key(self, content: Content, width: int) -> tuple:
        return looks(content), width, self.visual_style

    def _lines(self, content: Content, width: int) -> tuple[Content, list[Strip]]:
        """The text kept for `content`'s looks at this width and style, and its lines, drawn if not yet."""
        key = self._key(content, width)
        drawn = self.drawn.get(key)
        if drawn is None:
            drawn = self.drawn[key] = (content, Visual.to_strips(self, content, width, None, self.visual_style))
        return drawn

    def _drawn_plainly(self) -> bool:
        """Whether the lines depend only on the text, width and style: not while the mouse selects, and no
        alignment that would pad them to the widget's height."""
        return (self.text_selection is None and not self.screen._selecting
                and self.styles.content_align == ("left", "top"))

    def _render_content(self) -> None:
        content = self.content
        width, height = self.size
        if not isinstance(content, Content) or not self._drawn_plainly():
            super()._render_content()
            return
        self._render_cache = _RenderCache(self.size, self._lines(content, width)[1][:height])
        self._dirty_regions.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.drawn.clear()  # a new theme: lines drawn in the old one are never shown again


class KeyBar(Static):
    """The keys that work on this screen, on one line, the command palette's at the right end; clicking a
    key presses it. One widget, where Textual's Footer mounts one per key and rebuilds them all after a
    change of focus: that was most of the cost of showing a screen, and a frame of its own."""

    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $footer-background; text-wrap: nowrap; text-overflow: clip; }
    """
    ALLOW_SELECT = False

    def __init__(self) -> None:
        super().__init__()
        self.keys: tuple[KeyEntry, ...] = ()
        self.palette: KeyEntry | None = None
        self.spans: list[tuple[int, int, str]] = []  # cells from, to, and the key a click there presses
        self.hovered: str | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        if screen is not self.screen:
            return
        app, active = screen.app, screen.active_bindings
        shown: dict[str, KeyEntry] = {}
        for namespace, binding, enabled, _ in active.values():
            if binding.show and binding.action not in shown:  # one entry per action, as the Footer shows
                shown[binding.action] = KeyEntry(binding.key, app.get_key_display(binding), binding.description,
                                                 enabled, namespace is app)
        palette = active.get(app.COMMAND_PALETTE_BINDING) if app.ENABLE_COMMAND_PALETTE else None
        palette_entry = None if palette is None else KeyEntry(palette[1].key, app.get_key_display(palette[1]),
                                                              palette[1].description, palette[2])
        keys = tuple(entry for action, entry in shown.items() if action != "command_palette")
        if (keys, palette_entry) != (self.keys, self.palette):
            self.keys, self.palette = keys, palette_entry
            self._paint()

    def on_resize(self) -> None:
        self._paint()  # the palette's key keeps to the right end

    def _paint(self) -> None:
        # Before its first layout the bar has no size yet; docked at the bottom, it spans the terminal.
        width = self.size.width or self.app.size.width
        keys, palette = list(self.keys), [self.palette] if self.palette else []

        def cells(lead: str) -> int:
            return sum(entry.cell_length(lead) for entry in [*keys, *palette])

        # When the keys do not fit, they close up (no space before each), then the palette's key drops
        # its word, then the screen's last keys give way, then the app's (help, quit): the palette, which
        # lists every command, always shows.
        lead = " " if cells(" ") <= width else ""
        if palette and cells(lead) > width:
            palette = [palette[0]._replace(description="")]
        while keys and cells(lead) > width:
            local = [index for index, entry in enumerate(keys) if not entry.everywhere]
            keys.pop(local[-1] if local else -1)
        content, self.spans = Content(""), []
        for entry in [*keys, *palette]:
            if entry in palette:
                content += " " * max(0, width - content.cell_length - entry.cell_length(lead))
            state = ("" if entry.enabled else " dim") + (" on $block-hover-background" if entry.key == self.hovered else "")
            if entry.enabled:
                self.spans.append((content.cell_length, content.cell_length + entry.cell_length(lead), entry.key))
            content += Content.assemble((f"{lead}{entry.display} ", f"bold $footer-key-foreground{state}"),
                                        (f"{entry.description} " if entry.description else "",
                                         f"$footer-description-foreground{state}"))
        show_content(self, content)

    def _key_at(self, x: int) -> str | None:
        return next((key for start, end, key in self.spans if start <= x < end), None)

    def on_click(self, event: events.Click) -> None:
        key = self._key_at(event.x)
        if key is not None:
            event.stop()
            self.app.simulate_key(key)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover(self._key_at(event.x))

    def on_leave(self) -> None:
        self._hover(None)

    def _hover(self, key: str | None) -> None:
        if key != self.hovered:
            self.hovered = key
            self._paint()


class KeyEntry(NamedTuple):
    key: str
    display: str
    description: str
    enabled: bool
    everywhere: bool = False  # the app's own key (help, quit), on every screen

    def cell_length(self, lead: str) -> int:
        return cell_len(f"{lead}{self.display} ") + (cell_len(f"{self.description} ") if self.description else 0)


class ChoiceList(OptionList):
    """The choices of one question. ↑ ↓ or a choice's number move to it; Enter answers with the
    highlighted choice, or in a multiple-choice question with the ticked ones (space ticks).

    Each row, once drawn, is kept (per text, place, state and width): Textual's option list draws every row
    again whenever its options are set, which a tick, a new width and the layout after each answer all do."""

    MAX_ROWS = 14  # a longer list scrolls, so that the note and the buttons stay close
    MIN_ROWS = 4
    max_rows = MAX_ROWS  # fewer on a short terminal (fit_to); read by Textual's first layout, before __init__ ends

    BINDINGS = [
        Binding("enter", "confirm", "Answer", show=False),
        # An option list scrolls sideways on ← →; here they step through the questions.
        Binding("left", "screen.back", "Back/Next", key_display="←→"),
        Binding("right", "screen.forward", "Next", show=False),
        Binding("space", "toggle", "Tick"),  # on the key bar only where it works (check_action)
    ]
    NOTHING_TICKED = "Tick at least one choice with space, or press u for Unsure."

    class Chosen(Message):
        """Enter or a click answered `question` with `value`."""

        def __init__(self, question: Question, value: str | list[str]) -> None:
            super().__init__()
            self.question, self.value = question, value

    class Ticked(Message):
        """A tick was set or taken off: what Enter answers changed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, compact=True)
        self.styles.max_height = self.max_rows
        self.question: Question | None = None
        self.saved: list[str] = []
        self.ticked: list[str] = []
        self.read_only = False
        self.wrapped_at = 0  # the width the labels were last wrapped for
        # (option's looks, index, style, width) -> its rows drawn; the style holds the state and theme
        self.drawn: LRUCache[tuple, list[Strip]] = LRUCache(128)
        # (question, choices marked, width) -> its options, made and measured ahead (prepare); one per route
        self.prepared: LRUCache[tuple, list[Option]] = LRUCache(4)
        self.row_styles: dict[str, VisualStyle] = {}  # each state's style in the frame being drawn
        self.row_width = 0

    def show(self, question: Question, value, read_only: bool) -> None:
        from guide.engine import chosen

        self.question = question
        self.saved = chosen(value)
        self.ticked = list(self.saved)
        self.read_only = read_only
        self.refresh_bindings()  # space ticks on a multiple-choice question only
        self._refresh_prompts(first_highlight(question, self.saved))

    def prepare(self, question: Question, value) -> Iterator[None]:
        """Make, measure and draw the rows that `show` will draw for this question, at the present width and
        styles (the focus and theme are in them), while the user reads the question before it: a step a row."""
        from guide.engine import chosen

        width = self.scrollable_content_region.width
        if not width:
            return
        # A list that gains or loses its scrollbar (it shows one beside more than max_rows) gives or takes its cells.
        scrolls = len(question.choices) > self.max_rows
        width += self.styles.scrollbar_size_vertical * (self.show_vertical_scrollbar - scrolls)
        saved = chosen(value)
        options = self._options_for(question, saved, width)
        highlighted = first_highlight(question, saved)
        padding = self.get_component_styles("option-list--option").padding
        label_width = width - self._get_left_gutter_width() - padding.width
        styles: dict[str, VisualStyle] = {}
        for index, option in enumerate(options):
            self._get_visual(option).get_height(self.styles, label_width)  # kept by the label: the layout's measure
            if index < self.max_rows or index == highlighted:  # the rows in view
                yield
                self._rows(option, index, self._row_style(self._row_state(option, index, highlighted), styles), width)

    def fit_to(self, rows: int) -> None:
        """Show at most `rows` rows (at least a few, at most MAX_ROWS): on a short terminal a long list scrolls
        sooner, so that what follows it stays in view."""
        self.max_rows = max(self.MIN_ROWS, min(self.MAX_ROWS, rows))
        self.styles.max_height = self.max_rows
        if self.question is not None:
            self._refresh_scrollbars()

    @property
    def multiple(self) -> bool:
        return self.question is not None and self.question.kind == "multiple"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.multiple and not self.read_only if action == "toggle" else True

    @property
    def pending(self) -> bool:
        """Ticks that differ from the saved answer (only a multiple-choice question has them)."""
        return self.multiple and sorted(self.ticked) != sorted(self.saved)

    def _refresh_prompts(self, highlighted: int | None = None) -> None:
        """Set the options for the question and its marks, highlighting `highlighted` (None: the one highlighted)."""
        assert self.question is not None
        if highlighted is None:
            highlighted = self.highlighted
        # A list of more choices than it shows gets its scrollbar first, and its labels are wrapped for the width
        # that leaves. Before the first layout there is no width yet; on_resize wraps again when a label needs it.
        self.show_vertical_scrollbar = len(self.question.choices) > self.max_rows
        self.wrapped_at = self.scrollable_content_region.width
        marked = self.ticked if self.multiple else self.saved
        self.set_options(self._options_for(self.question, marked, self.wrapped_at))
        if highlighted is not None:
            self.highlighted = highlighted

    def _options_for(self, question: Question, marked: list[str], width: int) -> list[Option]:
        """The question's choices as options, those in `marked` marked, their labels wrapped for `width`."""
        key = (question.id, tuple(marked), width)
        options = self.prepared.get(key)
        if options is not None:
            return options
        multiple = question.kind == "multiple"
        options = []
        for index, choice in enumerate(question.choices):
            number = NUMBER_KEYS[index] if index < len(NUMBER_KEYS) else " "
            on = choice.id in marked
            mark = ("[x]" if on else "[ ]") if multiple else ("(•)" if on else "( )")
            label = Content(clean(choice.label))
            if self._too_long(label, width):  # a label that wraps continues under its first word, not the number
                label = Content("\n" + " " * CHOICE_LEAD).join(label.wrap(width - CHOICE_LEAD))
            options.append(Option(Content.assemble((number, "bold"), " ", mark, " ", label), id=choice.id))
        self.prepared[key] = options
        return options

    @staticmethod
    def _too_long(label: Content, width: int) -> bool:
        """Whether a label needs more than one line at this width (0: not laid out yet)."""
        return width > CHOICE_LEAD + 8 and CHOICE_LEAD + label.cell_length > width

    def on_resize(self, event: events.Resize) -> None:
        width = self.scrollable_content_region.width
        if self.question is None:
            return
        if width == self.wrapped_at:
            # Textual's option list forgets its lines and draws every row again on any resize, such as the new
            # height after an answer (a frame after the answer's, changing no cell); at the same width they stand.
            event.prevent_default()
            return
        labels = [Content(clean(choice.label)) for choice in self.question.choices]
        if any(self._too_long(label, width) or self._too_long(label, self.wrapped_at) for label in labels):
            self._refresh_prompts()

    def _refresh_scrollbars(self) -> None:
        # The list grows to max_rows before it scrolls, so its lines alone decide its scrollbar, as soon as they
        # are measured. Textual decides from the height of the last layout: a list longer than the last
        # question's got a scrollbar (and its labels a column less) until the layout took it away again, which
        # changed its width and made the screen lay itself out once more after the frame; and a long list was
        # painted without its scrollbar first.
        self.show_vertical_scrollbar = self.virtual_size.height > self.max_rows

    def render_lines(self, crop: Region) -> list[Strip]:
        # What every row needs is looked up once a frame, not once a row.
        self.row_width = self.scrollable_content_region.width
        self.row_styles = {}
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        lines = self._line_cache.lines  # up to date: OptionList.render_lines updated them for this frame
        line = self.scroll_offset.y + y
        if line >= len(lines):
            return super().render_line(y)
        index, row = lines[line]
        option = self.options[index]
        rows = self._rows(option, index, self._row_style(self._row_state(option, index, self.highlighted),
                                                          self.row_styles), self.row_width)
        return rows[row] if row < len(rows) else super().render_line(y)

    def _row_state(self, option: Option, index: int, highlighted: int | None) -> str:
        return ("option-list--option-disabled" if option.disabled
                else "option-list--option-highlighted" if index == highlighted
                else "option-list--option-hover" if index == self._mouse_hovering_over else "")

    def _row_style(self, state: str, styles: dict[str, VisualStyle]) -> VisualStyle:
        style = styles.get(state)
        if style is None:  # (worked out only for the states drawn: each one costs)
            style = styles[state] = self.get_visual_style("option-list--option", *[state] if state else [])
        return style

    def _rows(self, option: Option, index: int, style: VisualStyle, width: int) -> list[Strip]:
        key = (looks(option.prompt), index, style, width)
        rows = self.drawn.get(key)
        if rows is None:
            rows = self.drawn[key] = self._draw_option(option, index, style, width)
        return rows

    def _draw_option(self, option: Option, index: int, style: VisualStyle, width: int) -> list[Strip]:
        """The option's rows as Textual's `_get_option_render` draws them (the choices have no dividers), for a
        width and place given: a row can be drawn before its option is in the list."""
        padding = self.get_component_styles("option-list--option").padding
        visual = self._get_visual(option)
        width -= self._get_left_gutter_width()
        rows = Visual.to_strips(self, Padding(visual, padding) if padding else visual, width, None, style)
        return [row.extend_cell_length(width, style.rich_style).apply_meta({"option": index}) for row in rows]

    def highlight_number(self, index: int) -> None:
        """A number key moves to its choice, in both kinds of question; only Enter answers, only space ticks."""
        if self.question is not None and index < len(self.question.choices):
            self.highlighted = index

    def action_toggle(self) -> None:
        if self.read_only or not self.multiple or self.highlighted is None or self.question is None:
            return
        from guide.model import UNSURE

        choice = self.question.choices[self.highlighted].id
        if choice in self.ticked:
            self.ticked.remove(choice)
        elif choice == UNSURE:
            self.ticked = [UNSURE]
        else:
            self.ticked = [item for item in self.ticked if item != UNSURE] + [choice]
        order = [option.id for option in self.question.choices]
        self.ticked.sort(key=order.index)
        self._refresh_prompts()
        self.post_message(self.Ticked())

    @property
    def answer_on_enter(self) -> str | list[str] | None:
        """What Enter answers: the highlighted choice, or in a multiple-choice question the ticked ones (the
        screen shows them ticked); None when there is nothing to answer with."""
        if self.question is None or self.highlighted is None:
            return None
        if self.read_only:
            return self.saved
        if not self.multiple:
            return self.question.choices[self.highlighted].id
        return list(self.ticked) or None

    def action_confirm(self) -> None:
        """Give the screen the answer Enter gives (keys typed after it wait until the screen has taken it: see
        GuideApp.key_waits); with nothing to answer, say so (a multiple-choice question with nothing ticked)."""
        value = self.answer_on_enter
        if value is not None and self.question is not None:
            self.post_message(self.Chosen(self.question, value))
        elif self.multiple and self.highlighted is not None:
            self.notify(self.NOTHING_TICKED)

    def action_select(self) -> None:
        # A click: answers a single-choice question, ticks a multiple-choice one.
        if self.multiple:
            self.action_toggle()
        else:
            self.action_confirm()


def first_highlight(question: Question, saved: list[str]) -> int:
    """The choice highlighted when a question is shown: the first one of its answer, or its first."""
    choice_ids = [choice.id for choice in question.choices]
    return choice_ids.index(saved[0]) if saved and saved[0] in choice_ids else 0


class ParagraphInput(TextArea):
    """A wrapped text box for a one-paragraph answer; Enter answers instead of starting a new line."""

    BINDINGS = [
        Binding("enter", "submit", "Answer", key_display="⏎"),
        Binding("escape", "screen.leave_field", "Leave the text box", key_display="esc"),
    ]

    class Submitted(Message):
        def __init__(self, value: str, question_id: str | None) -> None:
            super().__init__()
            self.value, self.question_id = value, question_id

    question_id: str | None = None  # the question whose answer the box holds, set by the screen that shows it

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
            return
        await super()._on_key(event)

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self.text, self.question_id))


class ListWithEnds(OptionList):
    """An option list that stops at its first and last option instead of going round from one to the other."""

    def action_cursor_down(self) -> None:
        if self.highlighted is None or self.highlighted < self.option_count - 1:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.highlighted is None or self.highlighted > 0:
            super().action_cursor_up()


class OneLineInput(Input):
    """A one-line box that keeps every line of a paste, joined with spaces: Textual's Input keeps only the first
    line, and a note or title pasted from a document lost the rest without a word."""

    def _on_paste(self, event: events.Paste) -> None:
        # Textual then calls Input's own handler (each class's, down the MRO), which inserts the text as it is now.
        lines = [line.strip() for line in event.text.splitlines()]
        if len(lines) > 1:
            event.text = " ".join(line for line in lines if line)


class NoteInput(OneLineInput):
    """The note on an answer. Enter keeps it and goes back to the answer, as Esc does; the key bar says so.
    Focused, it shows its end with the cursor there, so typing goes on after what was written (leaving it shows
    the note from its start)."""

    BINDINGS = [Binding("enter", "submit", "Keep the note, back to the answer", key_display="⏎")]

    def on_focus(self) -> None:
        self.cursor_position = len(self.value)


class MarkedRadioButton(RadioButton):
    """A radio button whose state shows in its mark, as the choices' do, not in its colour alone."""

    @property
    def _button(self) -> Content:
        return Content.assemble("(", ("•" if self.value else " ", "bold"), ")")


class ElementBars(Widget, can_focus=True):
    """One line per element: letter, bar, level in words, and how the last answer moved it. ↑ ↓ or a
    click pick the element whose evidence the panel shows; Enter opens its lesson.

    Five lines, each drawn on its own and kept: an option list here cost about 8 ms of every answer (its
    options are re-rendered and re-measured, and a new highlight scrolls the panel), and one piece of content
    for all five was rendered whole when one bar moved. An answer repaints only the lines it changed."""

    COMPONENT_CLASSES = {"element-bars--cursor"}
    DEFAULT_CSS = """
    ElementBars { height: auto; background: $surface; }
    ElementBars:focus { background-tint: $foreground 5%; }
    ElementBars > .element-bars--cursor { background: $block-cursor-blurred-background; }
    ElementBars:focus > .element-bars--cursor {
        color: $block-cursor-foreground; background: $block-cursor-background; text-style: $block-cursor-text-style;
    }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Previous element", show=False),
        Binding("down", "move(1)", "Next element", show=False),
        Binding("enter", "screen.learn", "Learn this element"),
    ]

    class Picked(Message):
        """The user picked another element; the panel shows its evidence."""

    def __init__(self, bank: Bank, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.bank = bank
        self.element_ids: list[str] = []
        self.lines: list[Content] = []
        self.highlighted = 0
        # (line's looks, row, under the cursor, width) -> that line drawn in this widget's present styles
        self.drawn: LRUCache[tuple, Strip] = LRUCache(64)

    @property
    def selected(self) -> str | None:
        return self.element_ids[self.highlighted] if self.element_ids else None

    def show(self, elements: list[ElementResult], moved: dict[str, float], highlight: str | None = None,
             settled: bool = True) -> None:
        """Draw the elements; `highlight` (an element id) moves the cursor there; `settled`: no question of the
        walk is left open (`walk_label`)."""
        lines, element_ids, highlighted = self._lines_for(elements, moved, highlight, settled)
        before, highlighted_before = [looks(line) for line in self.lines], self.highlighted
        self.element_ids, self.lines, self.highlighted = element_ids, lines, highlighted
        if len(lines) != len(before):  # the first time: the height is set once, one line per element
            self.refresh(layout=True)
            return
        self._repaint([row for row, line in enumerate(lines)
                       if looks(line) != before[row] or (row in (highlighted, highlighted_before)
                                                         and highlighted != highlighted_before)])

    def prepare(self, elements: list[ElementResult], moved: dict[str, float], highlight: str | None,
                settled: bool) -> None:
        """Draw now the lines `show` would show for these elements, while the user reads."""
        lines, _, highlighted = self._lines_for(elements, moved, highlight, settled)
        width = self.size.width
        if width and len(lines) == len(self.lines) and not self._wraps(lines):
            for row, line in enumerate(lines):
                self._strip(line, row, row == highlighted, width)

    def _lines_for(self, elements: list[ElementResult], moved: dict[str, float], highlight: str | None,
                   settled: bool) -> tuple[list[Content], list[str], int]:
        """The elements' lines, their ids, and the row the cursor goes to."""
        lines = []
        for element in elements:
            delta = moved.get(element.id, 0.0)
            change = f" ▲{delta:+g}" if delta > 0 else f" ▼{delta:+g}" if delta < 0 else ""
            lines.append(Content.assemble(
                (element.short, "bold"), " ", level_bar(self.bank, element.score), " ",
                (walk_label(element, settled), "bold" if element.level == self.bank.level_ids[0] else ""),
                (change, "italic"),
            ))
        element_ids = [element.id for element in elements]
        highlighted = element_ids.index(highlight) if highlight in element_ids else min(self.highlighted, len(lines) - 1)
        return lines, element_ids, max(highlighted, 0)

    def _repaint(self, rows: list[int]) -> None:
        if self._wraps():  # a line on two rows moves those under it: all of them are drawn again
            self.refresh()
        elif rows:
            self.refresh(*(Region(0, row, self.size.width, 1) for row in rows))

    def _wraps(self, lines: list[Content] | None = None) -> bool:
        """Whether a line (of those shown, or of `lines`) is wider than the widget (a tiny terminal): then the
        lines are one wrapped text."""
        return any(line.cell_length > self.size.width for line in (self.lines if lines is None else lines))

    def render(self) -> Content:
        """All the lines as one text: what the layout measures, the mouse selects, and a tiny terminal shows."""
        cursor = self.get_visual_style("element-bars--cursor")
        width = self.size.width
        return Content("\n").join(
            line.extend_right(max(0, width - line.cell_length)).stylize(cursor) if index == self.highlighted else line
            for index, line in enumerate(self.lines)
        )

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self._wraps() or self.text_selection is not None or y >= len(self.lines):
            return super().render_line(y)
        return self._strip(self.lines[y], y, y == self.highlighted, width)

    def _strip(self, line: Content, y: int, cursor: bool, width: int) -> Strip:
        """The line on row `y`, drawn once and kept."""
        key = (looks(line), y, cursor, width)
        strip = self.drawn.get(key)
        if strip is None:
            if cursor:
                line = line.extend_right(width - line.cell_length).stylize(self.get_visual_style("element-bars--cursor"))
            strip = Visual.to_strips(self, line, width, 1, self.visual_style)[0].apply_offsets(0, y)
            self.drawn[key] = strip
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.drawn.clear()  # the focus or a new theme: the lines keep their colours in them
        self.refresh()

    def pick(self, index: int) -> None:
        if self.lines and 0 <= index < len(self.lines) and index != self.highlighted:
            rows = [self.highlighted, index]
            self.highlighted = index
            self._repaint(rows)
            self.post_message(self.Picked())

    def action_move(self, step: int) -> None:
        self.pick(self.highlighted + step)

    def on_click(self, event: events.Click) -> None:
        # A click only picks the element whose evidence is shown; Enter opens its lesson.
        self.pick(event.y)


def evidence_paragraphs(bank: Bank, element: ElementResult, fresh: frozenset[str] = frozenset(),
                        settled: bool = True) -> list[tuple[Content, int]]:
    """'Raised by' and 'lowered by' for one element, in the user's own answers, as paragraphs with the
    indent their wrapped lines take; evidence from rules in `fresh` (fired by the last answer) comes
    first, marked new; `settled` as for `walk_label`."""
    paragraphs = [(Content.assemble((clean(bank.elements[element.id].name), "bold"),
                                    f": {walk_label(element, settled)} (score {element.score:g})"), 0)]
    if element.held_below:
        paragraphs.append((Content.styled(element.held_below, "italic"), 0))
    ordered = sorted(element.evidence, key=lambda item: item.rule not in fresh)
    raised = [item for item in ordered if item.weight > 0]
    lowered = [item for item in ordered if item.weight < 0]
    for heading, items in (("raised by:", raised), ("lowered by:", lowered)):
        if not items:
            continue
        paragraphs += [(Content(""), 0), (Content.styled(heading, "bold"), 0)]
        # Rules fired by one answer (several ticks of a multiple-choice question, say) share it: the answer
        # once, with its total weight, and each reason under it with its own.
        by_answer: dict[str, list] = {}
        for item in items:
            by_answer.setdefault(item.answer_text, []).append(item)
        for answer_text, group in by_answer.items():
            new = any(item.rule in fresh for item in group)
            paragraphs.append((Content.assemble(("new " if new else "", "bold italic"),
                                                (f"{sum(item.weight for item in group):+g} ", "bold"),
                                                clean(answer_text)), 0))
            paragraphs += [(Content.styled(f"{item.weight:+g} " * (len(group) > 1) + clean(item.because), "italic"),
                            EVIDENCE_INDENT) for item in group]
    if not element.evidence:
        paragraphs += [(Content(""), 0), (Content("No answer so far moves this element."), 0)]
    return paragraphs


def hanging_lines(paragraph: Content, first: int, rest: int, width: int) -> list[Content]:
    """A paragraph wrapped to `width`, its first line `first` cells in and the others `rest` (a bullet's text
    under its text, not under its bullet)."""
    lines = paragraph.wrap(max(1, width - max(first, rest))) or [Content("")]
    return [Content(" " * first) + lines[0], *(Content(" " * rest) + line for line in lines[1:])]


def hanging_text(paragraphs: list[tuple[Content, int, int]], width: int) -> Content:
    """Paragraphs, each with its first line's indent and its other lines', as one text wrapped to `width`."""
    return Content("\n").join(line for paragraph, first, rest in paragraphs
                              for line in hanging_lines(paragraph, first, rest, width))


def indented_lines(paragraph: Content, indent: int, width: int) -> list[Content]:
    """A paragraph wrapped to `width`, every line `indent` cells in (a reason under its evidence)."""
    margin = Content(" " * indent)
    return [margin + line for line in paragraph.wrap(max(1, width - indent))] or [Content("")]


def evidence_lines(bank: Bank, element: ElementResult, width: int) -> Content:
    """The evidence paragraphs as one text, wrapped to `width`."""
    return Content("\n").join(line for paragraph, indent in evidence_paragraphs(bank, element)
                              for line in indented_lines(paragraph, indent, width)) + "\n"


class EvidenceView(ScrollView):
    """The evidence behind the selected element, drawn a line at a time. Only the lines in view are
    rendered, and a paragraph seen before (most of them, from one answer to the next) is not wrapped
    again: as a Static, re-measuring and re-rendering the whole evidence cost about 7 ms of every answer."""

    DEFAULT_CSS = "EvidenceView { height: 1fr; scrollbar-size-vertical: 1; scrollbar-gutter: stable; }"
    FOCUS_ON_CLICK = False  # as ReadingScroll's: a click on the evidence leaves the keys acting on the question

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.paragraphs: list[tuple[Content, int]] = []
        # (paragraph's looks, indent, width) -> its lines; bounded, and big enough for every element's evidence
        self.wrapped: LRUCache[tuple, list[Strip]] = LRUCache(1024)
        self.lines: list[Strip] = []
        self.wrapped_width: int | None = None  # the width `lines` were wrapped for
        self.selection_drawn: Selection | None = None  # the mouse's selection in the frame being drawn

    @property
    def text(self) -> str:
        """What the view shows, line by line."""
        return "\n".join(line.text.rstrip() for line in self.lines)

    def show(self, paragraphs: list[tuple[Content, int]]) -> None:
        if [(looks(paragraph), indent) for paragraph, indent in paragraphs] == \
                [(looks(paragraph), indent) for paragraph, indent in self.paragraphs]:
            return
        self.paragraphs = paragraphs
        self._wrap()

    def prepare(self, paragraphs: list[tuple[Content, int]]) -> None:
        """Wrap these paragraphs now at the present width, as `show` would, without showing them."""
        width = self.scrollable_content_region.width
        if width and width == self.wrapped_width:
            style = self.visual_style
            for paragraph, indent in paragraphs:
                self._strips(paragraph, indent, width, style)

    def on_resize(self) -> None:
        if self.scrollable_content_region.width != self.wrapped_width:
            self._wrap()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.wrapped.clear()  # a new theme: the lines keep their colours in them
        self.wrapped_width = None
        self.refresh()

    def _wrap(self) -> None:
        width = self.scrollable_content_region.width
        if not width:  # not laid out yet: the first render wraps
            self.wrapped_width = None
            return
        style = self.visual_style
        lines = [strip for paragraph, indent in self.paragraphs for strip in self._strips(paragraph, indent, width, style)]
        before = self.lines if width == self.wrapped_width else None
        self.lines, self.wrapped_width = lines, width
        # Set quietly: Textual would lay the screen out again and draw every row of the view, and neither is
        # needed (the view's height does not follow its lines; its scrollbar is set below).
        self.set_reactive(ScrollView.virtual_size, Size(width, len(lines)))
        self.scroll_y = self.validate_scroll_y(self.scroll_y)  # fewer lines than before: no further than they go
        # Its scrollbar too, in this frame: Textual would size it after the next layout, a frame late.
        height = self.scrollable_content_region.height
        self.show_vertical_scrollbar = len(lines) > height
        self.vertical_scrollbar.window_virtual_size = len(lines)
        self.vertical_scrollbar.window_size = height
        if before is None:
            self.refresh()
            return
        # Only the rows in view whose line changed are drawn again: a paragraph seen before is the same Strip.
        top = self.scroll_offset.y
        changed = [row for row in range(height)
                   if (lines[top + row] if top + row < len(lines) else None)
                   is not (before[top + row] if top + row < len(before) else None)]
        if changed:  # (a refresh of no region would draw them all)
            self.refresh(*(Region(0, row, self.size.width, 1) for row in changed))

    def _strips(self, paragraph: Content, indent: int, width: int, style: VisualStyle) -> list[Strip]:
        """The paragraph's lines at this width, wrapped once and kept."""
        key = (looks(paragraph), indent, width)
        strips = self.wrapped.get(key)
        if strips is None:
            # What indented_lines does, on strips: wrapped and rendered in one pass, 0.7 ms less an answer.
            margin = Strip.blank(indent, style.rich_style)
            strips = [Strip.join([margin, strip]).extend_cell_length(width, style.rich_style)
                      for strip in Visual.to_strips(self, paragraph, max(1, width - indent), None, style)
                      ] or [Strip.blank(width, style.rich_style)]
            self.wrapped[key] = strips
        return strips

    def render_lines(self, crop: Region) -> list[Strip]:
        # What every row needs is looked up once a frame, not once a row (about 30 rows an answer).
        if self.scrollable_content_region.width != self.wrapped_width:  # the first frame after mounting, or a new theme
            self._wrap()
        self.selection_drawn = self.text_selection
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        if index >= len(self.lines):
            return Strip.blank(self.wrapped_width or 0, self.visual_style.rich_style)
        line = self.lines[index]
        # The mouse can select and copy the evidence, as in any text: mark the selected cells, and tell
        # the screen which line and cell each one is.
        span = self.selection_drawn.get_span(index) if self.selection_drawn is not None else None
        if span is not None:
            start, end = span
            end = line.cell_length if end == -1 else min(end, line.cell_length)
            before, selected, after = line.divide([start, end, line.cell_length])
            selected = Strip(Segment.apply_style(selected, post_style=self._selection_style()), selected.cell_length)
            line = Strip.join([before, selected, after])
        return line.apply_offsets(0, index)

    def _selection_style(self) -> RichStyle:
        """The screen's selection colours laid over this view's background (they are translucent)."""
        selection = self.screen.get_component_styles("screen--selection")
        background = self.visual_style.background + selection.background
        return RichStyle(bgcolor=background.rich_color, color=selection.color.rich_color if selection.color.a else None)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract(self.text), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()


class ReasoningPanel(Vertical):
    """Element priorities that move with every answer, and the evidence behind the selected one."""

    def __init__(self, bank: Bank, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.bank = bank
        self.elements: list[ElementResult] | None = None
        self.scores: dict[str, float] | None = None
        self.settled = True  # no question of the walk is left open (walk_label)
        self.fresh: frozenset[str] = frozenset()

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("Priorities so far", "bold"), classes="panel-title")
        yield ElementBars(self.bank, id="bars")
        yield EvidenceView(id="evidence")

    def show(self, elements: list[ElementResult], settled: bool = True) -> None:
        scores, moved, self.fresh, biggest = self._changes_to(elements)
        self.elements, self.scores, self.settled = elements, scores, settled
        self.query_one(ElementBars).show(elements, moved, biggest, settled)
        self._show_evidence()

    def prepare(self, elements: list[ElementResult], settled: bool) -> None:
        """Draw the bars and wrap the evidence `show` would show for these elements now, while the user reads:
        an answer that leads to them then finds its lines drawn."""
        if self.elements is None:
            return
        _, moved, fresh, biggest = self._changes_to(elements)
        bars = self.query_one(ElementBars)
        bars.prepare(elements, moved, biggest, settled)
        element_id = biggest or bars.selected
        element = next(item for item in elements if item.id == element_id)
        self.query_one(EvidenceView).prepare(evidence_paragraphs(self.bank, element, fresh, settled))

    def _changes_to(self, elements: list[ElementResult]) -> tuple[dict[str, float], dict[str, float], frozenset[str],
                                                                   str | None]:
        """From the elements shown to these: their scores, how far each moved, the rules that newly fired, and
        the element moved most (None when none moved), whose evidence the panel follows after an answer."""
        scores = {element.id: element.score for element in elements}
        if self.elements is None or self.scores is None:
            return scores, {}, frozenset(), None
        moved = {key: scores[key] - self.scores.get(key, 0.0) for key in scores}
        fired = {item.rule for element in elements for item in element.evidence}
        before = {item.rule for element in self.elements for item in element.evidence}
        biggest = max(moved, key=lambda key: abs(moved[key]))
        return scores, moved, frozenset(fired - before), biggest if moved[biggest] else None

    def on_element_bars_picked(self, event: ElementBars.Picked) -> None:
        event.stop()
        self._show_evidence()

    def selected_element(self) -> str | None:
        return None if self.elements is None else self.query_one(ElementBars).selected

    def _show_evidence(self) -> None:
        element_id = self.selected_element()
        if element_id is None or self.elements is None:
            return
        element = next(item for item in self.elements if item.id == element_id)
        self.query_one(EvidenceView).show(evidence_paragraphs(self.bank, element, self.fresh, self.settled))
