"""The Label Studio round trip against a real server: `stance annotate export` -> a project created over the REST
API with the exported labelling config -> the tasks (with the model's pre-annotations) imported -> two users
annotate through the API -> JSON, JSON-MIN and CSV exports -> `stance annotate import` -> every label, annotator
and the agreement numbers arrive intact. The labelling page is opened in headless Chromium (Playwright): the
statement, the target and the model's pre-annotation are visible; the screenshot is a test artifact.

Label Studio runs from its own virtualenv (`make labelstudio`, which `make test` runs: .venv-labelstudio, or the
`label-studio` program named by $STANCE_LABEL_STUDIO), on SQLite, 127.0.0.1, a free port and a throwaway data
dir; it is started once per session (with one retry) and always stopped (SIGTERM to its process group).
The second annotator is a user created through `POST /api/users/`; the admin's token submits the second user's
annotations with `completed_by` set to that user, which Label Studio's annotation API accepts.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, private_store, shrunk_config, tiny_rows, write_jsonl
from servers import free_port, stop
from stance.cli import main
from stance.config import LABELS
from stance.data.labels import read_answers

LS = Path(os.environ.get("STANCE_LABEL_STUDIO") or ROOT / ".venv-labelstudio" / "bin" / "label-studio")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "test-artifacts"
ADMIN, PASSWORD = "admin@stance.test", "stance-test-password"
pytestmark = pytest.mark.skipif(not os.access(LS, os.X_OK), reason=f"Label Studio is not installed at {LS} "
                                "(`make labelstudio` installs it in its own virtualenv; `make test` runs it)")


# Statements the suggester was not trained on (three per label, in this order), so its scores are not certainties.
POOL = ["Every county jail should hand criminal aliens over to ICE before release.",
        "Cut the grants of any sanctuary city that ignores federal detainers.",
        "Mandatory E-Verify and more border agents will stop illegal hiring.",
        "Deportation raids split families and make neighborhoods afraid of the police.",
        "Our deputies should build trust with immigrant families, not act as ICE agents.",
        "Dreamers grew up here and deserve protection, not deportation.",
        "The library board will meet on Thursday to discuss new hours.",
        "The county fair drew a record crowd over the weekend.",
        "The budget hearing was moved to the council chambers."]


class Server:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token

    def call(self, method: str, path: str, body=None, raw: bool = False):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Authorization": f"Token {self.token}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                content = r.read()
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{method} {path}: {e.code} {e.read()[:500]!r}") from None
        return content if raw else json.loads(content)


def _start(tmp: Path, attempt: int):
    """One `label-studio start`; (process, Server) once the API answers, else (process, None)."""
    port, token = free_port(), secrets.token_hex(20)
    env = {**os.environ, "LABEL_STUDIO_USERNAME": ADMIN, "LABEL_STUDIO_PASSWORD": PASSWORD,
           "LABEL_STUDIO_USER_TOKEN": token, "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
           "LATEST_VERSION_CHECK": "false", "COLLECT_ANALYTICS": "false"}
    log = tmp / f"label-studio-{attempt}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(LS), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port",
                                 str(port), "--data-dir", str(tmp / f"data-{attempt}")], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    server, deadline = Server(f"http://127.0.0.1:{port}", token), time.time() + 240  # ~60 s on 2 cores
    while time.time() < deadline and proc.poll() is None:
        try:
            server.call("GET", "/api/projects")  # /health answers before the token does
            return proc, server
        except (OSError, AssertionError):
            time.sleep(1)
    return proc, None


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("label-studio")
    for attempt in (1, 2):
        proc, server = _start(tmp, attempt)
        if server is not None:
            break
        stop(proc)
    else:
        pytest.fail(f"label-studio did not start twice:\n{(tmp / 'label-studio-2.log').read_text()[-3000:]}")
    try:
        yield server
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A registered TF-IDF model (so tasks carry models:/stance-tfidf/1), a pool and its exported tasks + config."""
    from stance.workflows.training import train

    tmp = tmp_path_factory.mktemp("ls-export")
    corpus = write_jsonl(tmp / "tiny.jsonl", tiny_rows())
    pool = write_jsonl(tmp / "pool.jsonl", [{"id": f"s{i}", "text": t, "speaker": "council"}
                                            for i, t in enumerate(POOL)])
    with private_store(tmp):
        model = train(shrunk_config("baseline.yaml", corpus)).model_ref
        assert main(["annotate", "export", "--data", str(pool), "--model", model, "--output", str(tmp / "tasks.json"),
                     "--config-output", str(tmp / "config.xml")]) == 0
    return tmp, pool, json.loads((tmp / "tasks.json").read_text())


@pytest.fixture(scope="module")
def project(label_studio, exported):
    """A project made from the exported config, its tasks imported: (project id, {statement id: task id})."""
    tmp, _, tasks = exported
    p = label_studio.call("POST", "/api/projects", {"title": "stance round trip",
                                                    "label_config": (tmp / "config.xml").read_text()})
    done = label_studio.call("POST", f"/api/projects/{p['id']}/import", tasks)
    assert (done["task_count"], done["prediction_count"]) == (len(tasks), len(tasks))
    listed = label_studio.call("GET", f"/api/tasks?project={p['id']}&page_size=100")["tasks"]
    return p["id"], {t["data"]["statement_id"]: t["id"] for t in listed}


def _annotate(server: Server, task: int, label: str | None, user: int | None = None) -> None:
    body = {"result": [] if label is None else [{"from_name": "stance", "to_name": "text", "type": "choices",
                                                 "value": {"choices": [label]}}]}
    body |= {"was_cancelled": True} if label is None else {}
    body |= {"completed_by": user} if user is not None else {}
    server.call("POST", f"/api/tasks/{task}/annotations/", body)


def test_round_trip_keeps_every_label_annotator_and_the_agreement(label_studio, project, exported, tmp_path,
                                                                  tracking_uri, capsys):
    from sklearn.metrics import cohen_kappa_score

    pid, task_of = project
    _, pool, _ = exported
    ben = label_studio.call("POST", "/api/users/", {"email": "ben@stance.test", "username": "ben"})["id"]
    gold = {f"s{i}": lab for i, lab in enumerate(["FAVOR"] * 3 + ["AGAINST"] * 3 + ["NONE"] * 3)}
    admin_says = {sid: gold[sid] for sid in list(gold)[:8]}                  # s8: nobody labels it
    ben_says = {**{sid: gold[sid] for sid in list(gold)[:7]}, "s1": "NONE", "s4": "FAVOR"}
    for sid, lab in admin_says.items():
        _annotate(label_studio, task_of[sid], lab)
    for sid, lab in ben_says.items():
        _annotate(label_studio, task_of[sid], lab, user=ben)
    _annotate(label_studio, task_of["s7"], None, user=ben)                     # ben skips s7
    (tmp_path / "users.json").write_bytes(label_studio.call("GET", "/api/users/", raw=True))
    for kind, name in (("JSON", "export.json"), ("JSON_MIN", "min.json"), ("CSV", "export.csv")):
        (tmp_path / name).write_bytes(label_studio.call(
            "GET", f"/api/projects/{pid}/export?exportType={kind}&download_all_tasks=true", raw=True))

    labels = tmp_path / "labels.jsonl"
    args = ["--labels", str(labels), "--pool", str(pool), "--users", str(tmp_path / "users.json")]
    assert main(["annotate", "import", str(tmp_path / "export.json"), *args]) == 0
    printed = capsys.readouterr().out
    assert "added 15 answers" in printed and f"{ADMIN} 8, ben@stance.test 7" in printed, printed
    assert "1 tasks not annotated yet, 1 skipped" in printed
    assert "statement 's7'" in printed and "by ben@stance.test): skipped in Label Studio" in printed
    got = {(a.id, a.annotator, a.label) for a in read_answers(labels, list(LABELS))}
    assert got == {(s, ADMIN, lab) for s, lab in admin_says.items()} | \
        {(s, "ben@stance.test", lab) for s, lab in ben_says.items()}
    versions = {json.loads(line)["model_version"] for line in labels.read_text().splitlines()}
    assert versions == {"models:/stance-tfidf/1"}

    log = labels.read_bytes()
    for name in ("export.json", "min.json", "export.csv"):  # the same answers again, in each export format
        assert main(["annotate", "import", str(tmp_path / name), *args]) == 0
        assert "added 0 answers" in capsys.readouterr().out and labels.read_bytes() == log

    both = sorted(ben_says)
    kappa = cohen_kappa_score([admin_says[s] for s in both], [ben_says[s] for s in both], labels=list(LABELS))
    assert main(["annotate", "agreement", str(labels), str(labels), "--a-name", ADMIN,
                 "--b-name", "ben@stance.test"]) == 0
    report = capsys.readouterr().out
    assert f"7 items labelled by both: Cohen's kappa {kappa:.3f}" in report and "2 disagreements" in report
    assert "1 items labelled by only one" in report


FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it as root)")
def test_labelling_page_shows_statement_target_and_pre_annotation(label_studio, project, exported):
    sync_playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the "
                                          "project's test extras have it: pip install -e '.[test]')").sync_playwright

    pid, task_of = project
    _, _, tasks = exported
    task = next(t for t in tasks if t["data"]["statement_id"] == "s8")  # the round trip leaves it unlabelled
    prediction = task["predictions"][0]
    suggested = prediction["result"][0]["value"]["choices"][0]
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "label-studio.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 800})
            page.goto(f"{label_studio.base}/user/login/")
            page.fill("input[name=email]", ADMIN)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/user/login" not in url, timeout=60_000)
            page.goto(f"{label_studio.base}/projects/{pid}/data?task={task_of['s8']}")
            page.get_by_text(task["data"]["text"]).last.wait_for(timeout=90_000)
            page.wait_for_timeout(1500)  # the prediction's tab renders after the text
            page.screenshot(path=str(shot))
            body = page.inner_text("body")
            checked = page.locator(f"input[type=radio][name={suggested}]").is_checked()
        finally:
            browser.close()
    assert task["data"]["target"] in body
    version = prediction["model_version"]
    assert version == "models:/stance-tfidf/1"
    # The pre-annotation's tab: the model version (shortened in the middle: models:/...fidf/1) and its score.
    assert any(line.startswith(version[:8]) and line.endswith(version[-6:]) for line in body.splitlines()), body
    assert f"{prediction['score']:.2%}" in body
    assert checked, f"the suggested {suggested} is not pre-selected"
    assert shot.stat().st_size > 20_000
    if os.environ.get("STANCE_DOCS_IMAGES"):  # refresh the docs' picture: STANCE_DOCS_IMAGES=1 pytest ...
        shutil.copy(shot, ROOT / "docs" / "images" / "label-studio.png")
