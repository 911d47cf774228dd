"""The saved session: where it lives, that it is written whole, and that it reads back exactly."""

from __future__ import annotations

import os

import pytest

from guide.engine import route
from guide.model import END, UNSURE, AnswersFile
from guide.session import (HEADER, Walk, load_session, save_session, session_data, session_text,
                           written_size_bound)
from guide.state import session_path
from guide.source import GuideError

from .conftest import run_guide


def unsure(bank, question_id):
    return [UNSURE] if bank.questions[question_id].kind == "multiple" else UNSURE


def first_dropping_change(bank):
    """An answer whose change takes an answered question off the path: (question, old, new, dropped)."""
    for question_id in Walk(bank).path:
        question = bank.questions[question_id]
        if question.kind != "single":
            continue
        for old in question.choices:
            walk = Walk(bank)
            walk.record(question_id, old.id)
            follower = walk.path[walk.path.index(question_id) + 1]
            if bank.questions[follower].kind != "text":
                walk.record(follower, unsure(bank, follower))
            for new in question.choices:
                dropped = walk.would_set_aside(question_id, new.id)
                if dropped:
                    return question_id, old.id, new.id, dropped
    raise AssertionError("the bank has no answer that re-routes")


def test_session_lives_under_guide_home_then_xdg_state_home(monkeypatch, tmp_path):
    monkeypatch.setenv("GUIDE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert session_path() == tmp_path / "home" / "session.yaml"
    monkeypatch.delenv("GUIDE_HOME")
    assert session_path() == tmp_path / "state" / "guide" / "session.yaml"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert session_path() == tmp_path / "user" / ".local" / "state" / "guide" / "session.yaml"


def test_a_relative_xdg_folder_is_ignored_and_listing_the_designs_makes_no_folder(monkeypatch, tmp_path):
    """`XDG_STATE_HOME=relative/path guide designs` made ./relative/path/guide/designs: the XDG spec has a
    relative path ignored, and a listing has nothing to make a folder for."""
    monkeypatch.delenv("GUIDE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("XDG_STATE_HOME", "relative/path")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert session_path() == tmp_path / "user" / ".local" / "state" / "guide" / "session.yaml"
    folder = tmp_path / "work"
    folder.mkdir()
    listed = run_guide("designs", cwd=folder)
    assert (listed.returncode, listed.stderr) == (0, "")
    assert listed.stdout.startswith("No saved designs in ") and listed.stdout.endswith("/.local/state/guide/designs.\n")
    assert list(folder.iterdir()) == [], "neither relative path is used"
    assert not (tmp_path / "user" / ".local").exists(), "no state folder is made to list nothing"


def test_round_trip_keeps_answers_notes_set_aside_and_position(bank, guide_home):
    question_id, old, new, dropped = first_dropping_change(bank)
    walk = Walk(bank)
    walk.retitle("Fundus: [bold]screening[/bold] \x1b[31mred")
    walk.record(question_id, old, note="no")  # YAML 1.1 would read a bare `no` as false
    for follower in dropped:
        walk.record(follower, unsure(bank, follower), note="yes")
    outcome = walk.answer(question_id, new)
    assert outcome.set_aside == dropped
    save_session(walk, session_path())

    text = session_path().read_text()
    assert "set_aside:" in text and f"position: {walk.position}" in text
    loaded = load_session(bank, session_path())
    assert loaded.answers == walk.answers
    assert loaded.position == walk.position
    assert loaded.set_aside == dropped
    assert loaded.answers.notes[question_id] == "no"
    assert loaded.answers.title == "Fundus: [bold]screening[/bold] \x1b[31mred"

    # Changing the answer back brings the set-aside answers back onto the path, notes and all.
    outcome = loaded.answer(question_id, old)
    assert outcome.restored == dropped and loaded.set_aside == []
    assert all(loaded.answers.notes[follower] == "yes" for follower in dropped)


def test_walk_moves_along_the_engine_path(bank):
    walk = Walk(bank)
    assert walk.position == bank.meta.start
    assert walk.forward() is False, "an unanswered question cannot be skipped"
    assert walk.back() is False
    first = walk.position
    walk.answer(first, bank.questions[first].choices[0].id)
    assert walk.position == route(bank, walk.answers.answers)[1]
    assert walk.back() and walk.position == first
    assert walk.forward() and walk.position == walk.path[1]
    with pytest.raises(ValueError):
        walk.jump("not-a-question")


def test_the_panel_worked_out_ahead_is_what_the_answer_then_shows(bank):
    """The app works out the panel for an answer before it is given (the highlighted choice, the ticked
    ones); whichever answer is then given, and in whatever order the answers came, the walk shows what the
    engine gives for the answers it holds, and the path the engine routes."""
    from guide.engine import element_results

    walk = Walk(bank)
    for _ in range(12):
        question = walk.question
        if question is None:
            break
        if question.kind == "text":
            walk.answer(question.id, None)
            continue
        values = [[choice.id] for choice in question.choices[:2]] if question.kind == "multiple" else \
            [choice.id for choice in question.choices]
        ahead = {str(value): walk.after(question.id, value) for value in values}
        for value in values:
            ahead[str(value)].elements_so_far()  # worked out ahead, as the app does for the highlighted choice
        given = values[-1] if len(values) > 1 else values[0]
        walk.answer(question.id, given)
        assert walk.elements_so_far() == element_results(bank, walk.answers.answers)
        assert walk.path == route(bank, walk.answers.answers)
        foreseen = ahead[str(given)]
        assert foreseen.elements_so_far() == walk.elements_so_far()
        assert (foreseen.path, foreseen.position, foreseen.unanswered) == (walk.path, walk.position, walk.unanswered)
        assert foreseen.answers.answers == walk.answers.answers
    first = walk.path[0]
    walk.answer(first, bank.questions[first].choices[0].id)  # an earlier answer changed: nothing kept goes stale
    assert walk.elements_so_far() == element_results(bank, walk.answers.answers)
    assert walk.path == route(bank, walk.answers.answers)


def test_save_is_atomic_and_leaves_no_temporary_files(bank, guide_home, monkeypatch):
    walk = Walk(bank)
    walk.answer(walk.position, UNSURE)
    save_session(walk, session_path())
    before = session_path().read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    walk.answer(walk.position, UNSURE)
    with pytest.raises(GuideError, match="No space left on device"):
        save_session(walk, session_path())
    assert session_path().read_bytes() == before, "a failed save must leave the previous session whole"
    assert sorted(path.name for path in guide_home.iterdir()) == ["session.yaml"]


def test_saving_clears_what_a_killed_writer_left_but_not_a_live_one(bank, guide_home):
    """A SIGKILL between writing the temporary file and renaming it leaves the temporary behind."""
    guide_home.mkdir(parents=True, exist_ok=True)
    leftover = guide_home / ".session.yaml.abc123.tmp"
    leftover.write_text("half a session")
    old = os.stat(leftover).st_mtime - 3600
    os.utime(leftover, (old, old))
    in_progress = guide_home / ".session.yaml.def456.tmp"  # another process may be writing this one now
    in_progress.write_text("being written")
    walk = Walk(bank)
    walk.answer(walk.position, UNSURE)
    save_session(walk, session_path())
    assert sorted(path.name for path in guide_home.iterdir()) == [".session.yaml.def456.tmp", "session.yaml"]


def test_unwritable_folder_is_one_line_error(bank, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(GuideError, match="cannot save the session"):
        save_session(Walk(bank), blocker / "session.yaml")


@pytest.mark.parametrize("content, line, field", [
    ("answers:\n  task: detection\nset_aside:\n  not_a_question: x\n", 4, "set_aside.not_a_question"),
    ("answers:\n  task: teleportation\n", 2, "answers.task"),
    ("bank_id: another-bank\n", 1, "bank_id"),
    ("answers: [\n", 2, None),
    ("answers: {}\ncolour: red\n", 2, "colour"),
    ("answers: {}\ndrafts:\n  not_a_question: x\n", 3, "drafts.not_a_question"),
    ("answers: {}\ndrafts:\n  task: detection\n", 3, "drafts.task"),
])
def test_load_errors_name_file_line_and_field(bank, guide_home, content, line, field):
    guide_home.mkdir()
    session_path().write_text(content)
    with pytest.raises(GuideError) as caught:
        load_session(bank, session_path())
    assert caught.value.file == str(session_path())
    assert caught.value.line == line
    assert caught.value.field == field
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("drafts, field", [("  not_a_question: x\n", "drafts.not_a_question"),
                                           ("  task: detection\n", "drafts.task")])
def test_a_session_with_a_bad_draft_is_refused_by_run_as_by_the_app(tmp_path, drafts, field):
    """The same session file is one file to every command: `guide run --answers` reads it as the app does."""
    session = tmp_path / "session.yaml"
    session.write_text(f"answers: {{}}\nset_aside: {{}}\nposition: task\ndrafts:\n{drafts}")
    result = run_guide("run", "--answers", str(session))
    assert result.returncode == 2
    assert result.stderr.startswith(f"guide: {session}:5: {field}:") and result.stderr.count("\n") == 1


def test_a_draft_is_kept_with_the_session_never_as_an_answer_until_answered(bank, guide_home):
    walk = Walk(bank)
    text_question = next(question.id for question in bank.questions.values() if question.kind == "text")
    save_session(walk, session_path())
    assert "drafts" not in session_path().read_text(), "only a session with a draft names them"
    walk.keep_draft(text_question, "  Fundus photographs ")
    walk.set_note(text_question, "ask the lead")
    save_session(walk, session_path())
    loaded = load_session(bank, session_path())
    assert loaded.drafts == {text_question: "Fundus photographs"} and text_question not in loaded.answers.answers
    assert loaded.answers.notes == {text_question: "ask the lead"}, "a note leaves the draft as it is"
    loaded.answer(text_question, "Fundus photographs of diabetic patients")
    assert loaded.drafts == {}, "the answer takes the draft's place"
    loaded.keep_draft(text_question, "Fundus photographs of diabetic patients")
    assert loaded.drafts == {}, "the answer itself is no draft"


def test_a_duplicated_design_keeps_the_drafts_of_the_original(bank, guide_home):
    from guide.library import duplicate_design, list_designs, new_design_file

    walk = Walk(bank)
    text_question = next(question.id for question in bank.questions.values() if question.kind == "text")
    walk.keep_draft(text_question, "Fundus photographs, half described")
    save_session(walk, new_design_file("Screening"))
    original = next(design for design in list_designs(bank) if design.walk is not None)
    copy = load_session(bank, duplicate_design(original))
    assert copy.drafts == {text_question: "Fundus photographs, half described"}


def test_position_off_the_path_falls_back_to_first_open_question(bank, guide_home):
    walk = Walk(bank)
    walk.answer(walk.position, bank.questions[walk.position].choices[0].id)
    save_session(walk, session_path())
    text = session_path().read_text().replace(f"position: {walk.position}", "position: end")
    session_path().write_text(text)
    assert load_session(bank, session_path()).position == END
    off_path = next(question for question in bank.questions if question not in walk.path)
    session_path().write_text(text.replace("position: end", f"position: {off_path}"))
    assert load_session(bank, session_path()).position == walk.first_open()


def test_a_design_without_a_position_resumes_at_its_first_open_question(bank, guide_home):
    """An answers file put in the designs folder, or a design whose `position` line was deleted by hand, has no
    position: it resumed on the results screen, as if finished, while the library called it unfinished."""
    first = bank.meta.start
    session_path().parent.mkdir(parents=True, exist_ok=True)
    session_path().write_text(f"title: By hand\nanswers:\n  {first}: {bank.questions[first].choices[0].id}\n")
    walk = load_session(bank, session_path())
    assert walk.position == walk.first_open() == walk.path[1]


def test_missing_session_is_an_error_naming_the_file(bank, guide_home):
    with pytest.raises(GuideError) as caught:
        load_session(bank, session_path())
    assert str(session_path()) in str(caught.value)


def test_read_only_walk_refuses_answers(bank):
    walk = Walk(bank, read_only=True)
    with pytest.raises(ValueError):
        walk.answer(walk.position, UNSURE)


def test_nothing_unreadable_is_ever_saved(bank, guide_home):
    """Over-long text is refused when it is entered, so the session file always reads back."""
    walk = Walk(bank)
    with pytest.raises(ValueError, match="your note to .* is 20,001 characters, 1 over the 20,000 a note may have"):
        walk.record("task", UNSURE, note="n" * 20001)
    with pytest.raises(ValueError, match="title: .*300"):
        walk.retitle("T" * 301)
    assert walk.answers.answers == {} and walk.answers.title == "Untitled design"
    walk.record("task", UNSURE, note="n" * 20000)
    save_session(walk, session_path())
    assert load_session(bank, session_path()).answers.notes["task"] == "n" * 20000


def test_emoji_are_saved_as_themselves_and_read_back(bank, guide_home):
    """The fast emitter would write each character beyond U+FFFF as a ten-byte escape."""
    walk = Walk(bank)
    walk.retitle("Skin 🔬 triage")
    walk.record("task", UNSURE, note="ask 🙂 the dermatologists")
    save_session(walk, session_path())
    text = session_path().read_text(encoding="utf-8")
    assert "Skin 🔬 triage" in text and "ask 🙂 the dermatologists" in text and "\\U0001" not in text
    loaded = load_session(bank, session_path())
    assert (loaded.answers.title, loaded.answers.notes["task"]) == ("Skin 🔬 triage", "ask 🙂 the dermatologists")


def test_a_design_too_large_to_read_back_is_refused_when_typed(bank, guide_home):
    """Each note may hold 20,000 characters, but a session file only 2 MiB: the note that would pass that is
    refused with a reason, the walk keeps what it had, and what is saved reads back."""
    walk = Walk(bank)
    questions = [question_id for question_id in bank.questions if bank.questions[question_id].kind != "text"]
    note = "🙂" * 20000  # 80,000 bytes
    taken = 0
    with pytest.raises(ValueError, match="over the 2,097,152 a session file may hold"):
        for question_id in questions:
            walk.record(question_id, UNSURE, note=note)
            taken += 1
    assert 20 < taken < len(questions)
    refused = questions[taken]
    assert refused not in walk.answers.answers and refused not in walk.answers.notes
    save_session(walk, session_path())
    assert len(load_session(bank, session_path()).answers.notes) == taken


@pytest.mark.parametrize("text", ["\x85\u2028\u2029\x7f\ufeff" * 400, "🙂\U0010fffd" * 2000, "\n" * 4000,
                                  " " * 3000 + "x", ("word " * 40 + "\n ") * 60, "'\"\\: #-{}[]&*!|>%@`" * 300,
                                  "a" * 20000],
                         ids=["escapes", "astral", "newlines", "spaces", "folded lines", "punctuation", "long word"])
def test_the_bound_that_spares_writing_the_session_file_is_never_below_its_size(bank, text):
    """Whether a design still fits a session file is settled from a bound on its size, without writing the
    text, unless the bound reaches the limit: whatever the text holds, the file is never larger than the bound."""
    walk = Walk(bank, AnswersFile.model_validate({"answers": {}, "reviews": [
        {"reviewer": text[:200], "decision": "pending", "comments": text[:5000]}]}))
    text = "x" + text[:19998] + "x"  # kept as typed: a note or draft of blanks only is no note
    walk.retitle(text[:300])
    answered, drafted = [question_id for question_id in bank.questions if bank.questions[question_id].kind == "text"][:2]
    walk.record(answered, text[:20000])
    walk.keep_draft(drafted, text[:20000])
    walk.record(walk.path[0], UNSURE, note=text[:20000])
    assert walk.drafts[drafted] and walk.answers.notes[walk.path[0]]
    written = len(session_text(walk).encode("utf-8"))
    assert len(HEADER) + written_size_bound(session_data(walk)) >= written


def test_a_design_too_large_because_of_its_reviews_says_so(bank, guide_home):
    """A design whose reviews fill the file: shortening answers or notes cannot help, so the advice names the
    reviews instead."""
    reviews = [{"reviewer": f"Reviewer {number}", "decision": "pending", "comments": "c" * 400}
               for number in range(4560)]
    walk = Walk(bank, AnswersFile.model_validate({"answers": {}, "reviews": reviews}))
    with pytest.raises(ValueError, match=r"its 4,560 reviews take [\d,]+ bytes: keep older reviews in another file"):
        walk.record("task", UNSURE, note="n" * 20000)


def test_a_saved_design_with_an_answer_of_the_wrong_kind_is_told_what_its_question_takes(bank, guide_home):
    """Resuming a design, listing it and reading it as an answers file say the same: it said "text or a list
    expected" when resumed, where a single-choice question takes no list."""
    guide_home.mkdir()
    session_path().write_text("answers:\n  task: 3\n")
    with pytest.raises(GuideError) as caught:
        load_session(bank, session_path())
    assert caught.value.line == 2 and caught.value.field == "answers.task"
    assert caught.value.problem.startswith("found a number, but a single-choice question takes one of its choices")


def test_kept_work_keeps_what_was_used_last_not_what_was_first_worked_out(bank):
    """The walk keeps a few scores; one asked for again (the answers held, while the highlight moves among the
    choices) must outlive those asked for once since."""
    from guide.session import Kept

    worked = []
    kept = Kept(bank, lambda bank, values: worked.append(values) or len(worked), limit=2)
    held, first, second = {"task": "detection"}, {"task": "segmentation"}, {"task": "registration"}
    kept(held), kept(first), kept(held), kept(second)
    kept(held)
    assert worked == [held, first, second], "the answers held were worked out once"
