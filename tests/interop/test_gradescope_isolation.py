"""The Gradescope zip's sandbox level: chosen when the zip is built, checked when the image is built."""

import zipfile

import pytest

from autograder.interop.errors import InteropError
from autograder.interop.gradescope import build_autograder
from autograder.interop.gradescope_run import check_isolation, main
from autograder.sandbox import isolation as iso
from tests.conftest import REPO


def _scripts(tmp_path, **kwargs) -> tuple[str, str]:
    path = build_autograder(project="p1", output=tmp_path / "a.zip", root=REPO, **kwargs)
    with zipfile.ZipFile(path) as zf:
        return zf.read("setup.sh").decode(), zf.read("run_autograder").decode()


@pytest.mark.parametrize("level", ["auto", "process"])
def test_the_level_is_baked_into_both_scripts(tmp_path, level):
    setup, run = _scripts(tmp_path, isolation=level)
    assert f'--check-isolation "{level}"' in setup
    assert f'ISOLATION="{level}"' in run and '--isolation "$ISOLATION"' in run
    assert "__ISOLATION__" not in setup + run


def test_an_unknown_level_is_refused(tmp_path):
    with pytest.raises(InteropError, match="unknown isolation 'chroot'"):
        _scripts(tmp_path, isolation="chroot")


def _no_sandbox(monkeypatch):
    for name in iso.SANDBOXES:
        monkeypatch.setattr(type(iso.BY_NAME[name]), "works", lambda self: False)


def test_image_without_a_sandbox_fails_the_build_unless_process_was_chosen(monkeypatch, capsys):
    _no_sandbox(monkeypatch)
    assert check_isolation("auto") == 1
    err = capsys.readouterr().err
    assert "no sandbox works" in err and "--isolation process" in err
    assert check_isolation("process") == 0
    assert "isolation process" in capsys.readouterr().out


def test_the_check_names_the_level_the_image_gives(capsys):
    assert main(["--check-isolation", "auto"]) == 0
    chosen = iso.choose("auto").level
    assert f"isolation {chosen}:" in capsys.readouterr().out
