"""`stance explain`: which words made the model choose its label (stance.workflows.explain)."""
from __future__ import annotations

import argparse
import sys

from .options import whole_number


def add(sub) -> None:
    xp = sub.add_parser("explain", help="which words made the model choose its label (terminal colors, --html)")
    xp.add_argument("--model", required=True, help="models:/NAME/latest, runs:/RUN_ID/model or a local path")
    xp.add_argument("--target", default=None, help="stance target (default: the model's training target)")
    xp.add_argument("--method", choices=["auto", "linear", "occlusion"], default="auto",
                    help="auto: linear coefficients for TF-IDF, word occlusion otherwise")
    xp.add_argument("--top", type=whole_number(1), default=10, help="features listed per statement")
    xp.add_argument("--html", default=None, metavar="FILE", help="also write a self-contained HTML page")
    xp.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                    help="auto: on a terminal unless NO_COLOR is set")
    xp.add_argument("texts", nargs="*", help="statements to explain")
    xp.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..workflows.explain import explain, render_html, render_terminal, use_color
    from ..prediction.refs import load_model
    from ..runtime.files import atomic_write

    if not args.texts:
        raise SystemExit("stance explain: give one or more statements to explain")
    model = load_model(args.model)
    found = explain(args.texts, model, args.target, method=args.method, top=args.top)
    color = use_color(sys.stdout, args.color)
    print("\n\n".join(render_terminal(e, color) for e in found))
    if args.html:
        replaced = Path(args.html).exists()
        # As predict's outputs: whole or not at all, never over a device or folder, and said when it replaces.
        with atomic_write(args.html) as tmp:
            tmp.write_text(render_html(found, f"stance explain: {args.model}"), encoding="utf-8")
        print(f"\n{'replaced' if replaced else 'wrote'} {args.html}")
    return 0
