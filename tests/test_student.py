"""Student copies: solutions removed, outputs cleared, parameters kept, notebooks/ left alone."""

import nbformat
import pytest

from utils import paths, student


def make_notebook():
    """Build a small executed notebook with a parameters cell, an output and a solution."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["papermill"] = {"duration": 1.0}
    parameters = nbformat.v4.new_code_cell("SEED = 0", id="parameters-cell", execution_count=1)
    parameters.metadata["tags"] = ["parameters"]
    printed = nbformat.v4.new_code_cell("print(SEED)", id="print-cell", execution_count=2)
    printed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="0\n")]
    printed.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00"}
    exercises = nbformat.v4.new_markdown_cell("## Exercises\n1. Print the seed twice.", id="exercises")
    answer_text = nbformat.v4.new_markdown_cell("Call print twice.", id="answer-text")
    answer_text.metadata["tags"] = ["solution"]
    answer_code = nbformat.v4.new_code_cell("print(SEED)\nprint(SEED)", id="answer-code", execution_count=3)
    answer_code.metadata["tags"] = ["solution"]
    notebook.cells = [parameters, printed, exercises, answer_text, answer_code]
    return notebook


@pytest.fixture
def source_dir(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(make_notebook(), folder / "01_demo.ipynb")
    nbformat.write(make_notebook(), folder / "02_demo.ipynb")
    return folder


def test_copy_removes_solution_cells(source_dir, tmp_path):
    written = student.write_student_notebooks(tmp_path / "student", source_dir)
    assert [path.name for path in written] == ["01_demo.ipynb", "02_demo.ipynb"]
    copy = nbformat.read(written[0], as_version=4)
    assert [cell.id for cell in copy.cells] == ["parameters-cell", "print-cell", "exercises"]
    assert all("solution" not in cell.metadata.get("tags", []) for cell in copy.cells)


def test_copy_clears_outputs(source_dir, tmp_path):
    copy = nbformat.read(student.write_student_notebooks(tmp_path / "student", source_dir)[0], as_version=4)
    code_cells = [cell for cell in copy.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] for cell in code_cells)
    assert all(cell.execution_count is None for cell in code_cells)
    assert all("execution" not in cell.metadata for cell in code_cells)
    assert "papermill" not in copy.metadata
    nbformat.validate(copy)


def test_copy_keeps_parameters_and_kernel(source_dir, tmp_path):
    copy = nbformat.read(student.write_student_notebooks(tmp_path / "student", source_dir)[0], as_version=4)
    tagged = [cell for cell in copy.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert tagged[0].source == "SEED = 0"
    assert copy.metadata["kernelspec"]["name"] == "python3"


def test_source_notebooks_unchanged(source_dir, tmp_path):
    before = (source_dir / "01_demo.ipynb").read_bytes()
    student.write_student_notebooks(tmp_path / "student", source_dir)
    assert (source_dir / "01_demo.ipynb").read_bytes() == before


def test_copy_replaces_earlier_copy(source_dir, tmp_path):
    out_dir = tmp_path / "student"
    out_dir.mkdir()
    (out_dir / "01_demo.ipynb").write_text("not a notebook")
    student.write_student_notebooks(out_dir, source_dir)
    assert len(nbformat.read(out_dir / "01_demo.ipynb", as_version=4).cells) == 3
    assert sorted(path.name for path in out_dir.iterdir()) == ["01_demo.ipynb", "02_demo.ipynb"]


@pytest.mark.parametrize("inside", [".", "student", "deeper/student"])
def test_out_dir_inside_notebooks_rejected(source_dir, inside):
    with pytest.raises(ValueError, match="inside the notebook folder"):
        student.write_student_notebooks(source_dir / inside, source_dir)
    assert sorted(path.name for path in source_dir.iterdir()) == ["01_demo.ipynb", "02_demo.ipynb"]


def test_empty_source_rejected(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="No .ipynb file"):
        student.write_student_notebooks(tmp_path / "student", tmp_path / "empty")


def test_main_rejects_notebooks_folder(capsys):
    with pytest.raises(SystemExit) as raised:
        student.main([str(paths.NOTEBOOKS_DIR / "student")])
    assert raised.value.code == 2
    assert "inside the notebook folder" in capsys.readouterr().err
    assert not (paths.NOTEBOOKS_DIR / "student").exists()


def test_main_writes_series(tmp_path, capsys):
    assert student.main([str(tmp_path / "student")]) == 0
    names = sorted(path.name for path in (tmp_path / "student").glob("*.ipynb"))
    assert names == sorted(path.name for path in paths.NOTEBOOKS_DIR.glob("*.ipynb"))
    for name in names:
        copy = nbformat.read(tmp_path / "student" / name, as_version=4)
        assert all("solution" not in cell.metadata.get("tags", []) for cell in copy.cells), name
        assert sum("parameters" in cell.metadata.get("tags", []) for cell in copy.cells) == 1, name
    assert str(tmp_path / "student" / names[0]) in capsys.readouterr().out
