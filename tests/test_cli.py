"""The command line as a user meets it: presets, documents, help and errors."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from guide.bank import read_answers
from guide.engine import evaluate
from guide.report.text import md
from guide.session import Walk, save_session

from .conftest import CASES, FIXED_DATE, ROOT, run_guide
from .test_session import first_dropping_change, unsure

GOLDEN = Path(__file__).parent / "golden"
REQUIRED_SECTIONS = ("Summary", "Method families", "Evaluation plan", "Open questions", "Appendix: the full trace",
                     "Element evidence", "Evaluation guidance", "Answers", "How this was derived", "References")


def headings(markdown: str, level: int = 2) -> list[str]:
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [tokens[index + 1].content for index, token in enumerate(tokens)
            if token.type == "heading_open" and token.tag == f"h{level}"]


@pytest.mark.parametrize("case", CASES)
def test_preset_document_matches_reviewed_golden_copy(case):
    """The golden documents were read by eye before being committed; any change must be looked at again.

    Regenerate with GUIDE_UPDATE_GOLDEN=1 after reviewing the difference.
    """
    result = run_guide("run", "--case", case, "--date", FIXED_DATE)
    assert result.returncode == 0, result.stderr
    golden = GOLDEN / f"{case}.md"
    if os.environ.get("GUIDE_UPDATE_GOLDEN"):
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
def test_the_document_names_questions_by_their_words_before_the_trace(case, bank):
    """Readers meet questions by their prompts; ids such as `model_role` belong to the answers in the trace."""
    document = run_guide("run", "--case", case, "--date", FIXED_DATE).stdout
    body = document.split("\n---\n", 1)[1].split("\n## Appendix: the full trace\n", 1)[0]
    named = sorted({word for word in re.findall(r"[a-z_]+", body) if word in bank.questions and "_" in word})
    assert not named, f"question ids in the text for readers: {named}"


@pytest.mark.parametrize("case", CASES)
def test_preset_document_holds_every_section(case):
    document = (GOLDEN / f"{case}.md").read_text(encoding="utf-8")
    assert [section for section in REQUIRED_SECTIONS if section not in headings(document)] == []
    assert "this tool's reading" in document


@pytest.mark.parametrize("case", CASES)
def test_a_document_says_each_thing_once_and_leads_with_the_decision(bank, case):
    document = (GOLDEN / f"{case}.md").read_text(encoding="utf-8")
    body, trace = document.split("\n## Appendix: the full trace\n")
    answers = read_answers(bank.cases()[case], bank)
    result = evaluate(bank, answers)
    # Every check of the plan and every answer in words appears once, the answers only in the trace.
    for step in result.evaluation:
        assert document.count(md(step.text)) == 1, step.text
    for record in result.answers:
        assert f"(`{record.question}`)" not in body and trace.count(f"(`{record.question}`)") == 1
    summary = body.split("\n## Summary\n")[1].split("\n## ")[0]
    for part in ("**What will be built:**", "**Deliberately not done:**",
                 "**Risks named in the answers, and how each moved the priorities and the ranking:**"):
        assert part in summary
    assert all(f"**{md(bank.methods[family].name)}**" in summary for family in result.complementary)
    assert "**Measure:**" in body.split("\n## Evaluation plan\n")[1]


def plan_of_changed_preset(bank, tmp_path: Path, old: str, new: str) -> str:
    """The evaluation plan of the dr-screening preset with one piece of its answers file replaced."""
    answers = tmp_path / "answers.yaml"
    text = bank.cases()["dr-screening"].read_text(encoding="utf-8")
    assert old in text
    answers.write_text(text.replace(old, new), encoding="utf-8")
    document = run_guide("run", "--answers", str(answers), "--date", FIXED_DATE).stdout
    return document.split("\n## Evaluation plan\n")[1].split("\n## ")[0]


def test_a_measure_the_answers_rule_out_is_marked_in_the_plan_with_what_to_do_instead(bank, tmp_path):
    plan = plan_of_changed_preset(bank, tmp_path, "region_annotations: can_be_made", "region_annotations: not_feasible")
    # What to measure instead stands in the measure's place, the measure it replaces under it, with the reason.
    instead = md(" ".join(bank.needs["region_annotations"].evaluate_without.split()))
    replaced = plan.split(f"**Measure:** {instead}")[1].split("\n- ")[0]
    # Read as the replaced measure, not as the replacement; its threshold and sample stay with it.
    assert "*Replaces this measure, ruled out by your answers because it assumes that pixel masks or boxes" in replaced
    assert "or can be made:* Share of held-out cases whose map points" in replaced
    [pointing_game] = [item for item in bank.elements["localization"].acceptance
                       if "region_annotations" in item.requires]
    assert md(" ".join(pointing_game.threshold.split())) not in replaced
    assert md(" ".join(pointing_game.sample.split())) not in replaced


def test_constraints_in_the_users_words_are_read_for_what_they_put_in_doubt(bank, tmp_path):
    """A reviewer sees which phrases of the free text doubt the plan, and which answer settles each."""
    plan = plan_of_changed_preset(bank, tmp_path, "  other_constraints: >-\n", "  other_constraints: >-\n    We have no masks.\n")
    assert "**Conflict with your answers.** Your own words (\u201cno masks\u201d) doubt what this measure assumes" in plan
    doubts = plan.split("Your words put in doubt what the answers do not rule out")[1]
    assert doubts.count("\n- ") == 1
    assert "- \u201cno masks\u201d: pixel masks or boxes of the findings or structures exist or can be made? Now your answers say it " \
           "holds. Settle it in: " in doubts
    assert md(bank.questions["region_annotations"].prompt) in doubts


def test_a_designs_own_use_case_paragraph_opens_its_document(tmp_path):
    """A design made in the app has no description: the document opened with its facts table, and the use case in
    the designer's words (the paragraph "reviewers read first") was only in the appendix, its paragraphs run into
    one table cell. It now opens the document, Markdown and HTML, paragraph by paragraph."""
    answers = tmp_path / "knee.yaml"
    answers.write_text("title: Knee\nanswers:\n  task: detection\n  use_case_summary: |-\n"
                       "    Knee radiographs from two clinics.\n\n    Readers check each marked osteophyte.\n",
                       encoding="utf-8")
    for suffix in ("md", "html"):
        result = run_guide("run", "--answers", str(answers), "--out", str(tmp_path / f"knee.{suffix}"))
        assert result.returncode == 0, result.stderr
    markdown = (tmp_path / "knee.md").read_text(encoding="utf-8")
    body = markdown.split("\n---\n", 1)[1]
    opening = body.split("| | |")[0]
    assert "Knee radiographs from two clinics.\n\nReaders check each marked osteophyte." in opening
    html = (tmp_path / "knee.html").read_text(encoding="utf-8")
    heading_end = html.index("</h1>")
    assert html.index("<p>Knee radiographs from two clinics.</p>") > heading_end
    assert html.index("<p>Readers check each marked osteophyte.</p>") < html.index("<table", heading_end)


def document_of(tmp_path: Path, answers_yaml: str) -> str:
    """The Markdown document `guide run` writes for these answers."""
    answers = tmp_path / "answers.yaml"
    answers.write_text(answers_yaml, encoding="utf-8")
    result = run_guide("run", "--answers", str(answers))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_note_on_a_question_off_the_path_is_listed_with_the_set_aside_answers(tmp_path):
    """A note typed on a question a later change took off the path, with no answer to set aside, was only in the
    front matter: the document's Answers and Set aside tables did not show it (outside9a)."""
    document = document_of(tmp_path, "title: Knee\nanswers:\n  task: diagnosis_classification\n"
                                      "notes:\n  annotation_detail: Boxes drawn by one radiologist\n")
    set_aside = document.split("### Set aside", 1)[1].split("\n\n#", 1)[0]
    assert "(`annotation_detail`) | *not answered* | Boxes drawn by one radiologist |" in set_aside


def test_the_summarys_risks_credit_no_move_to_an_unsure_answer(tmp_path, bank):
    """"Where could shortcuts come from? *Unsure*: moves Gradient / attribution maps +1", under the line of the
    answer that fired that rule with the same +1: a reviewer counted two, and read that an unsure answer moved the
    ranking (outside9a)."""
    document = document_of(tmp_path, "title: Shortcuts\nanswers:\n  task: detection\n"
                                      "  shortcut_risk: plausible_shortcuts\n  shortcut_sources: [unsure]\n")
    risks = document.split("**Risks named in the answers", 1)[1].split("\n\n**", 1)[0]
    assert "*Shortcuts are plausible*: moves" in risks and "Gradient / attribution maps +1" in risks
    assert bank.questions["shortcut_sources"].prompt not in risks and "Unsure" not in risks


def test_the_summarys_risks_that_moved_nothing_say_what_was_asked(bank):
    """"Also answered, moving nothing in this bank: Both are costly; Moderate." left a reviewer to guess the questions
    (outside9a, outside9b): each answer that moved nothing comes with its question, as the answers that moved do."""
    document = run_guide("run", "--case", "breast-cancer-detection").stdout
    risks = document.split("**Risks named in the answers", 1)[1].split("\n\n**", 1)[0]
    nothing = next(line for line in risks.splitlines() if line.startswith("- Also answered, moving nothing"))
    assert f"{bank.questions['error_direction'].prompt} *Both are costly*" in nothing


def test_a_design_that_needs_no_element_yet_says_nothing_is_to_be_built(tmp_path, bank):
    """With every element at "not needed" (only an unsure task), the summary said the top-ranked family
    "will be built", and that it serves three elements the same summary calls not needed."""
    answers = tmp_path / "early.yaml"
    answers.write_text("title: Early\nanswers:\n  task: unsure\n", encoding="utf-8")
    result = run_guide("run", "--answers", str(answers))
    assert result.returncode == 0, result.stderr
    summary = result.stdout.split("\n## Summary\n")[1].split("\n## ")[0]
    assert ("**What will be built:** nothing yet: the answers so far call for no element of interpretability "
            "(see *Open questions*).") in summary
    assert not any(f"**{md(method.name)}**" in summary for method in bank.methods.values())


def test_cases_lists_the_presets():
    result = run_guide("cases")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == sorted(CASES)


def test_out_writes_the_same_document(tmp_path):
    out = tmp_path / "design.md"
    result = run_guide("run", "--case", "dr-screening", "--date", FIXED_DATE, "--out", str(out))
    assert result.returncode == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8") == (GOLDEN / "dr-screening.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name, starts", [
    ("design.html", "<!DOCTYPE html>"), ("design.JSON", "{"), ("design.markdown", "---"), ("design.txt", "---"),
])
def test_without_format_the_out_files_name_decides_it(tmp_path, name, starts):
    """`--out design.html` writes HTML: a file named .html holding Markdown would open as one grey paragraph."""
    out = tmp_path / name
    result = run_guide("run", "--case", "dr-screening", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8").startswith(starts)


@pytest.mark.parametrize("args, message", [
    (("run", "--case", "dr-screening", "--format", "md", "--out", "design.html"),
     "--out design.html: the name says HTML, but --format is md; drop --format, or give the file a name that fits"),
    (("diff", "a.md", "b.md", "--out", "changes.html"),
     "--out changes.html: the name says HTML, but this command writes plain text or Markdown"),
    (("compare", "--case", "dr-screening", "design.md", "--out", "x.html"),
     "--out x.html: the name says HTML, but this command writes plain text or Markdown"),
    (("graph", "--format", "dot", "--out", "graph.mmd"), "--out graph.mmd: the name says Mermaid, but --format is dot"),
    # A design document written again in another format would lose what the old one held (test_check).
    (("run", "--answers", "design.md", "--format", "html", "--out", "design.md"),
     "--out design.md: the name says Markdown, but --format is html"),
    # A suffix of no format guide writes: Markdown in x.pdf would not open as one.
    (("run", "--case", "dr-screening", "--out", "x.pdf"),
     "--out x.pdf: this command writes Markdown, HTML or JSON: end the name in .md, .html or .json, not .pdf"),
    (("what-if", "--case", "dr-screening", "--sensitivity", "--out", "x.docx"),
     "--out x.docx: this command writes plain text or Markdown: end the name in .txt or .md, not .docx"),
    (("codebook", "--out", "codebook.html"), "--out codebook.html: the name says HTML, but this command writes Markdown"),
    (("graph", "--out", "graph.svg"), "--out graph.svg: this command writes Mermaid or Graphviz DOT: end the name in "
                                      ".mmd or .dot, not .svg"),
])
def test_an_out_file_named_for_another_format_is_refused_before_anything_is_read(tmp_path, args, message):
    result = run_guide(*args, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert f"(see guide {args[0]} --help)" in result.stderr  # that command's options, not the main ones
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ("run", "--case", "dr-screening", "--out", "x\ny.md"),
    ("run", "--case", "dr-screening", "--out", "a\x1b[31mb.md"),
    ("codebook", "--out", "code\tbook.md"),
    ("graph", "--out", "g\u202egnp.dot"),
])
def test_an_out_name_holding_a_control_character_is_refused(tmp_path, args):
    """A name with a line break or an escape sequence was written as given, a file a shell lists as two lines
    or in red; as design names are, it is refused in one line (the character shown as its escape), exit 2."""
    result = run_guide(*args, cwd=tmp_path)
    shown = args[-1].encode("unicode_escape").decode("ascii")
    assert (result.returncode, result.stderr.count("\n")) == (2, 1), result.stderr
    assert (f"--out {shown}: the name holds a character that is not printable: give a name without control "
            "characters") in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_schema_folder_named_with_a_control_character_is_refused(tmp_path):
    result = run_guide("schema", "--out", "schemas\nhere", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, "guide: schemas\\nhere: the name holds a character that is not "
                                                     "printable: give a name without control characters\n")
    assert list(tmp_path.iterdir()) == []


def test_graph_writes_dot_to_a_file_named_dot(tmp_path):
    out = tmp_path / "graph.dot"
    assert run_guide("graph", "--out", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8").startswith("digraph ")


@pytest.mark.parametrize("args, message", [
    (("run", "--case", "no-such-case"), "no case 'no-such-case' (known: brain-encoding, breast-cancer-detection, dr-screening)"),
    (("run", "--answers", "missing.yaml"), "missing.yaml: No such file or directory"),
    (("run", "--case", "dr-screening", "--out", "/nonexistent/dir/doc.md"), "the folder to write into does not exist"),
    # Path("") is the current folder: the name was said to be "." and a folder.
    (("run", "--case", "dr-screening", "--out", ""), "--out '': the name is empty; give a file name"),
    pytest.param(("run", "--case", "dr-screening", "--out", "/root/../proc/doc.md"),
                 "/root/../proc/doc.md: the folder to write into does not exist or takes no new files",
                 marks=pytest.mark.skipif(os.geteuid() != 0, reason="others may not write in /proc at all")),
    (("run",), "one of the arguments --answers --case is required"),
    (("run", "--case", "dr-screening", "--format", "docx"), "invalid choice: 'docx'"),
    (("frobnicate",), "invalid choice: 'frobnicate'"),
    # An option the command lacks: the command's own error and --help, not the main parser's (outside9a).
    (("designs", "--out", "x.md"), "guide designs: error: unrecognized arguments: --out x.md (see guide designs --help)"),
    (("cases", "--format", "json"), "guide cases: error: unrecognized arguments: --format json (see guide cases --help)"),
    (("--bogus",), "guide: error: unrecognized arguments: --bogus (see guide --help)"),
])
def test_unusable_input_is_one_line_and_exit_2(args, message):
    result = run_guide(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_version_and_help():
    assert run_guide("--version").stdout.startswith("guide ")
    for command in ("run", "cases"):
        result = run_guide(command, "--help")
        assert result.returncode == 0 and "--bank" in result.stdout


def test_headless_run_never_imports_textual():
    code = ("import sys, io, contextlib; from guide.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): code = main(['run', '--case', 'dr-screening'])\n"
            "assert code == 0\n"
            "print(sorted(name for name in sys.modules if name.split('.')[0] in ('textual', 'rich')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_exported_document_gets_the_usual_permissions(tmp_path):
    """A teammate must be able to read a document written with --out, as with any file the user makes."""
    previous = os.umask(0o022)
    try:
        result = run_guide("run", "--case", "dr-screening", "--out", str(tmp_path / "design.md"))
    finally:
        os.umask(previous)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "design.md").stat().st_mode & 0o777 == 0o644
    assert [path.name for path in tmp_path.iterdir()] == ["design.md"]


# ---------------------------------------------------------------------------------------------
# --out writes where it points and replaces only regular files (guide/files.py, write_output).


def golden_dr_screening() -> str:
    return (GOLDEN / "dr-screening.md").read_text(encoding="utf-8")


def test_out_through_a_link_writes_the_file_it_names_and_keeps_the_link(tmp_path):
    real = tmp_path / "documents" / "design.md"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "design.md"
    link.symlink_to(real)
    result = run_guide("run", "--case", "dr-screening", "--date", FIXED_DATE, "--out", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(real), "the link is still a link to the same file"
    assert real.read_text(encoding="utf-8") == golden_dr_screening()


def test_out_to_an_existing_file_keeps_its_permissions(tmp_path):
    private = tmp_path / "design.md"
    private.write_text("old\n")
    private.chmod(0o600)
    assert run_guide("run", "--case", "dr-screening", "--out", str(private)).returncode == 0
    assert private.stat().st_mode & 0o777 == 0o600, "a private document stays private"


def test_out_to_a_fifo_writes_through_it(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    # Returns once cat has the FIFO open for reading, as guide needs (it does not wait for a reader); held
    # open until guide is done, so that cat reads all it writes.
    holding = os.open(fifo, os.O_WRONLY)
    try:
        try:
            result = run_guide("run", "--case", "dr-screening", "--date", FIXED_DATE, "--out", str(fifo))
        finally:
            os.close(holding)
        assert result.returncode == 0, result.stderr
        assert fifo.is_fifo(), "the FIFO is still a FIFO, not replaced by a file"
        assert reader.communicate(timeout=30)[0].decode("utf-8") == golden_dr_screening()
    finally:
        reader.kill()
        reader.wait()


def test_out_to_a_fifo_that_nothing_reads_is_one_line_not_a_hang(tmp_path):
    """It waited for a reader for ever; the app's export already refused at once, and now both do."""
    fifo = tmp_path / "f.md"
    os.mkfifo(fifo)
    result = subprocess.run([sys.executable, "-m", "guide", "run", "--case", "dr-screening", "--out", str(fifo)],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"guide: {fifo}: nothing is reading from this FIFO\n"
    assert fifo.is_fifo()


def test_out_to_a_device_writes_through_it(tmp_path):
    """As root the tool used to replace the device node itself (/dev/null became a file); a copy of it here."""
    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs CAP_MKNOD")
    result = run_guide("run", "--case", "dr-screening", "--out", str(device))
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(device.lstat().st_mode) and device.lstat().st_rdev == os.makedev(1, 3)


def test_out_dash_is_standard_output(tmp_path):
    result = run_guide("run", "--case", "dr-screening", "--date", FIXED_DATE, "--out", "-", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == golden_dr_screening()
    assert list(tmp_path.iterdir()) == [], "no file named -"


def test_out_dev_stdout_on_a_pipe_writes_into_the_pipe(tmp_path):
    """`--out /dev/stdout | head` said "/dev/stdout: No such file or directory": the link leads to a pipe, which
    is written through as a FIFO is."""
    result = run_guide("run", "--case", "dr-screening", "--date", FIXED_DATE, "--out", "/dev/stdout", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == golden_dr_screening()


@pytest.mark.parametrize("args", [
    ("run", "--case", "dr-screening"), ("diff", "a.md", "b.md"), ("compare", "--case", "dr-screening", "design.md"),
    ("what-if", "--case", "dr-screening", "--sensitivity"), ("codebook",), ("graph",), ("precedents",),
])
def test_out_ending_in_a_slash_is_refused_not_written_as_a_file(tmp_path, args):
    """`--out newdir/` exited 0 having written a file named newdir: the name says a folder."""
    result = run_guide(*args, "--out", "newdir/", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert f"--out newdir/: ends in /: give a file name (see guide {args[0]} --help)" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [("run", "--case", "dr-screening"), ("codebook",), ("graph",)])
def test_out_ending_in_a_dot_is_refused_as_the_typo_it_is(tmp_path, args):
    """`--out x.md.` wrote a file named x.md., which says no format and opens with nothing."""
    result = run_guide(*args, "--out", "x.md.", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert f"--out x.md.: the name ends in a dot, which says no format: drop the dot (see guide {args[0]} --help)" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["run", "diff", "compare", "what-if", "codebook", "graph", "precedents"])
def test_out_help_says_which_names_are_refused(command):
    """--out's help said another suffix or a control character is refused; a name ending in / or in a dot, or
    longer than a file system takes, was refused unannounced, after a user had typed it."""
    said = " ".join(run_guide(command, "--help").stdout.split())
    assert ("refused: another suffix, a name ending in / or in a dot, over 255 bytes, or with a control "
            "character") in said


def test_out_longer_than_a_file_name_may_be_is_refused_in_words_and_the_longest_that_fits_is_written(tmp_path):
    """300 characters failed with "File name too long" after the whole name; 250 failed too, though a file system
    takes 255 bytes: the temporary file beside it, named after it, was longer."""
    longest = "é" * 125 + "x.md"  # 254 bytes, in 129 characters
    written = run_guide("run", "--case", "dr-screening", "--out", longest, cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert [path.name for path in tmp_path.iterdir()] == [longest]
    (tmp_path / longest).unlink()
    refused = run_guide("run", "--case", "dr-screening", "--out", "a" * 297 + ".md", cwd=tmp_path)
    assert refused.returncode == 2 and refused.stdout == ""
    assert (f"--out {'a' * 39}…{'a' * 17}.md: the name is too long (300 bytes; a file name takes at most 255): "
            "give a shorter one (see guide run --help)") in refused.stderr
    assert list(tmp_path.iterdir()) == []


def test_out_to_a_folder_is_one_line(tmp_path):
    result = run_guide("run", "--case", "dr-screening", "--out", str(tmp_path))
    assert result.returncode == 2 and result.stderr == f"guide: {tmp_path}: is a folder; give a file name\n"


KNEE = """title: Knee osteoarthritis grading
answers:
  task: diagnosis_classification
  modality: radiograph
"""


# An --out named .yaml is refused by its name already (test_an_out_file_named_for_another_format...): these reach
# the input through a name an output may have (.txt says no format), or through a link.
@pytest.mark.parametrize("command, out, input_name", [
    (["run", "--answers", "knee.txt"], "knee.txt", "knee.txt"),
    (["run", "--answers", "knee.txt", "--format", "html"], "knee.txt", "knee.txt"),
    (["run", "--answers", "knee.yaml"], "link.md", "knee.yaml"),
    (["compare", "knee.txt", "--case", "dr-screening"], "knee.txt", "knee.txt"),
    (["what-if", "knee.txt", "--set", "task=detection"], "knee.txt", "knee.txt"),
    (["diff", "other.yaml", "knee.txt"], "knee.txt", "knee.txt"),
    (["run", "--bank", "bank", "--case", "dr-screening"], "case.md", "bank/cases/dr-screening.yaml"),
    (["codebook", "--bank", "bank"], "rules.md", "bank/rules.yaml"),
], ids=["run", "run html", "through a link", "compare", "what-if", "diff", "a bank's case", "a bank file"])
def test_out_never_replaces_a_file_the_command_reads(command, out, input_name, tmp_path, bank_copy):
    """Only a design document written again in its own format may replace itself (test_check: the update
    `guide check` suggests), since it carries everything it held."""
    (tmp_path / "knee.yaml").write_text(KNEE)
    (tmp_path / "knee.txt").write_text(KNEE)
    (tmp_path / "design.md").write_text(run_guide("run", "--answers", "knee.yaml", cwd=tmp_path).stdout)
    (tmp_path / "other.yaml").write_text(KNEE)
    (tmp_path / "link.md").symlink_to("knee.yaml")
    (tmp_path / "case.md").symlink_to("bank/cases/dr-screening.yaml")
    (tmp_path / "rules.md").symlink_to("bank/rules.yaml")
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    result = run_guide(*command, "--out", out, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2, f"guide: {out}: is the same file as the input {input_name}; write to another file so that the input is kept\n")
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == before, "nothing written"


@pytest.mark.parametrize("args, message", [
    (["run", "--answers", "-"],
     "guide run: error: argument --answers: standard input is not accepted: give a file name (see guide run --help)"),
    (["diff", "knee.yaml", ""], "guide diff: error: argument B: the path is empty (see guide diff --help)"),
    (["run", "--answers", ""], "guide run: error: argument --answers: the path is empty (see guide run --help)"),
    (["lint", "knee.yaml"], "guide: knee.yaml: not a directory; a bank is a folder of YAML files"),
    (["run", "--bank", "knee.yaml", "--case", "dr-screening"],
     "guide: knee.yaml: not a directory; a bank is a folder of YAML files"),
], ids=["answers -", "empty A", "empty --answers", "lint a file", "--bank a file"])
def test_a_path_that_cannot_be_what_is_asked_says_why(args, message, tmp_path):
    """These once read `-: No such file or directory`, `.: is a directory` and `bank directory not found`."""
    (tmp_path / "knee.yaml").write_text(KNEE)
    result = run_guide(*args, cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message + "\n")


def test_a_saved_session_gives_the_document_the_app_would_export(bank, tmp_path):
    """What the app saves after every answer can go straight to `guide run`: the answers on its path
    count, and what a changed answer set aside is listed as set aside, as in the app's results."""
    question_id, old, new, dropped = first_dropping_change(bank)
    walk = Walk(bank)
    walk.record(question_id, old)
    for follower in dropped:
        walk.record(follower, unsure(bank, follower))
    walk.answer(question_id, new)
    text_question = next(question.id for question in bank.questions.values() if question.kind == "text")
    walk.keep_draft(text_question, "Typed, never confirmed")  # a draft is not an answer: not in the document
    session = save_session(walk, tmp_path / "session.yaml")
    assert "set_aside:" in session.read_text() and "drafts:" in session.read_text()

    result = run_guide("run", "--answers", str(session), "--format", "json", "--date", FIXED_DATE)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["answers_file"]["answers"] == walk.answers.answers
    markdown = run_guide("run", "--answers", str(session), "--date", FIXED_DATE).stdout
    assert "Set aside" in headings(markdown, level=3)
    assert all(bank.questions[follower].prompt in markdown.split("### Set aside")[1] for follower in dropped)
    assert "Typed, never confirmed" not in markdown


# The least each command that reads a bank needs besides --bank; a design document made with the built-in bank.
BANK_COMMAND_ARGS = {
    "run": ("--case", "dr-screening"),
    "cases": (),
    "designs": (),
    "check": (str(GOLDEN / "dr-screening.md"),),
    "lint": (),
    "codebook": (),
    "diff": (str(GOLDEN / "dr-screening.md"), str(GOLDEN / "dr-screening.md")),
    "what-if": (str(GOLDEN / "dr-screening.md"), "--sensitivity"),
    "graph": (),
    "compare": (str(GOLDEN / "dr-screening.md"), "--case", "dr-screening"),
    "precedents": (),
    "serve": ("--port", "1"),  # never reached: a broken bank stops serve before it listens
}


def bank_option_spellings(bank: Path, command: str, *args: str) -> dict[str, tuple[str, ...]]:
    return {"before the command": ("--bank", str(bank), command, *args),
            "after the command": (command, *args, "--bank", str(bank))}


def test_every_command_that_reads_a_bank_is_covered_below():
    from guide.cli import build_parser

    (commands,) = [action for action in build_parser()._actions if action.dest == "command"]
    takes_bank = {name for name, parser in commands.choices.items()
                  if any("--bank" in action.option_strings for action in parser._actions)}
    assert takes_bank == set(BANK_COMMAND_ARGS)


@pytest.mark.parametrize("command", BANK_COMMAND_ARGS)
def test_every_command_reads_the_bank_named_before_or_after_it(bank_copy, command):
    """`guide --bank DIR COMMAND` once silently used the built-in bank: a broken DIR shows which bank is read."""
    (bank_copy / "rules.yaml").write_text("rules: [\n", encoding="utf-8")
    for spelling, args in bank_option_spellings(bank_copy, command, *BANK_COMMAND_ARGS[command]).items():
        result = run_guide(*args)
        named = result.stdout if command == "lint" else result.stderr  # lint lists the problem as a finding
        assert result.returncode == (1 if command == "lint" else 2), (spelling, result.stderr)
        assert str(bank_copy / "rules.yaml") in named, spelling


@pytest.fixture
def bank_9(bank_copy) -> Path:
    """A working copy of the built-in bank whose version says 9.9.9."""
    meta = bank_copy / "bank.yaml"
    meta.write_text(re.sub(r'(?m)^version: ".*"$', 'version: "9.9.9"', meta.read_text(encoding="utf-8")), encoding="utf-8")
    return bank_copy


def test_run_writes_the_document_with_the_bank_named_before_or_after_it(bank_9):
    for spelling, args in bank_option_spellings(bank_9, "run", "--case", "dr-screening").items():
        result = run_guide(*args)
        assert result.returncode == 0, result.stderr
        assert "\nbank_version: 9.9.9\n" in result.stdout, spelling


def test_check_compares_with_the_bank_named_before_or_after_it_and_its_fix_keeps_that_bank(bank, bank_9, tmp_path):
    design = tmp_path / "design.md"
    assert run_guide("run", "--case", "dr-screening", "--out", str(design)).returncode == 0
    for spelling, args in bank_option_spellings(bank_9, "check", str(design)).items():
        result = run_guide(*args)
        assert result.returncode == 1, spelling
        assert f"bank: version {bank.meta.version} → 9.9.9" in result.stdout, spelling
    fix = result.stdout.split("update it with: ")[1].split()
    assert fix[:2] == ["guide", "run"] and fix[fix.index("--bank") + 1] == str(bank_9)
    assert run_guide(*fix[1:]).returncode == 0
    assert run_guide("check", str(design), "--bank", str(bank_9)).returncode == 0


def test_lint_checks_the_bank_named_before_or_after_it(bank_9):
    for spelling, args in bank_option_spellings(bank_9, "lint").items():
        result = run_guide(*args)
        assert result.returncode == 0 and f"{bank_9}: no findings" in result.stderr, spelling


def test_a_bank_given_to_a_command_that_reads_none_is_refused(tmp_path):
    result = run_guide("--bank", str(tmp_path), "schema", "--check")
    assert result.returncode == 2
    assert result.stderr == "guide: error: schema reads no question bank: drop --bank (see guide --help)\n"


def test_the_walk_through_without_a_terminal_says_to_use_plain(tmp_path):
    """Not a terminal on stdin (a pipe, a file, a cron job): one line pointing to --plain, not a hang."""
    for stdin in (subprocess.DEVNULL, subprocess.PIPE):
        done = subprocess.run([sys.executable, "-m", "guide"], stdin=stdin, capture_output=True, text=True,
                              cwd=ROOT, timeout=60, env={**os.environ, "GUIDE_HOME": str(tmp_path)})
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr == ("guide: standard input: is not a terminal, which the walk-through needs; "
                               "use guide --plain to answer line by line\n")
